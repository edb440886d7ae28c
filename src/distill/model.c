/* The student model: parameter layout, presets, memory accounting, and the
 * forward/backward passes composed from the operations in ops.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cblas.h>
#include "distill/model.h"
#include "distill/par.h"
#include "core/err.h"
#include "core/rng.h"
#include "core/sys.h"

void model_config_default(model_config *c) {
    *c = (model_config){.arch = ARCH_QWEN2, .V = 512, .H = 64, .I = 128, .L = 2, .nh = 4, .nkv = 2, .hd = 16,
                        .max_pos = 32768, .theta = 1e6, .eps = 1e-6, .tied = 1, .qkv_bias = 1, .rs_factor = 8,
                        .rs_low = 1, .rs_high = 4, .rs_orig = 8192, .bos = -1, .eos = -1, .init_std = 0.02};
}

/* Published shapes (ARCHITECTURE §4) plus two small ones for tests and demos. */
static const struct preset {
    const char *name;
    int arch, V, H, I, L, nh, nkv, max_pos, tied, llama3;
    double theta, eps;
    int bos, eos;
} presets[] = {
    {"tiny", ARCH_QWEN2, 512, 64, 128, 2, 4, 2, 4096, 1, 0, 1e6, 1e-6, -1, -1},
    {"small", ARCH_QWEN2, 4096, 256, 768, 4, 4, 2, 4096, 1, 0, 1e6, 1e-6, -1, -1},
    {"qwen2.5-0.5b", ARCH_QWEN2, 151936, 896, 4864, 24, 14, 2, 32768, 1, 0, 1e6, 1e-6, 151643, 151643},
    {"qwen2.5-1.5b", ARCH_QWEN2, 151936, 1536, 8960, 28, 12, 2, 32768, 1, 0, 1e6, 1e-6, 151643, 151643},
    {"r1-distill-qwen-1.5b", ARCH_QWEN2, 151936, 1536, 8960, 28, 12, 2, 131072, 0, 0, 1e4, 1e-6, 151646, 151643},
    {"qwen2.5-7b", ARCH_QWEN2, 152064, 3584, 18944, 28, 28, 4, 32768, 0, 0, 1e6, 1e-6, 151643, 151643},
    {"llama-3.1-8b", ARCH_LLAMA, 128256, 4096, 14336, 32, 32, 8, 131072, 0, 1, 5e5, 1e-5, 128000, 128001},
};

const char *model_preset_names(void) {
    return "tiny|small|qwen2.5-0.5b|qwen2.5-1.5b|r1-distill-qwen-1.5b|qwen2.5-7b|llama-3.1-8b";
}

int model_preset(const char *name, model_config *c) {
    for (size_t i = 0; i < sizeof presets / sizeof *presets; i++) {
        const struct preset *p = &presets[i];
        if (strcmp(p->name, name) != 0) continue;
        model_config_default(c);
        c->arch = p->arch; c->V = p->V; c->H = p->H; c->I = p->I; c->L = p->L; c->nh = p->nh; c->nkv = p->nkv;
        c->hd = p->H / p->nh; c->max_pos = p->max_pos; c->tied = p->tied; c->rope_llama3 = p->llama3;
        c->theta = p->theta; c->eps = p->eps; c->bos = p->bos; c->eos = p->eos;
        c->qkv_bias = p->arch == ARCH_QWEN2;
        return 0;
    }
    err_set("unknown preset '%s' (one of %s)", name, model_preset_names());
    return -1;
}

int model_config_check(const model_config *c) {
    if (c->V < 1 || c->H < 1 || c->I < 1 || c->L < 1 || c->nh < 1 || c->nkv < 1 || c->hd < 2) {
        err_set("config: sizes must be positive (vocab %d, hidden %d, intermediate %d, layers %d, heads %d, kv heads %d)",
                c->V, c->H, c->I, c->L, c->nh, c->nkv);
        return -1;
    }
    if (c->nh % c->nkv) { err_set("config: %d heads is not a multiple of %d kv heads", c->nh, c->nkv); return -1; }
    if (c->hd % 2) { err_set("config: head dim %d is odd (RoPE pairs halves)", c->hd); return -1; }
    if (!(c->eps > 0) || !(c->theta > 0)) { err_set("config: rms_norm_eps and rope_theta must be positive"); return -1; }
    if (c->rope_llama3 && !(c->rs_factor > 0 && c->rs_high > c->rs_low && c->rs_orig > 0)) {
        err_set("config: llama3 rope_scaling needs factor > 0, high_freq_factor > low_freq_factor, original_max_position_embeddings > 0");
        return -1;
    }
    return 0;
}

