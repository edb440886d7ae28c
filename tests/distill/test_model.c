/* Whole-model checks: gradients against finite differences for a tiny Qwen2 and
 * a tiny Llama (llama3 RoPE scaling), packing isolation, overfitting, and
 * checkpoints (save/load, BF16, shards, both config.json key forms). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cblas.h>
#include <cjson/cJSON.h>
#include "test.h"
#include "core/err.h"
#include "core/rng.h"
#include "distill/ckpt.h"
#include "distill/model.h"
#include "distill/blas_arch.h"

static model_config tiny(int arch) {
    model_config c;
    model_config_default(&c);
    c.arch = arch; c.V = 40; c.H = 16; c.I = 24; c.L = 2; c.nh = 4; c.nkv = 2; c.hd = 4;
    c.init_std = 0.4; c.theta = 50.0;
    if (arch == ARCH_LLAMA) {
        c.qkv_bias = 0; c.tied = 0; c.eps = 1e-5;
        /* small original context so the scaled bands matter at these positions */
        c.rope_llama3 = 1; c.rs_factor = 8; c.rs_low = 1; c.rs_high = 4; c.rs_orig = 16;
    }
    return c;
}

enum { NT = 12 };
static uint32_t ids[NT] = {1, 5, 9, 3, 7, 2, 11, 13, 4, 8, 6, 10};
static int docs[2] = {5, 7};
static int32_t tgt[NT];

static double loss_of(model_t *m) {
    int M;
    return model_forward(m, ids, NT, docs, 2, tgt, &M, NULL) / M;
}

static void grad_check(int arch, const char *name) {
    model_config c = tiny(arch);
    model_t m;
    CHECK(model_create(&m, &c) == 0);
    model_init_random(&m, 3);
    /* biases and norms get random values too, so their gradients are generic */
    rng_t r;
    rng_seed(&r, 9);
    for (int i = 0; i < m.ntensors; i++)
        if (m.tensors[i].ndim == 1)
            for (size_t j = 0; j < m.tensors[i].n; j++) m.params[m.tensors[i].off + j] += (float)(0.3 * rng_normal(&r));
    /* targets: next token inside each document, some masked out */
    for (int t = 0, s = 0, d = 0; t < NT; t++) {
        if (t >= s + docs[d]) s += docs[d++];
        int last = t == s + docs[d] - 1;
        tgt[t] = (last || t % 4 == 1) ? -1 : (int32_t)ids[t + 1];
    }
    model_alloc_train(&m, 0);
    int M;
    model_forward(&m, ids, NT, docs, 2, tgt, &M, NULL);
    model_backward(&m, 1.0f / M);
    int bad = 0, total = 0;
    double worst = 0;
    for (int i = 0; i < m.ntensors; i++) {
        model_tensor *t = &m.tensors[i];
        for (int k = 0; k < 6; k++) {
            size_t j = t->off + (size_t)rng_range(&r, 0, (int64_t)t->n - 1);
            float p0 = m.params[j], h = 1e-2f;
            m.params[j] = p0 + h;
            double lp = loss_of(&m);
            m.params[j] = p0 - h;
            double lm = loss_of(&m);
            m.params[j] = p0;
            double fd = (lp - lm) / (2.0 * h), g = m.grads[j], err = fabs(fd - g);
            if (err > 1e-3 + 2e-2 * fabs(fd)) {
                bad++;
                fprintf(stderr, "%s: %s[%zu]: grad %.6g fd %.6g\n", name, t->name, j - t->off, g, fd);
            }
            if (err > worst) worst = err;
            total++;
        }
    }
    CHECKF(bad == 0, "%s: %d of %d sampled gradients off (worst %.3g)", name, bad, total, worst);
    /* gradients really are non-trivial */
    CHECK(model_grad_norm(&m) > 1e-3);
    model_free(&m);
}

