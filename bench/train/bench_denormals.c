/* bench/train/bench_denormals: the attention of one training step (forward and
 * backward, the `small` student's shape: 4 heads, 2 kv heads, head size 64, two
 * 512-token documents) on the sharp attention of a trained student, with denormals
 * flushed to zero (what retort does, blas_init) against IEEE gradual underflow
 * (the baseline: what a C program gets by default), in the same run.
 * A trained head puts most of a row's probability on a few keys; exp() of the
 * other logits lands between 1e-45 and 1e-38, and each such float costs a
 * microcode assist in the products and the softmax backward.
 * usage: bench_denormals [reps=7] [logit-std=30] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cblas.h>
#include "core/rng.h"
#include "distill/model.h"
#include "distill/blas_arch.h"
#include "../machine.h"

int main(int argc, char **argv) {
    blas_init(argv);
    int reps = argc > 1 ? atoi(argv[1]) : 7;
    double std = argc > 2 ? atof(argv[2]) : 30.0;
    if (reps < 1 || reps > 64 || std <= 0) { fprintf(stderr, "usage: bench_denormals [reps 1..64] [logit-std>0]\n"); return 2; }
    model_set_threads(1);
    enum { NH = 4, NKV = 2, HD = 64, T = 512, NDOC = 2 };
    int docs[NDOC] = {T, T}, N = NDOC * T, qd = NH * HD, kvd = NKV * HD, ld = qd + 2 * kvd;
    float *qkv = malloc(sizeof(float) * N * ld), *out = malloc(sizeof(float) * N * qd);
    float *dout = malloc(sizeof(float) * N * qd), *g = malloc(sizeof(float) * N * ld);
    float *att = malloc(sizeof(float) * op_attention_floats(docs, NDOC, NH));
    float *dS = malloc(sizeof(float) * op_attention_scratch(T, NH));
    rng_t r;
    rng_seed(&r, 1);
    /* q.k / sqrt(hd) has standard deviation s^2 for q, k ~ N(0, s^2): s = sqrt(std) */
    double s = sqrt(std);
    for (int i = 0; i < N * ld; i++) qkv[i] = (float)(rng_normal(&r) * ((i % ld) < qd + kvd ? s : 1.0));
    for (int i = 0; i < N * qd; i++) dout[i] = (float)rng_normal(&r);

    double t[2][64];
    int denorm = 0;
    for (int on = 0; on < 2; on++) {
        blas_flush_denormals(on);
        for (int k = 0; k <= reps; k++) { /* k = 0: warm-up */
            double t0 = bench_now_s();
            op_attention_fwd(out, att, qkv, qkv + qd, qkv + qd + kvd, ld, docs, NDOC, NH, NKV, HD);
            op_attention_bwd(g, g + qd, g + qd + kvd, dS, dout, att, qkv, qkv + qd, qkv + qd + kvd, ld, docs, NDOC,
                             NH, NKV, HD);
            if (k) t[on][k - 1] = bench_now_s() - t0;
        }
        if (!on) /* the probabilities that cost assists */
            for (size_t i = 0; i < op_attention_floats(docs, NDOC, NH); i++)
                denorm += att[i] != 0.0f && fabsf(att[i]) < 1.17549435e-38f;
    }
    blas_flush_denormals(1);
    double off = bench_median(t[0], reps), on = bench_median(t[1], reps);
    double tok = (double)N;
    bench_print_machine(stdout);
    printf("openblas kernels: %s, 1 thread, logit std %.0f: %d denormal attention probabilities (%.1f%% of %zu)\n",
           blas_kernels(), std, denorm, 100.0 * denorm / op_attention_floats(docs, NDOC, NH),
           op_attention_floats(docs, NDOC, NH));
    printf("attention fwd+bwd, median of %d: flushed %.2f ms (%.0f tokens/s), baseline gradual underflow %.2f ms "
           "(%.0f tokens/s): %.2fx\n", reps, on * 1e3, tok / on, off * 1e3, tok / off, off / on);
    free(qkv); free(out); free(dout); free(g); free(att); free(dS);
    return 0;
}
