/* The per-operation forward/backward pairs of the student model. Every function
 * is a plain loop or a cblas_sgemm; shapes are in model.h. Our own loops run on
 * the calling thread; only OpenBLAS spawns threads, so the two never compete. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "distill/model.h"
#include "distill/par.h"

/* ---- RMSNorm: out = w * x * rsqrt(mean(x^2) + eps), in fp32 ---- */
typedef struct {
    float *out, *rstd, *dx, *dw;
    const float *x, *w, *dout, *rs;
    int H;
    float eps;
} rms_ctx;

static void rms_fwd_rows(void *p, int t0, int t1, int tid) {
    (void)tid;
    rms_ctx *c = p;
    int H = c->H;
    for (int t = t0; t < t1; t++) {
        const float *xt = c->x + (size_t)t * H;
        float *ot = c->out + (size_t)t * H;
        float ss = 0.0f;
        for (int i = 0; i < H; i++) ss += xt[i] * xt[i];
        float r = 1.0f / sqrtf(ss / H + c->eps);
        c->rstd[t] = r;
        for (int i = 0; i < H; i++) ot[i] = c->w[i] * (xt[i] * r);
    }
}

void op_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, int N, int H, float eps) {
    rms_ctx c = {.out = out, .rstd = rstd, .x = x, .w = w, .H = H, .eps = eps};
    par_for(N, 16, rms_fwd_rows, &c);
}

/* dx += d/dx, dw += d/dw. With y = w*x*r: dx = r*w*dy - x * r^3/H * sum(w*dy*x).
 * dx is split by rows and dw by columns, so no thread shares an output and the
 * sums do not depend on the thread count. */
static void rms_bwd_rows(void *p, int t0, int t1, int tid) {
    (void)tid;
    rms_ctx *c = p;
    int H = c->H;
    for (int t = t0; t < t1; t++) {
        const float *xt = c->x + (size_t)t * H, *dt = c->dout + (size_t)t * H;
        float *dxt = c->dx + (size_t)t * H;
        float r = c->rs[t], dot = 0.0f;
        for (int i = 0; i < H; i++) dot += c->w[i] * dt[i] * xt[i];
        float k = dot * r * r * r / H;
        for (int i = 0; i < H; i++) dxt[i] += r * c->w[i] * dt[i] - k * xt[i];
    }
}

static void rms_bwd_cols(void *p, int i0, int i1, int tid) {
    (void)tid;
    rms_ctx *c = p;
    int H = c->H, N = (int)(size_t)c->out; /* N travels in the unused out field */
    for (int t = 0; t < N; t++) {
        const float *xt = c->x + (size_t)t * H, *dt = c->dout + (size_t)t * H;
        float r = c->rs[t];
        for (int i = i0; i < i1; i++) c->dw[i] += dt[i] * xt[i] * r;
    }
}

void op_rmsnorm_bwd(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd, int N,
                    int H) {
    rms_ctx c = {.dx = dx, .dw = dw, .dout = dout, .x = x, .w = w, .rs = rstd, .H = H};
    par_for(N, 16, rms_bwd_rows, &c);
    c.out = (float *)(size_t)N;
    par_for(H, 64, rms_bwd_cols, &c);
}

/* ---- Linear layers, weights [out, in] as Hugging Face stores them ---- */
void op_matmul_fwd(float *out, const float *x, const float *W, const float *b, int N, int I, int O) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, O, I, 1.0f, x, I, W, I, 0.0f, out, O);
    if (b)
        for (int t = 0; t < N; t++) {
            float *ot = out + (size_t)t * O;
            for (int o = 0; o < O; o++) ot[o] += b[o];
        }
}

void op_matmul_bwd(float *dx, float *dW, float *db, const float *dout, const float *x, const float *W, int N, int I, int O,
                   int dx_accumulate) {
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, I, O, 1.0f, dout, O, W, I, dx_accumulate ? 1.0f : 0.0f,
                    dx, I);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, I, N, 1.0f, dout, O, x, I, 1.0f, dW, I);
    if (db)
        for (int t = 0; t < N; t++) {
            const float *dt = dout + (size_t)t * O;
            for (int o = 0; o < O; o++) db[o] += dt[o];
        }
}

/* ---- RoPE, Hugging Face's rotate-half: element j pairs with j + hd/2 ---- */
typedef struct {
    float *x;
    int ld, nheads, hd, dir;
    const int32_t *pos;
    const float *cos, *sin;
} rope_ctx;

static void rope_rows(void *p, int t0, int t1, int tid) {
    (void)tid;
    rope_ctx *c = p;
    int half = c->hd / 2;
    float sg = (float)c->dir; /* +1 forward; -1 backward: the rotation is orthogonal, its inverse turns by -angle */
    for (int t = t0; t < t1; t++) {
        const float *cs = c->cos + (size_t)c->pos[t] * half, *sn = c->sin + (size_t)c->pos[t] * half;
        for (int h = 0; h < c->nheads; h++) {
            float *xh = c->x + (size_t)t * c->ld + (size_t)h * c->hd;
            for (int j = 0; j < half; j++) {
                float a = xh[j], b = xh[j + half], s = sg * sn[j];
                xh[j] = a * cs[j] - b * s;
                xh[j + half] = b * cs[j] + a * s;
            }
        }
    }
}

