/* KV-cache decoding, samplers and a continuous-batching generation loop for the
 * student model. The maths is model.c's forward, reorganized around a cache:
 * every projection is one sgemm over all new tokens of all sequences in the
 * call; only attention, which reads each sequence's own cache, loops per token. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "distill/infer.h"
#include "core/err.h"
#include "core/sys.h"

size_t kv_cache_bytes(const model_config *c, int nslots, int max_len) {
    return 2 * sizeof(float) * (size_t)c->L * nslots * max_len * c->nkv * c->hd;
}

int kv_cache_init(kv_cache *kv, const model_config *c, int nslots, int max_len) {
    memset(kv, 0, sizeof *kv);
    if (nslots < 1 || max_len < 1) { err_set("kv cache: need at least one slot and one position"); return -1; }
    kv->nslots = nslots;
    kv->max_len = max_len;
    kv->L = c->L;
    kv->kvd = c->nkv * c->hd;
    size_t n = (size_t)c->L * nslots * max_len * kv->kvd;
    kv->k = malloc(n * sizeof(float));
    kv->v = malloc(n * sizeof(float));
    if (!kv->k || !kv->v) {
        free(kv->k); free(kv->v);
        err_set("cannot allocate %.2f GiB for the KV cache (%d sequences of %d tokens)",
                kv_cache_bytes(c, nslots, max_len) / 1073741824.0, nslots, max_len);
        return -1;
    }
    kv->len = xcalloc(nslots, sizeof(int));
    kv->rope_cos = xmalloc(sizeof(float) * (size_t)max_len * (c->hd / 2));
    kv->rope_sin = xmalloc(sizeof(float) * (size_t)max_len * (c->hd / 2));
    rope_tables(c, max_len, kv->rope_cos, kv->rope_sin);
    return 0;
}

static void free_scratch(kv_cache *kv) {
    free(kv->x); free(kv->xn); free(kv->qkv); free(kv->ao); free(kv->gu); free(kv->hm);
    free(kv->pos); free(kv->slot_of);
    kv->x = kv->xn = kv->qkv = kv->ao = kv->gu = kv->hm = NULL;
    kv->pos = NULL; kv->slot_of = NULL;
    kv->cap = 0;
}

void kv_cache_free(kv_cache *kv) {
    free_scratch(kv);
    free(kv->rows); free(kv->logits); free(kv->scores);
    free(kv->k); free(kv->v); free(kv->len); free(kv->rope_cos); free(kv->rope_sin);
    memset(kv, 0, sizeof *kv);
}

static void reserve(kv_cache *kv, const model_config *c, int N, int rows) {
    if (N > kv->cap) {
        free_scratch(kv);
        size_t H = c->H, I = c->I, qd = (size_t)c->nh * c->hd, QKV = qd + 2 * (size_t)kv->kvd;
        kv->cap = N;
        kv->x = xmalloc(sizeof(float) * N * H);
        kv->xn = xmalloc(sizeof(float) * N * (H + 1)); /* + rstd scratch */
        kv->qkv = xmalloc(sizeof(float) * N * QKV);
        kv->ao = xmalloc(sizeof(float) * N * qd);
        kv->gu = xmalloc(sizeof(float) * N * 2 * I);
        kv->hm = xmalloc(sizeof(float) * N * I);
        kv->pos = xmalloc(sizeof(int32_t) * N);
        kv->slot_of = xmalloc(sizeof(int) * N);
    }
    if (!kv->scores) kv->scores = xmalloc(sizeof(float) * kv->max_len);
    if (rows > kv->cap_rows) {
        free(kv->rows);
        free(kv->logits);
        kv->rows = xmalloc(sizeof(float) * (size_t)rows * (c->H + 1));
        kv->logits = NULL; /* the caller's buffer receives logits */
        kv->cap_rows = rows;
    }
}

/* out[N,O] = x[N,I] W[O,I]^T (+ beta * out) (+ b). For a handful of rows sgemv
 * wins: OpenBLAS's sgemm packs the whole weight matrix on every call, which at
 * N = 1 costs about 4x the multiply itself (measured: 7.8 vs 31 GFLOP/s). */
static void linear(float *out, const float *x, const float *W, const float *b, int N, int I, int O, float beta) {
    if (N < 4)
        for (int t = 0; t < N; t++)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, O, I, 1.0f, W, I, x + (size_t)t * I, 1, beta, out + (size_t)t * O, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, O, I, 1.0f, x, I, W, I, beta, out, O);
    if (b)
        for (int t = 0; t < N; t++)
            for (int o = 0; o < O; o++) out[(size_t)t * O + o] += b[o];
}