/* A packed batch gives the same logits as each document run alone. */
static void packing_isolation(void) {
    model_config c = tiny(ARCH_QWEN2);
    model_t m;
    model_create(&m, &c);
    model_init_random(&m, 5);
    int32_t all[NT];
    for (int i = 0; i < NT; i++) all[i] = 0;
    int M;
    float *packed = malloc(sizeof(float) * NT * c.V), *alone = malloc(sizeof(float) * NT * c.V);
    model_forward(&m, ids, NT, docs, 2, all, &M, packed);
    model_forward(&m, ids, 5, &docs[0], 1, all, &M, alone);
    model_forward(&m, ids + 5, 7, &docs[1], 1, all, &M, alone + 5 * c.V);
    double worst = 0;
    for (int i = 0; i < NT * c.V; i++) worst = fmax(worst, fabs(packed[i] - alone[i]));
    CHECKF(worst < 1e-5, "packed vs separate documents: max diff %.3g", worst);
    /* and one document as a whole differs from the same tokens split in two */
    int one = NT;
    model_forward(&m, ids, NT, &one, 1, all, &M, alone);
    double diff = 0;
    for (int i = 5 * c.V; i < NT * c.V; i++) diff = fmax(diff, fabs(packed[i] - alone[i]));
    CHECK(diff > 1e-3);
    free(packed);
    free(alone);
    model_free(&m);
}

/* 8 samples of 16 tokens, full batch AdamW: the loss must go to about zero. */
static void overfit(void) {
    model_config c = tiny(ARCH_QWEN2);
    c.V = 64; c.H = 32; c.I = 64; c.hd = 8; c.init_std = 0.02;
    model_t m;
    model_create(&m, &c);
    model_init_random(&m, 11);
    model_alloc_train(&m, 1);
    enum { S = 8, T = 16 };
    uint32_t tok[S * T];
    int32_t tg[S * T];
    int dl[S];
    rng_t r;
    rng_seed(&r, 1);
    for (int i = 0; i < S * T; i++) tok[i] = (uint32_t)rng_range(&r, 0, c.V - 1);
    for (int s = 0; s < S; s++) {
        dl[s] = T;
        for (int t = 0; t < T; t++) tg[s * T + t] = t < T - 1 ? (int32_t)tok[s * T + t + 1] : -1;
    }
    double first = 0, loss = 0;
    for (int step = 0; step < 150; step++) {
        int M;
        model_zero_grad(&m);
        loss = model_forward(&m, tok, S * T, dl, S, tg, &M, NULL) / M;
        if (step == 0) first = loss;
        model_backward(&m, 1.0f / M);
        model_adamw(&m, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f, 0);
    }
    CHECKF(first > 3.5 && loss < 0.05, "overfit: loss %.4f -> %.4f", first, loss);
    model_free(&m);
}

static void checkpoints(const char *tmp) {
    char d1[512], d2[512], d3[512];
    snprintf(d1, sizeof d1, "%s/f32", tmp);
    snprintf(d2, sizeof d2, "%s/bf16", tmp);
    snprintf(d3, sizeof d3, "%s/sharded", tmp);
    for (int arch = 0; arch < 2; arch++) {
        model_config c = tiny(arch);
        model_t m, a, b, s;
        model_create(&m, &c);
        model_init_random(&m, 21);
        int32_t all[NT] = {0};
        int M;
        float *l0 = malloc(sizeof(float) * NT * c.V), *l1 = malloc(sizeof(float) * NT * c.V);
        model_forward(&m, ids, NT, docs, 2, all, &M, l0);
        CHECK(ckpt_save(d1, &m, CKPT_F32, NULL) == 0);
        CHECK(ckpt_load(d1, &a) == 0);
        CHECK(memcmp(&a.c, &m.c, sizeof m.c) == 0);
        CHECK(a.nparams == m.nparams && memcmp(a.params, m.params, m.nparams * 4) == 0);
        model_forward(&a, ids, NT, docs, 2, all, &M, l1);
        CHECK(memcmp(l0, l1, sizeof(float) * NT * c.V) == 0);
        /* BF16: loads as exactly the rounded weights, and logits stay close */
        CHECK(ckpt_save(d2, &m, CKPT_BF16, NULL) == 0);
        CHECK(ckpt_load(d2, &b) == 0);
        size_t off = 0;
        for (size_t i = 0; i < m.nparams; i++) off += b.params[i] != bf16_to_f32(f32_to_bf16(m.params[i]));
        CHECKF(off == 0, "bf16 round trip: %zu weights differ from their rounding", off);
        size_t changed = 0;
        for (size_t i = 0; i < m.nparams; i++) changed += b.params[i] != m.params[i];
        CHECK(changed > m.nparams / 2); /* it really was stored in 16 bits */
        model_forward(&b, ids, NT, docs, 2, all, &M, l1);
        double worst = 0, big = 0;
        for (int i = 0; i < NT * c.V; i++) worst = fmax(worst, fabs(l0[i] - l1[i])), big = fmax(big, fabs(l0[i]));
        CHECKF(worst < 0.03 * big, "bf16 logits max diff %.3g (max |logit| %.3g)", worst, big);
        /* shards + index.json */
        CHECK(ckpt_save_sharded(d3, &m, CKPT_F32, NULL, 4096) == 0);
        char p[600];
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", d3);
        CHECK(access(p, R_OK) == 0);
        snprintf(p, sizeof p, "%s/model-00002-of-", d3);
        CHECK(ckpt_load(d3, &s) == 0);
        CHECK(s.nparams == m.nparams && memcmp(s.params, m.params, m.nparams * 4) == 0);
        model_free(&m); model_free(&a); model_free(&b); model_free(&s);
        free(l0); free(l1);
    }
    /* a wrong shape is an error naming the tensor (d1 holds the Llama now) */
    model_config c = tiny(ARCH_LLAMA);
    c.I = 20;
    model_t m;
    model_create(&m, &c);
    CHECK(ckpt_load_weights(d1, &m) != 0);
    CHECKF(strstr(err_msg(), "mlp.gate_proj.weight") != NULL, "%s", err_msg());
    model_free(&m);
}