/* ---- parameter table ---- */
static void add_tensor(model_t *m, int *cap, size_t *off, const char *name, int r, int c, int is_matrix) {
    if (m->ntensors == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        m->tensors = xrealloc(m->tensors, (size_t)*cap * sizeof *m->tensors);
    }
    model_tensor *t = &m->tensors[m->ntensors++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = c ? 2 : 1;
    t->shape[0] = r;
    t->shape[1] = c;
    t->off = *off;
    t->n = (size_t)r * (c ? c : 1);
    t->is_matrix = is_matrix;
    *off += t->n;
}

static void build_table(model_t *m) {
    const model_config *c = &m->c;
    int qd = c->nh * c->hd, kvd = c->nkv * c->hd, cap = 0;
    size_t off = 0;
    char nm[64];
    m->ntensors = 0;
    add_tensor(m, &cap, &off, "model.embed_tokens.weight", c->V, c->H, 1);
    for (int l = 0; l < c->L; l++) {
#define T(suffix, r, cc, mat) (snprintf(nm, sizeof nm, "model.layers.%d.%s", l, suffix), add_tensor(m, &cap, &off, nm, r, cc, mat))
        T("input_layernorm.weight", c->H, 0, 0);
        T("self_attn.q_proj.weight", qd, c->H, 1);
        T("self_attn.k_proj.weight", kvd, c->H, 1);
        T("self_attn.v_proj.weight", kvd, c->H, 1);
        if (c->qkv_bias) {
            T("self_attn.q_proj.bias", qd, 0, 0);
            T("self_attn.k_proj.bias", kvd, 0, 0);
            T("self_attn.v_proj.bias", kvd, 0, 0);
        }
        T("self_attn.o_proj.weight", c->H, qd, 1);
        T("post_attention_layernorm.weight", c->H, 0, 0);
        T("mlp.gate_proj.weight", c->I, c->H, 1);
        T("mlp.up_proj.weight", c->I, c->H, 1);
        T("mlp.down_proj.weight", c->H, c->I, 1);
#undef T
    }
    add_tensor(m, &cap, &off, "model.norm.weight", c->H, 0, 0);
    if (!c->tied) add_tensor(m, &cap, &off, "lm_head.weight", c->V, c->H, 1);
    m->nparams = off;
}

/* Views into a buffer laid out as the table says (walks it in the same order). */
static void make_views(const model_t *m, float *base, model_w *w) {
    const model_config *c = &m->c;
    const model_tensor *t = m->tensors;
    w->embed = base + (t++)->off;
    for (int l = 0; l < c->L; l++) {
        layer_w *lw = &w->layers[l];
        lw->ln1 = base + (t++)->off;
        lw->wq = base + (t++)->off;
        lw->wk = base + (t++)->off;
        lw->wv = base + (t++)->off;
        if (c->qkv_bias) {
            lw->bq = base + (t++)->off;
            lw->bk = base + (t++)->off;
            lw->bv = base + (t++)->off;
        } else lw->bq = lw->bk = lw->bv = NULL;
        lw->wo = base + (t++)->off;
        lw->ln2 = base + (t++)->off;
        lw->wg = base + (t++)->off;
        lw->wu = base + (t++)->off;
        lw->wd = base + (t++)->off;
    }
    w->norm = base + (t++)->off;
    w->head = c->tied ? w->embed : base + (t++)->off;
}

size_t model_param_count(const model_config *c) {
    size_t qd = (size_t)c->nh * c->hd, kvd = (size_t)c->nkv * c->hd, H = c->H, I = c->I;
    size_t layer = 2 * H + H * (qd + 2 * kvd) + (c->qkv_bias ? qd + 2 * kvd : 0) + qd * H + 3 * H * I;
    return (size_t)c->V * H * (c->tied ? 1 : 2) + (size_t)c->L * layer + H;
}

static size_t act_floats_per_token(const model_config *c) {
    size_t qd = (size_t)c->nh * c->hd, kvd = (size_t)c->nkv * c->hd, H = c->H, I = c->I, L = c->L;
    size_t QKV = qd + 2 * kvd;
    size_t kept = (L + 1) * H + L * (H + 1 + QKV + qd + H + H + 1 + 2 * I + I) + H + 1;
    size_t scratch = 2 * H + QKV + qd + I + 2 * I + 2; /* + per-row loss (double) */
    size_t head = 2 * H + (size_t)c->V; /* xrows, dxrows, logits when every position has a target */
    return kept + scratch + head;
}

size_t model_mem_estimate(const model_config *c, int n_tokens, int doc_len, int train, int optimizer) {
    size_t P = model_param_count(c);
    size_t bufs = 1 + (train ? 1 : 0) + (optimizer ? 2 : 0);
    size_t docs = n_tokens / (doc_len > 0 ? doc_len : 1) + 1;
    int dl = doc_len > 0 ? doc_len : 1;
    size_t att = docs * op_attention_floats(&dl, 1, c->nh) * c->L + op_attention_scratch(dl, c->nh);
    size_t rope = (size_t)(doc_len + 1) * c->hd;
    return sizeof(float) * (P * bufs + (size_t)n_tokens * act_floats_per_token(c) + att + rope);
}

static int check_mem(size_t need, const char *what) {
    size_t avail = mem_available_bytes();
    fprintf(stderr, "retort: %s needs about %.2f GiB (%.2f GiB available)\n", what, need / 1073741824.0,
            avail / 1073741824.0);
    if (avail && need > avail) {
        err_set("%s needs about %.2f GiB but only %.2f GiB is available (MemAvailable); use a smaller preset, "
                "shorter --seq-len or a smaller --batch", what, need / 1073741824.0, avail / 1073741824.0);
        return -1;
    }
    return 0;
}

int model_create(model_t *m, const model_config *c) {
    memset(m, 0, sizeof *m);
    if (model_config_check(c)) return -1;
    m->c = *c;
    build_table(m);
    char what[64];
    snprintf(what, sizeof what, "model parameters (%.1fM)", m->nparams / 1e6);
    if (m->nparams * sizeof(float) > (64u << 20) && check_mem(m->nparams * sizeof(float), what)) {
        free(m->tensors);
        memset(m, 0, sizeof *m);
        return -1;
    }
    m->params = calloc(m->nparams, sizeof(float));
    if (!m->params) {
        err_set("cannot allocate %.2f GiB for parameters", m->nparams * 4.0 / 1073741824.0);
        free(m->tensors);
        return -1;
    }
    m->w.layers = xcalloc(c->L, sizeof(layer_w));
    m->g.layers = xcalloc(c->L, sizeof(layer_w));
    make_views(m, m->params, &m->w);
    return 0;
}

static void free_acts(model_t *m) {
    model_acts *a = &m->a;
    float **all[] = {&a->resid, &a->ln1, &a->rstd1, &a->qkv, &a->att, &a->ao, &a->mid, &a->ln2, &a->rstd2,
                     &a->gu, &a->hm, &a->lnf, &a->rstdf, &a->xrows, &a->logits, &a->d1, &a->d2, &a->dqkv,
                     &a->dao, &a->dh, &a->dgu, &a->dS, &a->dxrows};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) { free(*all[i]); *all[i] = NULL; }
    a->cap = 0; a->cap_att = 0; a->cap_rows = 0; a->cap_doc = 0;
}