int model_decode(model_t *m, kv_cache *kv, const int *slot, const int *ntok, const uint32_t *tokens, int nseq,
                 float *logits_out, int all_logits) {
    const model_config *c = &m->c;
    int H = c->H, I = c->I, V = c->V, hd = c->hd, nh = c->nh, nkv = c->nkv;
    int qd = nh * hd, kvd = kv->kvd, QKV = qd + 2 * kvd, grp = nh / nkv;
    int N = 0;
    for (int s = 0; s < nseq; s++) {
        if (slot[s] < 0 || slot[s] >= kv->nslots) { err_set("decode: slot %d out of range", slot[s]); return -1; }
        if (ntok[s] < 1) { err_set("decode: sequence %d has no new tokens", s); return -1; }
        if (kv->len[slot[s]] + ntok[s] > kv->max_len) {
            err_set("decode: sequence in slot %d would reach %d tokens; the cache holds %d", slot[s],
                    kv->len[slot[s]] + ntok[s], kv->max_len);
            return -1;
        }
        N += ntok[s];
    }
    for (int t = 0; t < N; t++)
        if (tokens[t] >= (uint32_t)V) { err_set("decode: token id %u outside the vocabulary (%d)", tokens[t], V); return -1; }
    int rows = all_logits ? N : nseq;
    reserve(kv, c, N, rows);
    for (int s = 0, t = 0; s < nseq; s++)
        for (int i = 0; i < ntok[s]; i++, t++) {
            kv->pos[t] = kv->len[slot[s]] + i;
            kv->slot_of[t] = slot[s];
        }

    float *x = kv->x, *xn = kv->xn, *rstd = kv->xn + (size_t)N * H;
    for (int t = 0; t < N; t++) memcpy(x + (size_t)t * H, m->w.embed + (size_t)tokens[t] * H, sizeof(float) * H);
    float scale = 1.0f / sqrtf((float)hd);
    size_t slot_stride = (size_t)kv->max_len * kvd, layer_stride = (size_t)kv->nslots * slot_stride;

    for (int l = 0; l < c->L; l++) {
        const layer_w *w = &m->w.layers[l];
        float *Kc = kv->k + (size_t)l * layer_stride, *Vc = kv->v + (size_t)l * layer_stride;
        /* qkv[N,QKV] = rmsnorm(x) Wqkv^T + b, RoPE on q and k */
        op_rmsnorm_fwd(xn, rstd, x, w->ln1, N, H, (float)c->eps);
        linear(kv->qkv, xn, w->wq, w->bq, N, H, QKV, 0.0f);
        op_rope_fwd(kv->qkv, QKV, kv->pos, kv->rope_cos, kv->rope_sin, N, nh, hd);
        op_rope_fwd(kv->qkv + qd, QKV, kv->pos, kv->rope_cos, kv->rope_sin, N, nkv, hd);
        /* all new keys/values go into the cache first, so a new token sees the
         * earlier new tokens of its own sequence */
        for (int t = 0; t < N; t++) {
            size_t at = (size_t)kv->slot_of[t] * slot_stride + (size_t)kv->pos[t] * kvd;
            memcpy(Kc + at, kv->qkv + (size_t)t * QKV + qd, sizeof(float) * kvd);
            memcpy(Vc + at, kv->qkv + (size_t)t * QKV + qd + kvd, sizeof(float) * kvd);
        }
        /* causal attention of each new token over its slot's positions [0, pos] */
        for (int t = 0; t < N; t++) {
            int np = kv->pos[t] + 1;
            const float *Ks = Kc + (size_t)kv->slot_of[t] * slot_stride, *Vs = Vc + (size_t)kv->slot_of[t] * slot_stride;
            for (int h = 0; h < nh; h++) {
                const float *q = kv->qkv + (size_t)t * QKV + (size_t)h * hd;
                int kh = h / grp;
                float *sc = kv->scores, mx = -INFINITY;
                for (int j = 0; j < np; j++) {
                    const float *kj = Ks + (size_t)j * kvd + (size_t)kh * hd;
                    float d = 0.0f;
                    for (int i = 0; i < hd; i++) d += q[i] * kj[i];
                    sc[j] = d * scale;
                    mx = sc[j] > mx ? sc[j] : mx;
                }
                float sum = 0.0f;
                for (int j = 0; j < np; j++) { sc[j] = expf(sc[j] - mx); sum += sc[j]; }
                float inv = 1.0f / sum;
                float *o = kv->ao + (size_t)t * qd + (size_t)h * hd;
                memset(o, 0, sizeof(float) * hd);
                for (int j = 0; j < np; j++) {
                    const float *vj = Vs + (size_t)j * kvd + (size_t)kh * hd;
                    float p = sc[j] * inv;
                    for (int i = 0; i < hd; i++) o[i] += p * vj[i];
                }
            }
        }
        /* x += ao Wo^T; x += down(silu(gate) * up) */
        linear(x, kv->ao, w->wo, NULL, N, qd, H, 1.0f);
        op_rmsnorm_fwd(xn, rstd, x, w->ln2, N, H, (float)c->eps);
        linear(kv->gu, xn, w->wg, NULL, N, H, 2 * I, 0.0f);
        op_swiglu_fwd(kv->hm, kv->gu, N, I);
        linear(x, kv->hm, w->wd, NULL, N, I, H, 1.0f);
    }
    for (int s = 0; s < nseq; s++) kv->len[slot[s]] += ntok[s];

    /* final norm and LM head only on the rows whose logits are wanted */
    float *xr = kv->rows, *rr = kv->rows + (size_t)rows * H;
    if (all_logits) memcpy(xr, x, sizeof(float) * N * H);
    else
        for (int s = 0, t = 0; s < nseq; t += ntok[s], s++)
            memcpy(xr + (size_t)s * H, x + (size_t)(t + ntok[s] - 1) * H, sizeof(float) * H);
    op_rmsnorm_fwd(xr, rr, xr, m->w.norm, rows, H, (float)c->eps);
    linear(logits_out, xr, m->w.head, NULL, rows, H, V, 0.0f);
    return 0;
}

