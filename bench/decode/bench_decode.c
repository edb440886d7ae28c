/* bench decode: tokens/s of KV-cache decoding (model_decode through
 * infer_generate) for the `small` student at batch 1 and 16 and a
 * Qwen2.5-0.5B-shaped model at batch 1 (random init, greedy, no stop token).
 * Baseline, measured in the same run: decoding without a cache (the full
 * forward over the whole prefix for every new token), batch 1.
 * Usage: bench_decode [threads=2] [runs=3] [new_tokens=128] [skip_05b=0] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "../machine.h"
#include "core/err.h"
#include "distill/infer.h"
#include "distill/model.h"
#include "distill/blas_arch.h"

/* CPU seconds of the whole process (all threads): on a shared machine, wall
 * time measures the neighbours too, so both are printed. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double last_cpu_share;   /* CPU seconds / wall seconds of the last measurement */

enum { PROMPT = 32 };

static double run_cached(model_t *m, int batch, int new_tokens) {
    gen_seq *q = calloc(batch, sizeof *q);
    uint32_t *pr = malloc(sizeof(uint32_t) * PROMPT * batch);
    for (int b = 0; b < batch; b++) {
        for (int i = 0; i < PROMPT; i++) pr[b * PROMPT + i] = (uint32_t)((b * 131 + i * 17) % m->c.V);
        q[b] = (gen_seq){.prompt = pr + b * PROMPT, .prompt_len = PROMPT - b % 5, .seed = (uint64_t)b};
    }
    gen_opts o = {.sample = {.temperature = 0, .top_p = 1}, .max_new = new_tokens, .batch = batch};
    long n = 0;
    double t = bench_now_s(), c = cpu_s();
    if (infer_generate(m, q, batch, &o, &n)) { err_print(); exit(1); }
    t = bench_now_s() - t;
    last_cpu_share = (cpu_s() - c) / t;
    for (int b = 0; b < batch; b++) gen_seq_free(&q[b]);
    free(q); free(pr);
    return n / t;
}

/* no cache: the whole prefix through model_forward for each new token */
static double run_uncached(model_t *m, int new_tokens) {
    int cap = PROMPT + new_tokens;
    uint32_t *ids = malloc(sizeof(uint32_t) * cap);
    int32_t *tg = malloc(sizeof(int32_t) * cap);
    float *lg = malloc(sizeof(float) * m->c.V);
    for (int i = 0; i < PROMPT; i++) ids[i] = (uint32_t)((i * 17) % m->c.V);
    model_reserve(m, cap, cap);
    double t = bench_now_s(), c = cpu_s();
    for (int n = PROMPT; n < cap; n++) {
        for (int i = 0; i < n; i++) tg[i] = i == n - 1 ? 0 : -1;
        int nt = 0;
        model_forward(m, ids, n, &n, 1, tg, &nt, lg);
        int best = 0;
        for (int v = 1; v < m->c.V; v++) if (lg[v] > lg[best]) best = v;
        ids[n] = (uint32_t)best;
    }
    t = bench_now_s() - t;
    last_cpu_share = (cpu_s() - c) / t;
    free(ids); free(tg); free(lg);
    return new_tokens / t;
}

static double median_of(int runs, double (*f)(model_t *, int, int), model_t *m, int batch, int nt) {
    double v[16], sh[16];
    for (int r = 0; r < runs; r++) { v[r] = f(m, batch, nt); sh[r] = last_cpu_share; }
    last_cpu_share = bench_median(sh, runs);
    return bench_median(v, runs);
}
static double uncached_adapter(model_t *m, int batch, int nt) { (void)batch; return run_uncached(m, nt); }

int main(int argc, char **argv) {
    blas_init(argv);
    int threads = argc > 1 ? atoi(argv[1]) : 2, runs = argc > 2 ? atoi(argv[2]) : 3;
    int new_tokens = argc > 3 ? atoi(argv[3]) : 128, skip05 = argc > 4 ? atoi(argv[4]) : 0;
    if (runs < 1) runs = 1;
    if (runs > 16) runs = 16;
    model_set_threads(threads);
    bench_print_machine(stdout);
    printf("openblas kernels: %s\n", blas_kernels());
    printf("threads %d, prompt %d tokens, %d new tokens per sequence, greedy, median of %d runs\n", threads, PROMPT,
           new_tokens, runs);
    model_config c;
    model_t m;
    model_preset("small", &c);
    if (model_create(&m, &c)) { err_print(); return 1; }
    model_init_random(&m, 1);
    printf("small: %.2fM parameters (V %d, H %d, L %d)\n", m.nparams / 1e6, c.V, c.H, c.L);
    double base = median_of(runs, uncached_adapter, &m, 1, new_tokens), sb = last_cpu_share;
    double b1 = median_of(runs, run_cached, &m, 1, new_tokens), s1 = last_cpu_share;
    double b16 = median_of(runs, run_cached, &m, 16, new_tokens), s16 = last_cpu_share;
    printf("(cpu = CPU seconds per wall second while measuring; below %d the machine was shared)\n", threads);
    printf("small  batch  1  no cache (baseline)  %8.1f tokens/s  cpu %.2f\n", base, sb);
    printf("small  batch  1  KV cache             %8.1f tokens/s  cpu %.2f  (%.1fx the baseline)\n", b1, s1, b1 / base);
    printf("small  batch 16  KV cache             %8.1f tokens/s  cpu %.2f  (%.1fx the baseline, %.1fx batch 1)\n", b16, s16,
           b16 / base, b16 / b1);
    model_free(&m);
    if (!skip05) {
        model_preset("qwen2.5-0.5b", &c);
        if (model_create(&m, &c)) { err_print(); return 1; }
        double t = bench_now_s();
        model_init_random(&m, 1);
        printf("qwen2.5-0.5b shape: %.1fM parameters, random init in %.1f s\n", m.nparams / 1e6, bench_now_s() - t);
        int nt = new_tokens < 32 ? new_tokens : 32;
        double q1 = median_of(runs, run_cached, &m, 1, nt), sq = last_cpu_share;
        double qb = run_uncached(&m, 8), sqb = last_cpu_share;
        printf("0.5b   batch  1  no cache (baseline)  %8.2f tokens/s  cpu %.2f  (8 new tokens, one run)\n", qb, sqb);
        printf("0.5b   batch  1  KV cache             %8.2f tokens/s  cpu %.2f  (%d new tokens; %.1fx the baseline)\n", q1, sq, nt,
               q1 / qb);
        model_free(&m);
    }
    return 0;
}