void model_free(model_t *m) {
    free_acts(m);
    free(m->params); free(m->grads); free(m->m); free(m->v);
    free(m->tensors); free(m->w.layers); free(m->g.layers);
    free(m->rope_cos); free(m->rope_sin); free(m->nll);
    free(m->b.ids); free(m->b.doc_len); free(m->b.pos); free(m->b.rows); free(m->b.tgt);
    memset(m, 0, sizeof *m);
}

model_tensor *model_find_tensor(model_t *m, const char *name) {
    for (int i = 0; i < m->ntensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}

void model_init_random(model_t *m, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed);
    for (int i = 0; i < m->ntensors; i++) {
        model_tensor *t = &m->tensors[i];
        float *p = m->params + t->off;
        if (t->ndim == 2) /* Box-Muller, both outputs used: init of billions of weights takes a while */
            for (size_t j = 0; j < t->n; j += 2) {
                double u1 = 1.0 - rng_uniform(&r), u2 = rng_uniform(&r), rad = sqrt(-2.0 * log(u1)) * m->c.init_std;
                p[j] = (float)(rad * cos(2.0 * M_PI * u2));
                if (j + 1 < t->n) p[j + 1] = (float)(rad * sin(2.0 * M_PI * u2));
            }
        else if (strstr(t->name, "norm"))
            for (size_t j = 0; j < t->n; j++) p[j] = 1.0f;
        else memset(p, 0, t->n * sizeof *p);
    }
}

