/* KV-cache decoding against the full forward, sampler semantics and determinism. */
#include <math.h>
#include <cblas.h>
#include "test.h"
#include "core/err.h"
#include "core/rng.h"
#include "distill/model.h"
#include "distill/infer.h"
#include "distill/blas_arch.h"

/* Full-forward logits at every position of one document. */
static void full_logits(model_t *m, const uint32_t *ids, int n, float *out) {
    int32_t *tg = malloc(sizeof(int32_t) * n);
    for (int i = 0; i < n; i++) tg[i] = 0;
    int nt = 0;
    model_forward(m, ids, n, &n, 1, tg, &nt, out);
    free(tg);
}

static double max_diff(const float *a, const float *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

static void check_arch(int arch) {
    model_config c;
    model_preset("tiny", &c);
    c.arch = arch;
    c.qkv_bias = arch == ARCH_QWEN2;
    if (arch == ARCH_LLAMA) { c.rope_llama3 = 1; c.rs_orig = 16; c.theta = 5e5; }
    model_t m;
    CHECK(model_create(&m, &c) == 0);
    model_init_random(&m, 7);
    /* biases are zero after init; make them matter */
    if (c.qkv_bias) {
        rng_t r;
        rng_seed(&r, 3);
        int qkv = c.nh * c.hd + 2 * c.nkv * c.hd;
        for (int l = 0; l < c.L; l++)
            for (int i = 0; i < qkv; i++) m.w.layers[l].bq[i] = (float)(0.1 * rng_normal(&r));
    }
    int V = c.V;
    enum { NS = 3, LMAX = 40 };
    int lens[NS] = {40, 23, 31};
    uint32_t ids[NS][LMAX];
    rng_t r;
    rng_seed(&r, 11);
    for (int s = 0; s < NS; s++)
        for (int i = 0; i < lens[s]; i++) ids[s][i] = (uint32_t)rng_range(&r, 0, V - 1);
    float *ref[NS];
    for (int s = 0; s < NS; s++) {
        ref[s] = malloc(sizeof(float) * lens[s] * V);
        model_reserve(&m, lens[s], lens[s]);
        full_logits(&m, ids[s], lens[s], ref[s]);
    }
    /* 1. one sequence, token by token */
    kv_cache kv;
    CHECK(kv_cache_init(&kv, &c, NS, LMAX) == 0);
    float *lg = malloc(sizeof(float) * LMAX * NS * V);
    double worst = 0;
    int slot = 0;
    for (int i = 0; i < lens[0]; i++) {
        int one = 1;
        CHECK(model_decode(&m, &kv, &slot, &one, &ids[0][i], 1, lg, 0) == 0);
        worst = fmax(worst, max_diff(lg, ref[0] + (size_t)i * V, V));
    }
    CHECKF(worst < 1e-4, "arch %d: token-by-token decode differs from the full forward by %g", arch, worst);

    /* 2. batched: prefill chunks of different sizes for three slots, then
     * single tokens, in the same calls (continuous-batching shape) */
    for (int s = 0; s < NS; s++) kv.len[s] = 0;
    int done[NS] = {0};
    worst = 0;
    int chunk[NS] = {5, 1, 9};
    while (done[0] < lens[0] || done[1] < lens[1] || done[2] < lens[2]) {
        int sl[NS], nt[NS], ns = 0, off = 0;
        uint32_t toks[NS * LMAX];
        for (int s = 0; s < NS; s++) {
            if (done[s] >= lens[s]) continue;
            int k = done[s] == 0 ? chunk[s] : 1 + (done[s] % 3 == 0);
            if (done[s] + k > lens[s]) k = lens[s] - done[s];
            memcpy(toks + off, &ids[s][done[s]], sizeof(uint32_t) * k);
            sl[ns] = s; nt[ns++] = k; off += k;
        }
        CHECK(model_decode(&m, &kv, sl, nt, toks, ns, lg, 1) == 0);
        for (int i = 0, t = 0; i < ns; i++) {
            int s = sl[i];
            for (int j = 0; j < nt[i]; j++, t++)
                worst = fmax(worst, max_diff(lg + (size_t)t * V, ref[s] + (size_t)(done[s] + j) * V, V));
            done[s] += nt[i];
        }
    }
    CHECKF(worst < 1e-4, "arch %d: batched decode differs from the full forward by %g", arch, worst);
    /* overflow is an error, not a crash */
    int one = 1;
    CHECK(model_decode(&m, &kv, &slot, &one, ids[0], 1, lg, 0) == -1);
    kv_cache_free(&kv);
    free(lg);
    for (int s = 0; s < NS; s++) free(ref[s]);
    model_free(&m);
}

static void check_sampler(void) {
    enum { V = 6 };
    /* logits whose softmax at T=1 is proportional to 8,4,2,1,0.5,0.5 */
    float z[V] = {logf(8), logf(4), logf(2), logf(1), logf(0.5f), logf(0.5f)};
    float p[V];
    sampler_scratch ss;
    sampler_scratch_init(&ss, V);
    sample_opts o = {.temperature = 1.0, .top_k = 0, .top_p = 1.0};
    sample_probs(z, V, &o, &ss, p);
    CHECK(fabs(p[0] - 8.0 / 16) < 1e-6 && fabs(p[5] - 0.5 / 16) < 1e-6);
    o.top_k = 2;
    sample_probs(z, V, &o, &ss, p);
    CHECK(fabs(p[0] - 2.0 / 3) < 1e-6 && fabs(p[1] - 1.0 / 3) < 1e-6 && p[2] == 0 && p[5] == 0);
    /* top-p 0.7: 8/16 = 0.5 < 0.7, 12/16 = 0.75 >= 0.7: keep the first two */
    o.top_k = 0;
    o.top_p = 0.7;
    sample_probs(z, V, &o, &ss, p);
    CHECK(fabs(p[0] - 2.0 / 3) < 1e-6 && p[2] == 0);
    /* top-p 0.75 exactly reached by two tokens; 0.76 needs a third */
    o.top_p = 0.76;
    sample_probs(z, V, &o, &ss, p);
    CHECK(p[2] > 0 && p[3] == 0 && fabs(p[0] - 8.0 / 14) < 1e-6);
    /* top-p smaller than the top token keeps only it */
    o.top_p = 0.1;
    sample_probs(z, V, &o, &ss, p);
    CHECK(p[0] == 1.0f && p[1] == 0);
    /* temperature 0.5 squares the ratios: 64,16,4,1,.25,.25 */
    o.top_p = 1.0;
    o.temperature = 0.5;
    sample_probs(z, V, &o, &ss, p);
    CHECK(fabs(p[1] / p[0] - 0.25) < 1e-5);
    /* greedy */
    o.temperature = 0;
    rng_t r;
    rng_seed(&r, 1);
    CHECK(sample_token(z, V, &o, &ss, &r) == 0);
    /* empirical frequencies with top-k 3 follow 8:4:2 */
    o.temperature = 1.0;
    o.top_k = 3;
    int cnt[V] = {0};
    for (int i = 0; i < 70000; i++) cnt[sample_token(z, V, &o, &ss, &r)]++;
    CHECKF(fabs(cnt[0] / 70000.0 - 4.0 / 7) < 0.01 && fabs(cnt[2] / 70000.0 - 1.0 / 7) < 0.01 && cnt[3] == 0,
           "counts %d %d %d %d", cnt[0], cnt[1], cnt[2], cnt[3]);
    /* a large vocabulary exercises the partial top-k selection */
    enum { BV = 1000 };
    float *bz = malloc(sizeof(float) * BV), *bp = malloc(sizeof(float) * BV);
    for (int i = 0; i < BV; i++) bz[i] = (float)((i * 37) % BV) / 100.0f;
    sampler_scratch bs;
    sampler_scratch_init(&bs, BV);
    o.top_k = 5;
    sample_probs(bz, BV, &o, &bs, bp);
    int kept = 0;
    float minkept = 1e9f, maxdrop = -1e9f;
    for (int i = 0; i < BV; i++) {
        if (bp[i] > 0) { kept++; minkept = fminf(minkept, bz[i]); } else maxdrop = fmaxf(maxdrop, bz[i]);
    }
    CHECK(kept == 5 && minkept > maxdrop);
    sampler_scratch_free(&bs);
    free(bz); free(bp);
    sampler_scratch_free(&ss);
}

/* The same seed gives the same samples, whatever the batch size. */
static void check_generate_determinism(void) {
    model_config c;
    model_preset("tiny", &c);
    model_t m;
    CHECK(model_create(&m, &c) == 0);
    model_init_random(&m, 5);
    /* a sharper model than init so that samples are not pure noise */
    for (size_t i = 0; i < m.nparams; i++) m.params[i] *= 3.0f;
    uint32_t pr[4][6] = {{1, 2, 3}, {4, 5, 6, 7, 8, 9}, {10}, {11, 12}};
    int pl[4] = {3, 6, 1, 2};
    uint32_t stop = 0;
    gen_opts o = {.sample = {.temperature = 0.8, .top_k = 50, .top_p = 0.95}, .max_new = 20, .stop = &stop, .nstop = 1};
    gen_seq a[4], b[4], d[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (gen_seq){.prompt = pr[i], .prompt_len = pl[i], .seed = 100 + i};
        b[i] = a[i];
        d[i] = a[i];
        d[i].seed = 999;
    }
    o.batch = 1;
    CHECK(infer_generate(&m, a, 4, &o, NULL) == 0);
    o.batch = 3;
    CHECK(infer_generate(&m, b, 4, &o, NULL) == 0);
    CHECK(infer_generate(&m, d, 4, &o, NULL) == 0);
    int same = 1, differs = 0;
    for (int i = 0; i < 4; i++) {
        same &= a[i].n_out == b[i].n_out && a[i].finish == b[i].finish &&
                memcmp(a[i].out, b[i].out, sizeof(uint32_t) * a[i].n_out) == 0;
        differs |= a[i].n_out != d[i].n_out || memcmp(a[i].out, d[i].out, sizeof(uint32_t) * a[i].n_out) != 0;
        CHECK(a[i].n_out <= 20 && (a[i].finish == GEN_STOP || a[i].n_out == 20));
    }
    CHECKF(same, "batch 1 and batch 3 sample differently with the same seeds");
    CHECKF(differs, "other seeds gave identical samples");
    /* greedy equals the argmax of the full forward, step by step */
    gen_seq g = {.prompt = pr[1], .prompt_len = 6};
    o.sample = (sample_opts){.temperature = 0, .top_p = 1};
    o.nstop = 0;
    o.max_new = 8;
    CHECK(infer_generate(&m, &g, 1, &o, NULL) == 0);
    CHECK(g.n_out == 8 && g.finish == GEN_LENGTH);
    uint32_t seq[14];
    memcpy(seq, pr[1], sizeof(uint32_t) * 6);
    memcpy(seq + 6, g.out, sizeof(uint32_t) * 8);
    float *lg = malloc(sizeof(float) * 14 * c.V);
    model_reserve(&m, 14, 14);
    full_logits(&m, seq, 14, lg);
    int ok = 1;
    for (int i = 5; i < 13; i++) {
        int best = 0;
        for (int v = 1; v < c.V; v++)
            if (lg[(size_t)i * c.V + v] > lg[(size_t)i * c.V + best]) best = v;
        ok &= (uint32_t)best == seq[i + 1];
    }
    CHECKF(ok, "greedy generation is not the full forward's argmax");
    free(lg);
    for (int i = 0; i < 4; i++) { gen_seq_free(&a[i]); gen_seq_free(&b[i]); gen_seq_free(&d[i]); }
    gen_seq_free(&g);
    model_free(&m);
}

int main(int argc, char **argv) {
    (void)argc;
    blas_init(argv);
    model_set_threads(1);
    check_arch(ARCH_QWEN2);
    check_arch(ARCH_LLAMA);
    check_sampler();
    check_generate_determinism();
    return test_report("test_infer");
}
