/* The per-operation forward/backward pairs of the student model. Every function
 * is a plain loop or a cblas_sgemm; shapes are in model.h. Our own loops run on
 * the calling thread; only OpenBLAS spawns threads, so the two never compete. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "distill/model.h"

/* ---- RMSNorm: out = w * x * rsqrt(mean(x^2) + eps), in fp32 ---- */
void op_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, int N, int H, float eps) {
    for (int t = 0; t < N; t++) {
        const float *xt = x + (size_t)t * H;
        float *ot = out + (size_t)t * H;
        float ss = 0.0f;
        for (int i = 0; i < H; i++) ss += xt[i] * xt[i];
        float r = 1.0f / sqrtf(ss / H + eps);
        rstd[t] = r;
        for (int i = 0; i < H; i++) ot[i] = w[i] * (xt[i] * r);
    }
}

/* dx += d/dx, dw += d/dw. With y = w*x*r: dx = r*w*dy - x * r^3/H * sum(w*dy*x). */
void op_rmsnorm_bwd(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd, int N,
                    int H) {
    for (int t = 0; t < N; t++) {
        const float *xt = x + (size_t)t * H, *dt = dout + (size_t)t * H;
        float *dxt = dx + (size_t)t * H;
        float r = rstd[t], dot = 0.0f;
        for (int i = 0; i < H; i++) {
            dot += w[i] * dt[i] * xt[i];
            dw[i] += dt[i] * xt[i] * r;
        }
        float c = dot * r * r * r / H;
        for (int i = 0; i < H; i++) dxt[i] += r * w[i] * dt[i] - c * xt[i];
    }
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
void op_rope_fwd(float *x, int ld, const int32_t *pos, const float *cos, const float *sin, int N, int nheads, int hd) {
    int half = hd / 2;
    for (int t = 0; t < N; t++) {
        const float *c = cos + (size_t)pos[t] * half, *s = sin + (size_t)pos[t] * half;
        for (int h = 0; h < nheads; h++) {
            float *xh = x + (size_t)t * ld + (size_t)h * hd;
            for (int j = 0; j < half; j++) {
                float a = xh[j], b = xh[j + half];
                xh[j] = a * c[j] - b * s[j];
                xh[j + half] = b * c[j] + a * s[j];
            }
        }
    }
}

/* The rotation is orthogonal: backward rotates by -angle. */
void op_rope_bwd(float *dx, int ld, const int32_t *pos, const float *cos, const float *sin, int N, int nheads, int hd) {
    int half = hd / 2;
    for (int t = 0; t < N; t++) {
        const float *c = cos + (size_t)pos[t] * half, *s = sin + (size_t)pos[t] * half;
        for (int h = 0; h < nheads; h++) {
            float *xh = dx + (size_t)t * ld + (size_t)h * hd;
            for (int j = 0; j < half; j++) {
                float a = xh[j], b = xh[j + half];
                xh[j] = a * c[j] + b * s[j];
                xh[j + half] = b * c[j] - a * s[j];
            }
        }
    }
}

/* ---- SwiGLU: h = silu(g) * u ---- */
void op_swiglu_fwd(float *h, const float *gu, int N, int I) {
    for (int t = 0; t < N; t++) {
        const float *g = gu + (size_t)t * 2 * I, *u = g + I;
        float *ht = h + (size_t)t * I;
        for (int i = 0; i < I; i++) ht[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
    }
}

void op_swiglu_bwd(float *dgu, const float *dh, const float *gu, int N, int I) {
    for (int t = 0; t < N; t++) {
        const float *g = gu + (size_t)t * 2 * I, *u = g + I, *d = dh + (size_t)t * I;
        float *dg = dgu + (size_t)t * 2 * I, *du = dg + I;
        for (int i = 0; i < I; i++) {
            float sg = 1.0f / (1.0f + expf(-g[i]));
            float silu = g[i] * sg;
            du[i] = d[i] * silu;
            dg[i] = d[i] * u[i] * sg * (1.0f + g[i] * (1.0f - sg));
        }
    }
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

size_t op_attention_scratch(int doc_len) { return (size_t)(doc_len < ATT_RB ? doc_len : ATT_RB) * doc_len; }

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
            for (int h = 0; h < nh; h++) {
                int kh = h / grp;
                float *P = att + used;
                const float *Q = q + (size_t)(s + r0) * ld + (size_t)h * hd;
                const float *K = k + (size_t)s * ld + (size_t)kh * hd;
                const float *Vv = v + (size_t)s * ld + (size_t)kh * hd;
                /* S[rb, r1] = scale * Q K^T */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rb, r1, hd, scale, Q, ld, K, ld, 0.0f, P, r1);
                for (int i = 0; i < rb; i++) {
                    float *p = P + (size_t)i * r1;
                    int lim = r0 + i + 1; /* keys [0, lim) are visible */
                    float mx = -INFINITY;
                    for (int j = 0; j < lim; j++) mx = p[j] > mx ? p[j] : mx;
                    float sum = 0.0f;
                    for (int j = 0; j < lim; j++) {
                        p[j] = expf(p[j] - mx);
                        sum += p[j];
                    }
                    float inv = 1.0f / sum;
                    for (int j = 0; j < lim; j++) p[j] *= inv;
                    for (int j = lim; j < r1; j++) p[j] = 0.0f;
                }
                /* O[rb, hd] = P V */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rb, hd, r1, 1.0f, P, r1, Vv, ld, 0.0f,
                            out + (size_t)(s + r0) * qd + (size_t)h * hd, qd);
                used += (size_t)rb * r1;
            }
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
            for (int h = 0; h < nh; h++) {
                int kh = h / grp;
                const float *P = att + used;
                const float *Q = q + (size_t)(s + r0) * ld + (size_t)h * hd;
                const float *K = k + (size_t)s * ld + (size_t)kh * hd;
                const float *Vv = v + (size_t)s * ld + (size_t)kh * hd;
                const float *dO = dout + (size_t)(s + r0) * qd + (size_t)h * hd;
                /* dP[rb, r1] = dO V^T */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rb, r1, hd, 1.0f, dO, qd, Vv, ld, 0.0f, dS, r1);
                /* dS = P * (dP - rowsum(P*dP)) * scale */
                for (int i = 0; i < rb; i++) {
                    const float *p = P + (size_t)i * r1;
                    float *ds = dS + (size_t)i * r1;
                    int lim = r0 + i + 1;
                    float dot = 0.0f;
                    for (int j = 0; j < lim; j++) dot += p[j] * ds[j];
                    for (int j = 0; j < lim; j++) ds[j] = p[j] * (ds[j] - dot) * scale;
                    for (int j = lim; j < r1; j++) ds[j] = 0.0f;
                }
                /* dQ[rb, hd] = dS K ; dK[r1, hd] += dS^T Q ; dV[r1, hd] += P^T dO */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rb, hd, r1, 1.0f, dS, r1, K, ld, 0.0f,
                            dq + (size_t)(s + r0) * ld + (size_t)h * hd, ld);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r1, hd, rb, 1.0f, dS, r1, Q, ld, 1.0f,
                            dk + (size_t)s * ld + (size_t)kh * hd, ld);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r1, hd, rb, 1.0f, P, r1, dO, qd, 1.0f,
                            dv + (size_t)s * ld + (size_t)kh * hd, ld);
                used += (size_t)rb * r1;
            }
        }
    }
}