void model_alloc_train(model_t *m, int optimizer) {
    if (!m->grads) {
        m->grads = xcalloc(m->nparams, sizeof(float));
        make_views(m, m->grads, &m->g);
    }
    if (optimizer && !m->m) {
        m->m = xcalloc(m->nparams, sizeof(float));
        m->v = xcalloc(m->nparams, sizeof(float));
    }
}

void rope_tables(const model_config *c, int len, float *cos_t, float *sin_t) {
    int half = c->hd / 2;
    for (int j = 0; j < half; j++) {
        /* inv_freq as Hugging Face computes it: 1 / theta^(2j/hd) */
        double inv = 1.0 / pow(c->theta, (2.0 * j) / c->hd);
        if (c->rope_llama3) {
            double low_wl = c->rs_orig / c->rs_low, high_wl = c->rs_orig / c->rs_high;
            double wl = 2.0 * M_PI / inv;
            double f = wl > low_wl ? inv / c->rs_factor : inv;
            if (!(wl < high_wl) && !(wl > low_wl)) {
                double sm = (c->rs_orig / wl - c->rs_low) / (c->rs_high - c->rs_low);
                f = (1.0 - sm) * f / c->rs_factor + sm * f;
            }
            inv = f;
        }
        float invf = (float)inv; /* HF keeps inv_freq in fp32 and multiplies in fp32 */
        for (int p = 0; p < len; p++) {
            float ang = (float)p * invf;
            cos_t[(size_t)p * half + j] = cosf(ang);
            sin_t[(size_t)p * half + j] = sinf(ang);
        }
    }
}