static void config_forms(void) {
    const char *old_form =
        "{\"model_type\":\"llama\",\"vocab_size\":100,\"hidden_size\":32,\"intermediate_size\":64,"
        "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"rms_norm_eps\":1e-5,"
        "\"rope_theta\":500000.0,\"rope_scaling\":{\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
        "\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"},\"torch_dtype\":\"bfloat16\","
        "\"eos_token_id\":[128001,128008]}";
    const char *new_form =
        "{\"model_type\":\"llama\",\"vocab_size\":100,\"hidden_size\":32,\"intermediate_size\":64,"
        "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"rms_norm_eps\":1e-5,"
        "\"rope_parameters\":{\"rope_theta\":500000.0,\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
        "\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"},\"dtype\":\"bfloat16\","
        "\"eos_token_id\":[128001,128008]}";
    model_config a, b;
    char da[32], db[32];
    CHECK(model_config_parse(old_form, "old", &a, da, sizeof da) == 0);
    CHECK(model_config_parse(new_form, "new", &b, db, sizeof db) == 0);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK_STR(da, "bfloat16");
    CHECK_STR(db, "bfloat16");
    CHECK(a.rope_llama3 && a.theta == 5e5 && a.rs_orig == 8192 && a.eos == 128001 && !a.qkv_bias && !a.tied);
    /* our own output parses back to the same config */
    char *js = model_config_json(&a, "float32");
    CHECK(model_config_parse(js, "ours", &b, db, sizeof db) == 0);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    free(js);
    /* presets have the published shapes */
    model_config p;
    CHECK(model_preset("qwen2.5-1.5b", &p) == 0);
    CHECK(p.H == 1536 && p.I == 8960 && p.L == 28 && p.nh == 12 && p.nkv == 2 && p.V == 151936 && p.tied);
    CHECK(model_param_count(&p) == 1543714304); /* Qwen2.5-1.5B: 1.54B */
    CHECK(model_preset("llama-3.1-8b", &p) == 0);
    CHECK(model_param_count(&p) == 8030261248); /* Llama-3.1-8B: 8.03B */
    CHECK(model_preset("nope", &p) != 0);
}

/* Hand-edited or damaged files: numbers that cannot be cast to the integer
 * they stand for are errors naming the key or tensor (a cast of 1e30 or -8 is
 * undefined behaviour), and JSON null still means "absent" as in HF configs. */
