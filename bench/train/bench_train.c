/* bench/train: tokens/s and MFU of one training step (forward, backward, AdamW)
 * for the ~10M-parameter Qwen2 shape at sequence length 512, against an sgemm
 * peak measured in the same run with the same threads.
 * usage: bench_train [threads=2] [batch=8] [seq=512] [steps=5] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "core/rng.h"
#include "distill/model.h"
#include "distill/blas_arch.h"
#include "../machine.h"

int main(int argc, char **argv) {
    blas_init(argv);
    int threads = argc > 1 ? atoi(argv[1]) : 2, B = argc > 2 ? atoi(argv[2]) : 8, T = argc > 3 ? atoi(argv[3]) : 512;
    int steps = argc > 4 ? atoi(argv[4]) : 5;
    model_set_threads(threads);

    /* sgemm peak: square 2048 products, the best shape OpenBLAS has */
    int n = 2048;
    float *A = malloc(sizeof(float) * n * n), *Bm = malloc(sizeof(float) * n * n), *C = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++) A[i] = (float)(i % 7) * 0.1f, Bm[i] = (float)(i % 5) * 0.1f;
    double pk[5];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, A, n, Bm, n, 0, C, n);
    for (int r = 0; r < 5; r++) {
        double t0 = bench_now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, A, n, Bm, n, 0, C, n);
        pk[r] = 2.0 * n * n * n / (bench_now_s() - t0) / 1e9;
    }
    qsort(pk, 5, sizeof *pk, bench_cmp_double);
    double peak = pk[4]; /* best of 5: the ceiling */
    free(A); free(Bm); free(C);

    model_config c;
    model_config_default(&c);
    c.arch = ARCH_QWEN2; c.V = 4096; c.H = 384; c.I = 1024; c.L = 6; c.nh = 6; c.nkv = 2; c.hd = 64; c.tied = 1;
    model_t m;
    if (model_create(&m, &c)) return 1;
    model_init_random(&m, 1);
    model_alloc_train(&m, 1);
    int N = B * T;
    uint32_t *ids = malloc(sizeof(uint32_t) * N);
    int32_t *tgt = malloc(sizeof(int32_t) * N);
    int *docs = malloc(sizeof(int) * B);
    rng_t r;
    rng_seed(&r, 1);
    for (int i = 0; i < N; i++) ids[i] = (uint32_t)rng_range(&r, 0, c.V - 1);
    for (int b = 0; b < B; b++) docs[b] = T;
    for (int i = 0; i < N; i++) tgt[i] = (i % T) < T - 1 ? (int32_t)ids[i + 1] : -1;
    model_reserve(&m, N, T);

    /* FLOPs per step: 6 * (matmul weights) per token for forward+backward, plus
     * attention (QK^T and PV: 2*2*hd*nh per (query, visible key) forward, x3 with backward) */
    double qd = c.nh * c.hd, kvd = c.nkv * c.hd;
    double mm = c.L * (c.H * (qd + 2 * kvd) + qd * c.H + 3.0 * c.H * c.I) + (double)c.V * c.H;
    double fl_tok = 6.0 * mm, att = 0;
    for (int b = 0; b < B; b++) att += (double)T * (T + 1) / 2;   /* visible (query, key) pairs */
    double flops = fl_tok * N * (double)(T - 1) / T + 6.0 * fl_tok * 0 + 3.0 * 4.0 * c.hd * c.nh * att * c.L;
    /* the LM head runs only where there is a target: T-1 of T positions */
    flops = 6.0 * (mm - (double)c.V * c.H) * N + 6.0 * (double)c.V * c.H * (N - B) + 3.0 * 4.0 * c.hd * c.nh * att * c.L;

    double tps[64], sec[64];
    int M;
    for (int s = 0; s < steps + 1; s++) {
        double t0 = bench_now_s();
        model_zero_grad(&m);
        double loss = model_forward(&m, ids, N, docs, B, tgt, &M, NULL);
        model_backward(&m, 1.0f / M);
        model_adamw(&m, 1e-4f, 0.9f, 0.999f, 1e-8f, 0.01f, 0);
        double dt = bench_now_s() - t0;
        if (s > 0) { tps[s - 1] = N / dt; sec[s - 1] = dt; }
        if (s == 0) fprintf(stderr, "warmup step: loss %.4f, %.2f s\n", loss / M, dt);
    }
    double t_med = bench_median(sec, steps), tok_s = N / t_med;
    (void)tps;
    double achieved = flops / t_med / 1e9;
    printf("shape: Qwen2 H=%d L=%d heads=%d kv=%d I=%d vocab=%d (%.2fM params), batch %d x %d tokens, %d threads\n",
           c.H, c.L, c.nh, c.nkv, c.I, c.V, m.nparams / 1e6, B, T, threads);
    printf("openblas kernels: %s\n", blas_kernels());
    printf("sgemm peak (2048^3, best of 5): %.1f GFLOP/s\n", peak);
    printf("retort: %.0f tokens/s, step %.3f s (median of %d), %.1f GFLOP/s, MFU %.1f%%\n", tok_s, t_med, steps,
           achieved, 100.0 * achieved / peak);
    printf("RESULT tokens_per_s=%.1f mfu=%.4f peak_gflops=%.1f flops_per_step=%.4g\n", tok_s, achieved / peak, peak, flops);
    model_free(&m);
    free(ids); free(tgt); free(docs);
    return 0;
}