void model_reserve(model_t *m, int n_tokens, int doc_len) {
    const model_config *c = &m->c;
    if (doc_len > n_tokens) doc_len = n_tokens;
    if (doc_len + 1 > m->rope_len) {
        free(m->rope_cos); free(m->rope_sin);
        m->rope_len = doc_len + 1;
        m->rope_cos = xmalloc(sizeof(float) * m->rope_len * (c->hd / 2));
        m->rope_sin = xmalloc(sizeof(float) * m->rope_len * (c->hd / 2));
        rope_tables(c, m->rope_len, m->rope_cos, m->rope_sin);
    }
    int docs = n_tokens / doc_len + 1;
    size_t att = (size_t)docs * op_attention_floats(&doc_len, 1, c->nh);
    /* a batch of N tokens cut into documents of at most doc_len: the most
     * probability storage comes from full documents plus one remainder */
    model_acts *a = &m->a;
    if (n_tokens <= a->cap && att <= a->cap_att && doc_len <= a->cap_doc) return;
    free_acts(m);
    size_t N = n_tokens, H = c->H, I = c->I, L = c->L, qd = (size_t)c->nh * c->hd, kvd = (size_t)c->nkv * c->hd;
    size_t QKV = qd + 2 * kvd;
    a->cap = n_tokens;
    a->cap_att = att;
    a->cap_rows = n_tokens;
    a->cap_doc = doc_len;
    a->resid = xmalloc(sizeof(float) * (L + 1) * N * H);
    a->ln1 = xmalloc(sizeof(float) * L * N * H);
    a->rstd1 = xmalloc(sizeof(float) * L * N);
    a->qkv = xmalloc(sizeof(float) * L * N * QKV);
    a->att = xmalloc(sizeof(float) * L * att);
    a->ao = xmalloc(sizeof(float) * L * N * qd);
    a->mid = xmalloc(sizeof(float) * L * N * H);
    a->ln2 = xmalloc(sizeof(float) * L * N * H);
    a->rstd2 = xmalloc(sizeof(float) * L * N);
    a->gu = xmalloc(sizeof(float) * L * N * 2 * I);
    a->hm = xmalloc(sizeof(float) * L * N * I);
    a->lnf = xmalloc(sizeof(float) * N * H);
    a->rstdf = xmalloc(sizeof(float) * N);
    a->xrows = xmalloc(sizeof(float) * N * H);
    a->logits = xmalloc(sizeof(float) * N * c->V);
    a->d1 = xmalloc(sizeof(float) * N * H);
    a->d2 = xmalloc(sizeof(float) * N * H);
    a->dqkv = xmalloc(sizeof(float) * N * QKV);
    a->dao = xmalloc(sizeof(float) * N * qd);
    a->dh = xmalloc(sizeof(float) * N * I);
    a->dgu = xmalloc(sizeof(float) * N * 2 * I);
    a->dS = xmalloc(sizeof(float) * op_attention_scratch(doc_len, c->nh));
    a->dxrows = xmalloc(sizeof(float) * N * H);
    m->nll = xrealloc(m->nll, sizeof(double) * N);
    m->b.ids = xrealloc(m->b.ids, sizeof(uint32_t) * N);
    m->b.pos = xrealloc(m->b.pos, sizeof(int32_t) * N);
    m->b.rows = xrealloc(m->b.rows, sizeof(int32_t) * N);
    m->b.tgt = xrealloc(m->b.tgt, sizeof(int32_t) * N);
}

/* ---- forward ---- */
typedef struct {
    float *z;
    const int32_t *tgt;
    int V;
    double *nll;
    float scale;
} head_ctx;

/* softmax in place and the negative log-likelihood of each row's target */
static void head_softmax_rows(void *p, int r0, int r1, int tid) {
    (void)tid;
    head_ctx *c = p;
    for (int r = r0; r < r1; r++) {
        float *z = c->z + (size_t)r * c->V;
        float mx = -INFINITY;
        for (int i = 0; i < c->V; i++) mx = z[i] > mx ? z[i] : mx;
        float sum = 0.0f;
        for (int i = 0; i < c->V; i++) {
            z[i] = expf(z[i] - mx);
            sum += z[i];
        }
        float inv = 1.0f / sum;
        for (int i = 0; i < c->V; i++) z[i] *= inv;
        c->nll[r] = -log((double)z[c->tgt[r]]);
    }
}