/* ---- sampling ---- */
void sampler_scratch_init(sampler_scratch *s, int V) {
    s->V = V;
    s->p = xmalloc(sizeof(float) * V);
    s->idx = xmalloc(sizeof(int) * V);
}

void sampler_scratch_free(sampler_scratch *s) {
    free(s->p);
    free(s->idx);
    memset(s, 0, sizeof *s);
}

static const float *sort_key;
static int by_prob_desc(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    if (sort_key[i] != sort_key[j]) return sort_key[i] > sort_key[j] ? -1 : 1;
    return i - j; /* ties: lower id first, so the order is total and deterministic */
}

static int argmax(const float *z, int V) {
    int best = 0;
    for (int i = 1; i < V; i++)
        if (z[i] > z[best]) best = i;
    return best;
}

/* Indices of the kept tokens in descending probability (s->idx[0..*nkeep)) and
 * their renormalized probabilities in s->p (by id). */
static int keep_set(const float *logits, int V, const sample_opts *o, sampler_scratch *s) {
    float mx = logits[argmax(logits, V)], inv_t = (float)(1.0 / o->temperature);
    double sum = 0.0;
    for (int i = 0; i < V; i++) { s->p[i] = expf((logits[i] - mx) * inv_t); sum += s->p[i]; }
    for (int i = 0; i < V; i++) s->p[i] = (float)(s->p[i] / sum);
    int n = V;
    for (int i = 0; i < V; i++) s->idx[i] = i;
    int k = o->top_k > 0 && o->top_k < V ? o->top_k : V;
    int need_sort = k < V || o->top_p < 1.0;
    if (need_sort) {
        /* The sort is the cost here; with top-k alone, a partial pass first
         * keeps the candidates at the k largest (plus ties at the threshold). */
        sort_key = s->p;
        if (k < V && k * 8 < V) {
            /* threshold = k-th largest probability, via a small selection */
            int m = 0;
            for (int i = 0; i < V; i++) {
                if (m < k) { s->idx[m++] = i; if (m == k) qsort(s->idx, m, sizeof(int), by_prob_desc); continue; }
                if (by_prob_desc(&i, &s->idx[k - 1]) < 0) {
                    int j = k - 1;
                    while (j > 0 && by_prob_desc(&i, &s->idx[j - 1]) < 0) { s->idx[j] = s->idx[j - 1]; j--; }
                    s->idx[j] = i;
                }
            }
            n = k;
        } else {
            qsort(s->idx, V, sizeof(int), by_prob_desc);
            n = k;
        }
        if (o->top_p < 1.0) {
            /* smallest prefix whose mass reaches top_p (at least one token), as HF's
             * TopPLogitsWarper keeps the token that crosses the threshold */
            double cum = 0.0, mass = 0.0;
            for (int i = 0; i < n; i++) mass += s->p[s->idx[i]];
            int j = 0;
            while (j < n) {
                cum += s->p[s->idx[j]] / mass;
                j++;
                if (cum >= o->top_p) break;
            }
            n = j;
        }
    }
    return n;
}

void sample_probs(const float *logits, int V, const sample_opts *o, sampler_scratch *s, float *probs) {
    memset(probs, 0, sizeof(float) * V);
    if (o->temperature <= 0) { probs[argmax(logits, V)] = 1.0f; return; }
    int n = keep_set(logits, V, o, s);
    double mass = 0.0;
    for (int i = 0; i < n; i++) mass += s->p[s->idx[i]];
    for (int i = 0; i < n; i++) probs[s->idx[i]] = (float)(s->p[s->idx[i]] / mass);
}