void op_rope_fwd(float *x, int ld, const int32_t *pos, const float *cos, const float *sin, int N, int nheads, int hd) {
    rope_ctx c = {.x = x, .ld = ld, .nheads = nheads, .hd = hd, .dir = 1, .pos = pos, .cos = cos, .sin = sin};
    par_for(N, 16, rope_rows, &c);
}

void op_rope_bwd(float *dx, int ld, const int32_t *pos, const float *cos, const float *sin, int N, int nheads, int hd) {
    rope_ctx c = {.x = dx, .ld = ld, .nheads = nheads, .hd = hd, .dir = -1, .pos = pos, .cos = cos, .sin = sin};
    par_for(N, 16, rope_rows, &c);
}

/* ---- SwiGLU: h = silu(g) * u ---- */
typedef struct {
    float *h, *dgu;
    const float *gu, *dh;
    int I;
} swiglu_ctx;

static void swiglu_fwd_rows(void *p, int t0, int t1, int tid) {
    (void)tid;
    swiglu_ctx *c = p;
    int I = c->I;
    for (int t = t0; t < t1; t++) {
        const float *g = c->gu + (size_t)t * 2 * I, *u = g + I;
        float *ht = c->h + (size_t)t * I;
        for (int i = 0; i < I; i++) ht[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
    }
}

void op_swiglu_fwd(float *h, const float *gu, int N, int I) {
    swiglu_ctx c = {.h = h, .gu = gu, .I = I};
    par_for(N, 8, swiglu_fwd_rows, &c);
}

static void swiglu_bwd_rows(void *p, int t0, int t1, int tid) {
    (void)tid;
    swiglu_ctx *c = p;
    int I = c->I;
    for (int t = t0; t < t1; t++) {
        const float *g = c->gu + (size_t)t * 2 * I, *u = g + I, *d = c->dh + (size_t)t * I;
        float *dg = c->dgu + (size_t)t * 2 * I, *du = dg + I;
        for (int i = 0; i < I; i++) {
            float sg = 1.0f / (1.0f + expf(-g[i]));
            float silu = g[i] * sg;
            du[i] = d[i] * silu;
            dg[i] = d[i] * u[i] * sg * (1.0f + g[i] * (1.0f - sg));
        }
    }
}

void op_swiglu_bwd(float *dgu, const float *dh, const float *gu, int N, int I) {
    swiglu_ctx c = {.dgu = dgu, .dh = dh, .gu = gu, .I = I};
    par_for(N, 8, swiglu_bwd_rows, &c);
}

/* ---- Causal attention inside documents ----
 * Each document is cut into row blocks of ATT_RB queries; a block starting at
 * row r0 only needs keys [0, r1), so sgemm skips most of the masked upper
 * triangle. Probabilities of block (doc, block, head) are stored as [rb, r1]
 * with the causally masked entries zero, in the same order forward and backward. */
#define ATT_RB 128

size_t op_attention_floats(const int *doc_len, int ndocs, int nh) {
    size_t n = 0;
    for (int d = 0; d < ndocs; d++)
        for (int r0 = 0; r0 < doc_len[d]; r0 += ATT_RB) {
            int r1 = r0 + ATT_RB < doc_len[d] ? r0 + ATT_RB : doc_len[d];
            n += (size_t)(r1 - r0) * r1 * nh;
        }
    return n;
}

size_t op_attention_scratch(int doc_len, int nh) {
    return (size_t)(doc_len < ATT_RB ? doc_len : ATT_RB) * doc_len * nh;
}

/* Row-wise pieces of a block, run in parallel over (head, row) pairs. */
typedef struct {
    float *P, *dS;
    int rb, r1, r0;
    float scale;
} att_ctx;

static void att_softmax_rows(void *p, int a, int b, int tid) {
    (void)tid;
    att_ctx *c = p;
    for (int idx = a; idx < b; idx++) {
        int i = idx % c->rb;
        float *pr = c->P + (size_t)idx * c->r1;
        int lim = c->r0 + i + 1; /* keys [0, lim) are visible */
        float mx = -INFINITY;
        for (int j = 0; j < lim; j++) mx = pr[j] > mx ? pr[j] : mx;
        float sum = 0.0f;
        for (int j = 0; j < lim; j++) {
            pr[j] = expf(pr[j] - mx);
            sum += pr[j];
        }
        float inv = 1.0f / sum;
        for (int j = 0; j < lim; j++) pr[j] *= inv;
        for (int j = lim; j < c->r1; j++) pr[j] = 0.0f;
    }
}

/* dS = P * (dP - rowsum(P*dP)) * scale, dP arriving in dS */
static void att_dsoftmax_rows(void *p, int a, int b, int tid) {
    (void)tid;
    att_ctx *c = p;
    for (int idx = a; idx < b; idx++) {
        int i = idx % c->rb;
        const float *pr = c->P + (size_t)idx * c->r1;
        float *ds = c->dS + (size_t)idx * c->r1;
        int lim = c->r0 + i + 1;
        float dot = 0.0f;
        for (int j = 0; j < lim; j++) dot += pr[j] * ds[j];
        for (int j = 0; j < lim; j++) ds[j] = pr[j] * (ds[j] - dot) * c->scale;
        for (int j = lim; j < c->r1; j++) ds[j] = 0.0f;
    }
}

size_t op_attention_fwd(float *out, float *att, const float *q, const float *k, const float *v, int ld,
                        const int *doc_len, int ndocs, int nh, int nkv, int hd) {
    float scale = 1.0f / sqrtf((float)hd);
    int qd = nh * hd, grp = nh / nkv;
    size_t used = 0;
    int s = 0;
    for (int d = 0; d < ndocs; s += doc_len[d], d++) {
        int n = doc_len[d];
        for (int r0 = 0; r0 < n; r0 += ATT_RB) {
            int r1 = r0 + ATT_RB < n ? r0 + ATT_RB : n, rb = r1 - r0;
            float *P = att + used; /* [nh][rb, r1] */
            /* S[rb, r1] = scale * Q K^T per head */
            for (int h = 0; h < nh; h++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rb, r1, hd, scale,
                            q + (size_t)(s + r0) * ld + (size_t)h * hd, ld, k + (size_t)s * ld + (size_t)(h / grp) * hd,
                            ld, 0.0f, P + (size_t)h * rb * r1, r1);
            att_ctx c = {.P = P, .rb = rb, .r1 = r1, .r0 = r0};
            par_for(nh * rb, 4, att_softmax_rows, &c);
            /* O[rb, hd] = P V per head */
            for (int h = 0; h < nh; h++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rb, hd, r1, 1.0f, P + (size_t)h * rb * r1, r1,
                            v + (size_t)s * ld + (size_t)(h / grp) * hd, ld, 0.0f,
                            out + (size_t)(s + r0) * qd + (size_t)h * hd, qd);
            used += (size_t)nh * rb * r1;
        }
    }
    return used;
}

void op_attention_bwd(float *dq, float *dk, float *dv, float *dS, const float *dout, const float *att,
                      const float *q, const float *k, const float *v, int ld, const int *doc_len, int ndocs,
                      int nh, int nkv, int hd) {
    float scale = 1.0f / sqrtf((float)hd);
    int qd = nh * hd, kvd = nkv * hd, grp = nh / nkv;
    size_t used = 0;
    int s = 0;
    for (int d = 0; d < ndocs; s += doc_len[d], d++) {
        int n = doc_len[d];
        for (int t = s; t < s + n; t++) {
            memset(dk + (size_t)t * ld, 0, sizeof(float) * kvd);
            memset(dv + (size_t)t * ld, 0, sizeof(float) * kvd);
        }
        for (int r0 = 0; r0 < n; r0 += ATT_RB) {
            int r1 = r0 + ATT_RB < n ? r0 + ATT_RB : n, rb = r1 - r0;
            const float *P = att + used;
            /* dP[rb, r1] = dO V^T per head */
            for (int h = 0; h < nh; h++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rb, r1, hd, 1.0f,
                            dout + (size_t)(s + r0) * qd + (size_t)h * hd, qd,
                            v + (size_t)s * ld + (size_t)(h / grp) * hd, ld, 0.0f, dS + (size_t)h * rb * r1, r1);
            att_ctx c = {.P = (float *)P, .dS = dS, .rb = rb, .r1 = r1, .r0 = r0, .scale = scale};
            par_for(nh * rb, 4, att_dsoftmax_rows, &c);
            for (int h = 0; h < nh; h++) {
                int kh = h / grp;
                const float *Ph = P + (size_t)h * rb * r1, *dSh = dS + (size_t)h * rb * r1;
                const float *Q = q + (size_t)(s + r0) * ld + (size_t)h * hd;
                const float *K = k + (size_t)s * ld + (size_t)kh * hd;
                const float *dO = dout + (size_t)(s + r0) * qd + (size_t)h * hd;
                /* dQ[rb, hd] = dS K ; dK[r1, hd] += dS^T Q ; dV[r1, hd] += P^T dO */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rb, hd, r1, 1.0f, dSh, r1, K, ld, 0.0f,
                            dq + (size_t)(s + r0) * ld + (size_t)h * hd, ld);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r1, hd, rb, 1.0f, dSh, r1, Q, ld, 1.0f,
                            dk + (size_t)s * ld + (size_t)kh * hd, ld);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r1, hd, rb, 1.0f, Ph, r1, dO, qd, 1.0f,
                            dv + (size_t)s * ld + (size_t)kh * hd, ld);
            }
            used += (size_t)nh * rb * r1;
        }
    }
}