/* dlogits = (softmax - onehot) * scale, in place */
static void head_dlogits_rows(void *p, int r0, int r1, int tid) {
    (void)tid;
    head_ctx *c = p;
    for (int r = r0; r < r1; r++) {
        float *z = c->z + (size_t)r * c->V;
        z[c->tgt[r]] -= 1.0f;
        for (int i = 0; i < c->V; i++) z[i] *= c->scale;
    }
}
double model_forward(model_t *m, const uint32_t *ids, int N, const int *doc_len, int ndocs, const int32_t *targets,
                     int *n_targets, float *logits_out) {
    const model_config *c = &m->c;
    int H = c->H, I = c->I, V = c->V, qd = c->nh * c->hd, kvd = c->nkv * c->hd, QKV = qd + 2 * kvd;
    int maxdoc = 1;
    for (int d = 0; d < ndocs; d++) maxdoc = doc_len[d] > maxdoc ? doc_len[d] : maxdoc;
    size_t attn = op_attention_floats(doc_len, ndocs, c->nh);
    if (N > m->a.cap || maxdoc > m->a.cap_doc)
        model_reserve(m, N > m->a.cap ? N : m->a.cap, maxdoc > m->a.cap_doc ? maxdoc : m->a.cap_doc);
    if (attn > m->a.cap_att) { /* unusual document mix: grow probability storage */
        free(m->a.att);
        m->a.att = xmalloc(sizeof(float) * c->L * attn);
        m->a.cap_att = attn;
    }
    model_acts *a = &m->a;
    model_batch *b = &m->b;
    b->N = N;
    memcpy(b->ids, ids, sizeof(uint32_t) * N);
    if (ndocs > b->cap_docs) {
        b->cap_docs = ndocs;
        b->doc_len = xrealloc(b->doc_len, sizeof(int) * ndocs);
    }
    memcpy(b->doc_len, doc_len, sizeof(int) * ndocs);
    b->ndocs = ndocs;
    for (int d = 0, t = 0; d < ndocs; d++)
        for (int i = 0; i < doc_len[d]; i++) b->pos[t++] = i;
    b->M = 0;
    for (int t = 0; t < N; t++)
        if (targets[t] >= 0) {
            b->rows[b->M] = t;
            b->tgt[b->M++] = targets[t];
        }
    b->att_used = attn;

    /* embedding */
    for (int t = 0; t < N; t++) memcpy(a->resid + (size_t)t * H, m->w.embed + (size_t)ids[t] * H, sizeof(float) * H);

    for (int l = 0; l < c->L; l++) {
        const layer_w *w = &m->w.layers[l];
        float *x = a->resid + (size_t)l * N * H, *xn = a->resid + (size_t)(l + 1) * N * H;
        float *ln1 = a->ln1 + (size_t)l * N * H, *rstd1 = a->rstd1 + (size_t)l * N;
        float *qkv = a->qkv + (size_t)l * N * QKV, *att = a->att + (size_t)l * a->cap_att;
        float *ao = a->ao + (size_t)l * N * qd, *mid = a->mid + (size_t)l * N * H;
        float *ln2 = a->ln2 + (size_t)l * N * H, *rstd2 = a->rstd2 + (size_t)l * N;
        float *gu = a->gu + (size_t)l * N * 2 * I, *hm = a->hm + (size_t)l * N * I;

        op_rmsnorm_fwd(ln1, rstd1, x, w->ln1, N, H, (float)c->eps);
        op_matmul_fwd(qkv, ln1, w->wq, w->bq, N, H, QKV);   /* q|k|v in one sgemm */
        op_rope_fwd(qkv, QKV, b->pos, m->rope_cos, m->rope_sin, N, c->nh, c->hd);
        op_rope_fwd(qkv + qd, QKV, b->pos, m->rope_cos, m->rope_sin, N, c->nkv, c->hd);
        op_attention_fwd(ao, att, qkv, qkv + qd, qkv + qd + kvd, QKV, doc_len, ndocs, c->nh, c->nkv, c->hd);
        memcpy(mid, x, sizeof(float) * N * H);  /* residual: mid = x + ao Wo^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, H, qd, 1.0f, ao, qd, w->wo, qd, 1.0f, mid, H);
        op_rmsnorm_fwd(ln2, rstd2, mid, w->ln2, N, H, (float)c->eps);
        op_matmul_fwd(gu, ln2, w->wg, NULL, N, H, 2 * I);     /* gate|up in one sgemm */
        op_swiglu_fwd(hm, gu, N, I);
        memcpy(xn, mid, sizeof(float) * N * H);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, H, I, 1.0f, hm, I, w->wd, I, 1.0f, xn, H);
    }
    op_rmsnorm_fwd(a->lnf, a->rstdf, a->resid + (size_t)c->L * N * H, m->w.norm, N, H, (float)c->eps);

    /* LM head only at rows with a target */
    int M = b->M;
    *n_targets = M;
    if (M == 0) return 0.0;
    for (int r = 0; r < M; r++) memcpy(a->xrows + (size_t)r * H, a->lnf + (size_t)b->rows[r] * H, sizeof(float) * H);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, V, H, 1.0f, a->xrows, H, m->w.head, H, 0.0f, a->logits, V);
    if (logits_out) {
        memcpy(logits_out, a->logits, sizeof(float) * M * V);
        return 0.0;
    }
    head_ctx hc = {.z = a->logits, .tgt = b->tgt, .V = V, .nll = m->nll};
    par_for(M, 4, head_softmax_rows, &hc);
    double loss = 0.0;
    for (int r = 0; r < M; r++) loss += hc.nll[r]; /* in row order: independent of the thread count */
    return loss;
}