int sample_token(const float *logits, int V, const sample_opts *o, sampler_scratch *s, rng_t *rng) {
    if (o->temperature <= 0) return argmax(logits, V);
    int n = keep_set(logits, V, o, s);
    double mass = 0.0;
    for (int i = 0; i < n; i++) mass += s->p[s->idx[i]];
    double u = rng_uniform(rng) * mass, cum = 0.0;
    for (int i = 0; i < n; i++) {
        cum += s->p[s->idx[i]];
        if (u < cum) return s->idx[i];
    }
    return s->idx[n - 1];
}

/* ---- generation ---- */
void gen_seq_free(gen_seq *s) {
    free(s->out);
    s->out = NULL;
    s->n_out = 0;
}

int infer_generate(model_t *m, gen_seq *seqs, int n, const gen_opts *o, long *tokens_out) {
    int V = m->c.V, B = o->batch > 0 ? o->batch : 1;
    if (B > n) B = n;
    if (tokens_out) *tokens_out = 0;
    if (n == 0) return 0;
    int max_prompt = 1;
    for (int i = 0; i < n; i++) {
        if (seqs[i].prompt_len < 1) { err_set("generate: sequence %d has an empty prompt", i); return -1; }
        if (seqs[i].prompt_len > max_prompt) max_prompt = seqs[i].prompt_len;
        seqs[i].out = NULL; seqs[i].n_out = 0; seqs[i].finish = GEN_RUNNING; seqs[i].seconds = 0;
    }
    kv_cache kv;
    if (kv_cache_init(&kv, &m->c, B, max_prompt + o->max_new + 1)) return -1;
    int *slot_seq = xmalloc(sizeof(int) * B);       /* sequence in each slot, -1 idle */
    rng_t *rng = xmalloc(sizeof(rng_t) * B);
    double *t0 = xmalloc(sizeof(double) * B);
    int *call_slot = xmalloc(sizeof(int) * B), *call_n = xmalloc(sizeof(int) * B);
    uint32_t *toks = xmalloc(sizeof(uint32_t) * ((size_t)B * max_prompt + B));
    float *logits = xmalloc(sizeof(float) * (size_t)B * V);
    sampler_scratch ss;
    sampler_scratch_init(&ss, V);
    for (int b = 0; b < B; b++) slot_seq[b] = -1;
    int next = 0, done = 0, rc = 0;
    long total = 0;
    while (done < n) {
        int nc = 0;
        size_t nt = 0;
        for (int b = 0; b < B; b++) {
            if (slot_seq[b] < 0 && next < n) { /* admit the next prompt: prefill in this call */
                gen_seq *q = &seqs[next];
                slot_seq[b] = next++;
                kv.len[b] = 0;
                rng_seed(&rng[b], q->seed);
                t0[b] = clock_now();
                q->out = xmalloc(sizeof(uint32_t) * (o->max_new + 1));
                memcpy(toks + nt, q->prompt, sizeof(uint32_t) * q->prompt_len);
                nt += q->prompt_len;
                call_slot[nc] = b; call_n[nc++] = q->prompt_len;
            } else if (slot_seq[b] >= 0) {
                gen_seq *q = &seqs[slot_seq[b]];
                toks[nt++] = q->out[q->n_out - 1];
                call_slot[nc] = b; call_n[nc++] = 1;
            }
        }
        if (model_decode(m, &kv, call_slot, call_n, toks, nc, logits, 0)) { rc = -1; break; }
        for (int i = 0; i < nc; i++) {
            int b = call_slot[i], si = slot_seq[b];
            gen_seq *q = &seqs[si];
            int id = o->max_new > 0 ? sample_token(logits + (size_t)i * V, V, &o->sample, &ss, &rng[b]) : -1;
            int stop = 0;
            for (int k = 0; k < o->nstop && id >= 0; k++) stop |= (uint32_t)id == o->stop[k];
            if (id >= 0 && !stop) {
                q->out[q->n_out++] = (uint32_t)id;
                total++;
                if (o->on_token) o->on_token(o->ctx, si, (uint32_t)id);
            }
            if (stop || id < 0 || q->n_out >= o->max_new) {
                q->finish = stop ? GEN_STOP : GEN_LENGTH;
                q->seconds = clock_now() - t0[b];
                slot_seq[b] = -1;
                done++;
            }
        }
    }
    sampler_scratch_free(&ss);
    free(slot_seq); free(rng); free(t0); free(call_slot); free(call_n); free(toks); free(logits);
    kv_cache_free(&kv);
    if (tokens_out) *tokens_out = total;
    return rc;
}