static void bad_numbers(const char *tmp) {
    const char *base = "{\"model_type\":\"qwen2\",\"vocab_size\":%s,\"hidden_size\":32,\"intermediate_size\":64,"
                       "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"head_dim\":%s,\"bos_token_id\":null}";
    const char *cases[][3] = {{"100", "8", ""}, {"1e20", "8", "vocab_size"}, {"100", "2.5", "head_dim"},
                              {"-1e300", "8", "vocab_size"}, {"100", "null", ""}};
    for (int i = 0; i < 5; i++) {
        char js[512];
        snprintf(js, sizeof js, base, cases[i][0], cases[i][1]);
        model_config c;
        int rc = model_config_parse(js, "config.json", &c, NULL, 0);
        if (!cases[i][2][0]) { CHECKF(rc == 0 && c.V == 100 && c.hd == 8 && c.bos == -1, "case %d: %s", i, err_msg()); continue; }
        CHECKF(rc != 0 && strstr(err_msg(), cases[i][2]) && strstr(err_msg(), "config.json"), "case %d: %s", i, err_msg());
    }
    /* a safetensors header whose entry for one tensor is edited */
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/badnum", tmp);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    model_config c = tiny(ARCH_QWEN2);
    model_t m;
    model_create(&m, &c);
    model_init_random(&m, 5);
    CHECK(ckpt_save(dir, &m, CKPT_F32, NULL) == 0);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    uint64_t hl;
    CHECK(fread(&hl, 8, 1, f) == 1);
    char *hdr = calloc(1, hl + 1);
    CHECK(fread(hdr, 1, hl, f) == hl);
    size_t data_n = m.nparams * 4;
    char *data = malloc(data_n);
    CHECK(fread(data, 1, data_n, f) == data_n);
    fclose(f);
    const char *edits[][2] = {{"data_offsets", "[-8, 24]"}, {"shape", "[1e30, 32]"}, {"data_offsets", "[0.5, 4]"}};
    for (int i = 0; i < 3; i++) {
        cJSON *h = cJSON_Parse(hdr);
        cJSON *e = cJSON_GetObjectItem(h, "model.embed_tokens.weight");
        CHECK(e != NULL);
        cJSON_ReplaceItemInObject(e, edits[i][0], cJSON_Parse(edits[i][1]));
        char *nh = cJSON_PrintUnformatted(h);
        uint64_t nl = strlen(nh);
        f = fopen(path, "wb");
        CHECK(fwrite(&nl, 8, 1, f) == 1 && fwrite(nh, 1, nl, f) == nl && fwrite(data, 1, data_n, f) == data_n);
        fclose(f);
        model_t back;
        model_create(&back, &c);
        int rc = ckpt_load_weights(dir, &back);
        CHECKF(rc != 0 && strstr(err_msg(), "model.embed_tokens.weight") && strstr(err_msg(), edits[i][0]) &&
                   strstr(err_msg(), "non-negative integer"),
               "edit %d: %s", i, err_msg());
        model_free(&back);
        free(nh);
        cJSON_Delete(h);
    }
    free(hdr); free(data);
    model_free(&m);
}

/* Our loops split work so that results do not depend on the thread count:
 * a forward+backward with 1 and with 3 threads gives the same bits. */
static void thread_independence(void) {
    model_config c = tiny(ARCH_LLAMA);
    c.H = 32; c.I = 48; c.hd = 8;
    float *g1 = NULL;
    double l1 = 0;
    for (int th = 1; th <= 3; th += 2) {
        model_set_threads(th);
        openblas_set_num_threads(1); /* OpenBLAS's own split is not ours to test */
        model_t m;
        model_create(&m, &c);
        model_init_random(&m, 8);
        model_alloc_train(&m, 1);
        enum { S = 6, T = 150 }; /* > 128: two attention row blocks */
        static uint32_t tok[S * T];
        static int32_t tg[S * T];
        int dl[S];
        for (int i = 0; i < S * T; i++) tok[i] = (uint32_t)((i * 31 + 7) % c.V);
        for (int s = 0; s < S; s++) dl[s] = T;
        for (int i = 0; i < S * T; i++) tg[i] = (i % T) < T - 1 && i % 3 ? (int32_t)tok[i + 1] : -1;
        int M;
        double l = model_forward(&m, tok, S * T, dl, S, tg, &M, NULL);
        model_backward(&m, 1.0f / M);
        double gn = model_grad_norm(&m);
        model_adamw(&m, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0);
        if (!g1) {
            g1 = malloc(m.nparams * 4 * 2);
            memcpy(g1, m.grads, m.nparams * 4);
            memcpy(g1 + m.nparams, m.params, m.nparams * 4);
            l1 = l + gn;
        } else {
            CHECK(l + gn == l1);
            CHECK(memcmp(g1, m.grads, m.nparams * 4) == 0);
            CHECK(memcmp(g1 + m.nparams, m.params, m.nparams * 4) == 0);
        }
        model_free(&m);
    }
    free(g1);
    model_set_threads(1);
    openblas_set_num_threads(1);
}

int main(int argc, char **argv) {
    (void)argc;
    blas_init(argv);
    openblas_set_num_threads(1);
    char tmp[] = "/tmp/retort-distill-XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    grad_check(ARCH_QWEN2, "qwen2");
    grad_check(ARCH_LLAMA, "llama");
    packing_isolation();
    overfit();
    checkpoints(tmp);
    config_forms();
    bad_numbers(tmp);
    thread_independence();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) {}
    return test_report("test_model");
}