/* ---- backward ---- */
void model_backward(model_t *m, float loss_scale) {
    const model_config *c = &m->c;
    model_acts *a = &m->a;
    model_batch *b = &m->b;
    int N = b->N, M = b->M, H = c->H, I = c->I, V = c->V, qd = c->nh * c->hd, kvd = c->nkv * c->hd;
    int QKV = qd + 2 * kvd;
    model_w *g = &m->g;

    head_ctx hc = {.z = a->logits, .tgt = b->tgt, .V = V, .scale = loss_scale};
    par_for(M, 4, head_dlogits_rows, &hc);
    float *dres = a->d1; /* gradient of the residual stream, walked back through the layers */
    memset(a->d2, 0, sizeof(float) * N * H);
    if (M) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, H, V, 1.0f, a->logits, V, m->w.head, H, 0.0f,
                    a->dxrows, H);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, H, M, 1.0f, a->logits, V, a->xrows, H, 1.0f, g->head, H);
        for (int r = 0; r < M; r++) memcpy(a->d2 + (size_t)b->rows[r] * H, a->dxrows + (size_t)r * H, sizeof(float) * H);
    }
    memset(dres, 0, sizeof(float) * N * H);
    op_rmsnorm_bwd(dres, g->norm, a->d2, a->resid + (size_t)c->L * N * H, m->w.norm, a->rstdf, N, H);

    for (int l = c->L - 1; l >= 0; l--) {
        const layer_w *w = &m->w.layers[l];
        layer_w *gw = &g->layers[l];
        float *x = a->resid + (size_t)l * N * H;
        float *ln1 = a->ln1 + (size_t)l * N * H, *rstd1 = a->rstd1 + (size_t)l * N;
        float *qkv = a->qkv + (size_t)l * N * QKV, *att = a->att + (size_t)l * a->cap_att;
        float *ao = a->ao + (size_t)l * N * qd, *mid = a->mid + (size_t)l * N * H;
        float *ln2 = a->ln2 + (size_t)l * N * H, *rstd2 = a->rstd2 + (size_t)l * N;
        float *gu = a->gu + (size_t)l * N * 2 * I, *hm = a->hm + (size_t)l * N * I;

        /* MLP: xn = mid + down(hm) */
        op_matmul_bwd(a->dh, gw->wd, NULL, dres, hm, w->wd, N, I, H, 0);
        op_swiglu_bwd(a->dgu, a->dh, gu, N, I);
        op_matmul_bwd(a->d2, gw->wg, NULL, a->dgu, ln2, w->wg, N, H, 2 * I, 0);
        op_rmsnorm_bwd(dres, gw->ln2, a->d2, mid, w->ln2, rstd2, N, H);   /* dres is now d(mid) */
        /* attention: mid = x + o_proj(ao) */
        op_matmul_bwd(a->dao, gw->wo, NULL, dres, ao, w->wo, N, qd, H, 0);
        op_attention_bwd(a->dqkv, a->dqkv + qd, a->dqkv + qd + kvd, a->dS, a->dao, att, qkv, qkv + qd, qkv + qd + kvd,
                         QKV, b->doc_len, b->ndocs, c->nh, c->nkv, c->hd);
        op_rope_bwd(a->dqkv, QKV, b->pos, m->rope_cos, m->rope_sin, N, c->nh, c->hd);
        op_rope_bwd(a->dqkv + qd, QKV, b->pos, m->rope_cos, m->rope_sin, N, c->nkv, c->hd);
        op_matmul_bwd(a->d2, gw->wq, gw->bq, a->dqkv, ln1, w->wq, N, H, QKV, 0);
        op_rmsnorm_bwd(dres, gw->ln1, a->d2, x, w->ln1, rstd1, N, H);     /* dres is now d(x) */
    }
    for (int t = 0; t < N; t++) {
        float *ge = g->embed + (size_t)b->ids[t] * H;
        const float *d = dres + (size_t)t * H;
        for (int i = 0; i < H; i++) ge[i] += d[i];
    }
}

void model_zero_grad(model_t *m) { memset(m->grads, 0, sizeof(float) * m->nparams); }

/* Sums over fixed blocks, combined in block order: the same result for any
 * thread count. */
#define NORM_BLOCK 65536
typedef struct {
    const float *g;
    float *gw;
    size_t n;
    double *part;
    float s;
} vec_ctx;

static void norm_blocks(void *p, int b0, int b1, int tid) {
    (void)tid;
    vec_ctx *c = p;
    for (int b = b0; b < b1; b++) {
        size_t i0 = (size_t)b * NORM_BLOCK, i1 = i0 + NORM_BLOCK < c->n ? i0 + NORM_BLOCK : c->n;
        double s = 0.0;
        for (size_t i = i0; i < i1; i++) s += (double)c->g[i] * c->g[i];
        c->part[b] = s;
    }
}

double model_grad_norm(const model_t *m) {
    int nb = (int)((m->nparams + NORM_BLOCK - 1) / NORM_BLOCK);
    vec_ctx c = {.g = m->grads, .n = m->nparams, .part = xmalloc(sizeof(double) * (nb + 1))};
    par_for(nb, 1, norm_blocks, &c);
    double s = 0.0;
    for (int b = 0; b < nb; b++) s += c.part[b];
    free(c.part);
    return sqrt(s);
}

static void scale_blocks(void *p, int b0, int b1, int tid) {
    (void)tid;
    vec_ctx *c = p;
    size_t i0 = (size_t)b0 * NORM_BLOCK, i1 = (size_t)b1 * NORM_BLOCK < c->n ? (size_t)b1 * NORM_BLOCK : c->n;
    for (size_t i = i0; i < i1; i++) c->gw[i] *= c->s;
}

void model_scale_grads(model_t *m, float s) {
    int nb = (int)((m->nparams + NORM_BLOCK - 1) / NORM_BLOCK);
    vec_ctx c = {.gw = m->grads, .n = m->nparams, .s = s};
    par_for(nb, 1, scale_blocks, &c);
}

typedef struct {
    float *p, *g, *m, *v;
    float decay, b1, b2, step, bc2s, eps;
} adam_ctx;

static void adam_range(void *p, int a, int b, int tid) {
    (void)tid;
    adam_ctx *c = p;
    for (int i = a; i < b; i++) {
        /* torch.optim.AdamW: decoupled decay, then the Adam update with
         * denom = sqrt(v)/sqrt(bc2) + eps and step lr/bc1 */
        c->p[i] *= c->decay;
        c->m[i] = c->b1 * c->m[i] + (1.0f - c->b1) * c->g[i];
        c->v[i] = c->b2 * c->v[i] + (1.0f - c->b2) * c->g[i] * c->g[i];
        c->p[i] -= c->step * c->m[i] / (sqrtf(c->v[i]) / c->bc2s + c->eps);
    }
}

void model_adamw(model_t *m, float lr, float b1, float b2, float eps, float wd, int decay_all) {
    m->adam_t++;
    double bc1 = 1.0 - pow(b1, (double)m->adam_t), bc2 = 1.0 - pow(b2, (double)m->adam_t);
    for (int ti = 0; ti < m->ntensors; ti++) {
        const model_tensor *t = &m->tensors[ti];
        adam_ctx c = {.p = m->params + t->off, .g = m->grads + t->off, .m = m->m + t->off, .v = m->v + t->off,
                      .decay = (decay_all || t->is_matrix) ? 1.0f - lr * wd : 1.0f, .b1 = b1, .b2 = b2,
                      .step = (float)(lr / bc1), .bc2s = (float)sqrt(bc2), .eps = eps};
        /* elementwise: any split gives the same bits */
        for (size_t off = 0; off < t->n; off += 1u << 30) {
            size_t n = t->n - off < (1u << 30) ? t->n - off : (1u << 30);
            adam_ctx cc = c;
            cc.p += off; cc.g += off; cc.m += off; cc.v += off;
            par_for((int)n, 4096, adam_range, &cc);
        }
    }
}

void model_set_threads(int n) {
    if (n <= 0) {
        long np = sysconf(_SC_NPROCESSORS_ONLN);
        n = np > 0 ? (int)np : 1;
    }
    openblas_set_num_threads(n);
    par_set_threads(n);
}
