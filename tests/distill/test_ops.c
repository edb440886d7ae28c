/* Every operation's backward against central finite differences of its forward.
 * The scalar is L = sum(out * R) for a fixed random R, accumulated in double, so
 * dL/dout = R and the analytic gradient is backward(R). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "test.h"
#include "core/rng.h"
#include "distill/model.h"
#include "distill/blas_arch.h"
#include "distill/par.h"

static rng_t rng;
static void randn(float *x, size_t n, double s) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(rng_normal(&rng) * s);
}
static double dotd(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Compare analytic gradient g[n] of input x[n] with finite differences of f. */
typedef double (*scalar_fn)(void *ctx);
static void fd_check(const char *what, float *x, const float *g, size_t n, scalar_fn f, void *ctx, float h) {
    double worst = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        float x0 = x[i];
        x[i] = x0 + h;
        double lp = f(ctx);
        x[i] = x0 - h;
        double lm = f(ctx);
        x[i] = x0;
        double fd = (lp - lm) / (2.0 * (double)h);
        double err = fabs(fd - g[i]), tol = 2e-3 + 1e-2 * fabs(fd);
        if (err > tol) bad++;
        if (err > worst) worst = err;
    }
    CHECKF(bad == 0, "%s: %zu of %zu gradients differ from finite differences (worst abs err %.3g)", what, bad, n, worst);
}

/* ---- RMSNorm ---- */
enum { N = 5, H = 12 };
static float rx[N * H], rw[H], rR[N * H], rout[N * H], rrstd[N];
static double rms_loss(void *c) {
    (void)c;
    op_rmsnorm_fwd(rout, rrstd, rx, rw, N, H, 1e-5f);
    return dotd(rout, rR, N * H);
}
static void test_rmsnorm(void) {
    randn(rx, N * H, 1.0); randn(rw, H, 1.0); randn(rR, N * H, 1.0);
    float dx[N * H], dw[H];
    memset(dx, 0, sizeof dx); memset(dw, 0, sizeof dw);
    rms_loss(NULL);
    op_rmsnorm_bwd(dx, dw, rR, rx, rw, rrstd, N, H);
    fd_check("rmsnorm dx", rx, dx, N * H, rms_loss, NULL, 1e-2f);
    fd_check("rmsnorm dw", rw, dw, H, rms_loss, NULL, 1e-2f);
    /* the forward itself against its definition */
    double ss = 0;
    for (int i = 0; i < H; i++) ss += (double)rx[i] * rx[i];
    CHECK(fabs(rout[3] - rw[3] * rx[3] / sqrt(ss / H + 1e-5)) < 1e-5);
}

/* ---- matmul with bias ---- */
enum { MI = 7, MO = 6 };
static float mx[N * MI], mW[MO * MI], mb[MO], mR[N * MO], mout[N * MO];
static double mm_loss(void *c) {
    (void)c;
    op_matmul_fwd(mout, mx, mW, mb, N, MI, MO);
    return dotd(mout, mR, N * MO);
}
static void test_matmul(void) {
    randn(mx, N * MI, 1.0); randn(mW, MO * MI, 1.0); randn(mb, MO, 1.0); randn(mR, N * MO, 1.0);
    float dx[N * MI], dW[MO * MI], db[MO];
    memset(dW, 0, sizeof dW); memset(db, 0, sizeof db);
    op_matmul_bwd(dx, dW, db, mR, mx, mW, N, MI, MO, 0);
    fd_check("matmul dx", mx, dx, N * MI, mm_loss, NULL, 1e-2f);
    fd_check("matmul dW", mW, dW, MO * MI, mm_loss, NULL, 1e-2f);
    fd_check("matmul db", mb, db, MO, mm_loss, NULL, 1e-2f);
    mm_loss(NULL);
    double want = mb[2];
    for (int i = 0; i < MI; i++) want += (double)mx[MI + i] * mW[2 * MI + i];
    CHECK(fabs(mout[MO + 2] - want) < 1e-4);
}

/* ---- RoPE ---- */
enum { RH = 2, RD = 8, RLD = RH * RD + 3 };
static float qx[N * RLD], qR[N * RLD], qbuf[N * RLD], qcos[64 * RD / 2], qsin[64 * RD / 2];
static int32_t qpos[N] = {0, 5, 2, 33, 1};
static double rope_loss(void *c) {
    (void)c;
    memcpy(qbuf, qx, sizeof qx);
    op_rope_fwd(qbuf, RLD, qpos, qcos, qsin, N, RH, RD);
    double s = 0;
    for (int t = 0; t < N; t++) s += dotd(qbuf + t * RLD, qR + t * RLD, RH * RD);
    return s;
}
static void test_rope(void) {
    model_config c;
    model_config_default(&c);
    c.hd = RD; c.theta = 100.0;
    rope_tables(&c, 64, qcos, qsin);
    randn(qx, N * RLD, 1.0); randn(qR, N * RLD, 1.0);
    float g[N * RLD];
    memcpy(g, qR, sizeof g);
    op_rope_bwd(g, RLD, qpos, qcos, qsin, N, RH, RD);
    for (int t = 0; t < N; t++) memset(g + t * RLD + RH * RD, 0, 3 * sizeof(float)); /* padding is not rotated */
    fd_check("rope", qx, g, N * RLD, rope_loss, NULL, 1e-2f);
    /* rotate-half convention: element 1 pairs with element 1 + hd/2 at angle pos * theta^(-2/hd) */
    rope_loss(NULL);
    double ang = 5 * pow(100.0, -2.0 / RD);
    const float *x1 = qx + RLD, *o1 = qbuf + RLD;
    CHECK(fabs(o1[1] - (x1[1] * cos(ang) - x1[1 + RD / 2] * sin(ang))) < 1e-5);
    CHECK(fabs(o1[1 + RD / 2] - (x1[1 + RD / 2] * cos(ang) + x1[1] * sin(ang))) < 1e-5);
}

/* ---- llama3 RoPE scaling against values computed by hand from HF's rule ---- */
static void test_rope_llama3(void) {
    model_config c;
    model_config_default(&c);
    c.hd = 128; c.theta = 5e5; c.rope_llama3 = 1; c.rs_factor = 8; c.rs_low = 1; c.rs_high = 4; c.rs_orig = 8192;
    float cs[2 * 64], sn[2 * 64];
    rope_tables(&c, 2, cs, sn);
    int checked = 0;
    for (int j = 0; j < 64; j++) {
        double inv = pow(5e5, -2.0 * j / 128), wl = 2 * M_PI / inv, want;
        if (wl < 8192.0 / 4) want = inv;                 /* high frequency: unchanged */
        else if (wl > 8192.0) want = inv / 8;            /* low frequency: divided by factor */
        else {
            double sm = (8192.0 / wl - 1) / (4 - 1);
            want = (1 - sm) * inv / 8 + sm * inv;
        }
        double got = atan2(sn[64 + j], cs[64 + j]);      /* angle at position 1 */
        if (fabs(got - want) <= 1e-6 * fabs(want) + 1e-12) checked++;
    }
    CHECKF(checked == 64, "llama3 inv_freq: %d of 64 match", checked);
}

/* ---- SwiGLU ---- */
enum { SI = 9 };
static float sgu[N * 2 * SI], sR[N * SI], sh[N * SI];
static double swiglu_loss(void *c) {
    (void)c;
    op_swiglu_fwd(sh, sgu, N, SI);
    return dotd(sh, sR, N * SI);
}
static void test_swiglu(void) {
    randn(sgu, N * 2 * SI, 2.0); randn(sR, N * SI, 1.0);
    float dgu[N * 2 * SI];
    op_swiglu_bwd(dgu, sR, sgu, N, SI);
    fd_check("swiglu", sgu, dgu, N * 2 * SI, swiglu_loss, NULL, 1e-3f);
}

/* ---- attention over packed documents ---- */
typedef struct {
    int nh, nkv, hd, ld, N, ndocs;
    const int *docs;
    float *qkv, *out, *att, *R;
} att_ctx;
static double att_loss(void *p) {
    att_ctx *a = p;
    int qd = a->nh * a->hd, kvd = a->nkv * a->hd;
    op_attention_fwd(a->out, a->att, a->qkv, a->qkv + qd, a->qkv + qd + kvd, a->ld, a->docs, a->ndocs, a->nh, a->nkv, a->hd);
    return dotd(a->out, a->R, (size_t)a->N * qd);
}
/* naive double-precision attention for one output element */
static double att_naive(const att_ctx *a, int t, int h, int e) {
    int qd = a->nh * a->hd, kvd = a->nkv * a->hd, kh = h / (a->nh / a->nkv);
    int s = 0, d = 0;
    while (t >= s + a->docs[d]) s += a->docs[d++];
    double mx = -1e300, w[4096], sum = 0, o = 0;
    for (int j = s; j <= t; j++) {
        double dot = 0;
        for (int i = 0; i < a->hd; i++) dot += (double)a->qkv[t * a->ld + h * a->hd + i] * a->qkv[j * a->ld + qd + kh * a->hd + i];
        w[j - s] = dot / sqrt(a->hd);
        if (w[j - s] > mx) mx = w[j - s];
    }
    for (int j = s; j <= t; j++) sum += (w[j - s] = exp(w[j - s] - mx));
    for (int j = s; j <= t; j++) o += w[j - s] / sum * a->qkv[j * a->ld + qd + kvd + kh * a->hd + e];
    return o;
}
static void test_attention(int ndocs, const int *docs, int fd_all) {
    att_ctx a = {.nh = 4, .nkv = 2, .hd = 4, .docs = docs, .ndocs = ndocs};
    for (int d = 0; d < ndocs; d++) a.N += docs[d];
    int qd = a.nh * a.hd, kvd = a.nkv * a.hd;
    a.ld = qd + 2 * kvd;
    a.qkv = malloc(sizeof(float) * a.N * a.ld);
    a.out = malloc(sizeof(float) * a.N * qd);
    a.R = malloc(sizeof(float) * a.N * qd);
    a.att = malloc(sizeof(float) * op_attention_floats(docs, ndocs, a.nh));
    randn(a.qkv, (size_t)a.N * a.ld, 1.0);
    randn(a.R, (size_t)a.N * qd, 1.0);
    att_loss(&a);
    /* forward against the naive definition (document boundaries included) */
    double worst = 0;
    for (int t = 0; t < a.N; t += (a.N > 40 ? 7 : 1))
        for (int h = 0; h < a.nh; h++)
            for (int e = 0; e < a.hd; e++) {
                double err = fabs(att_naive(&a, t, h, e) - a.out[t * qd + h * a.hd + e]);
                if (err > worst) worst = err;
            }
    CHECKF(worst < 1e-5, "attention forward vs naive: %.3g", worst);
    int maxdoc = 0;
    for (int d = 0; d < ndocs; d++) maxdoc = docs[d] > maxdoc ? docs[d] : maxdoc;
    float *g = calloc((size_t)a.N * a.ld, sizeof(float)), *dS = malloc(sizeof(float) * op_attention_scratch(maxdoc, a.nh));
    op_attention_bwd(g, g + qd, g + qd + kvd, dS, a.R, a.att, a.qkv, a.qkv + qd, a.qkv + qd + kvd, a.ld, docs, ndocs,
                     a.nh, a.nkv, a.hd);
    if (fd_all) fd_check("attention dq/dk/dv", a.qkv, g, (size_t)a.N * a.ld, att_loss, &a, 1e-2f);
    else { /* long documents: a sample of rows, across the row-block boundaries */
        int rows[] = {0, 1, 127, 128, 129, a.N - 1};
        for (int i = 0; i < 6; i++)
            fd_check("attention (long doc) dq/dk/dv", a.qkv + rows[i] * a.ld, g + rows[i] * a.ld, a.ld, att_loss, &a, 1e-2f);
    }
    free(a.qkv); free(a.out); free(a.R); free(a.att); free(g); free(dS);
}

/* blas_init() flushes denormals in every compute thread: ours (par_for) and
 * OpenBLAS's workers, which start before main() and must be restarted for it.
 * 1e-20 * 1e-20 is a denormal result; flushed, every sum of such products is 0. */
static void flags_ok(void *ctx, int begin, int end, int thread) {
    (void)thread;
    for (int i = begin; i < end; i++) ((int *)ctx)[i] = blas_flushes_denormals();
}
static int denormal_outputs(void) { /* of a two-thread sgemm whose products are all denormal */
    enum { M = 1024, N = 1024, K = 256 };
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N), *C = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K; i++) A[i] = 1e-20f;
    for (int i = 0; i < K * N; i++) B[i] = 1e-20f;
    openblas_set_num_threads(2);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
    openblas_set_num_threads(1);
    int nonzero = 0;
    for (int i = 0; i < M * N; i++) nonzero += C[i] != 0.0f;
    free(A); free(B); free(C);
    return nonzero;
}
static void test_denormals(void) {
    CHECK(blas_flushes_denormals());
    volatile float tiny = 1e-20f;
    CHECK(tiny * tiny == 0.0f);
    par_set_threads(2);
    int flag[64];
    par_for(64, 1, flags_ok, flag);
    int all = 1;
    for (int i = 0; i < 64; i++) all &= flag[i];
    CHECK(all);
    par_set_threads(1);
    int n = denormal_outputs();
    CHECKF(n == 0, "%d sgemm outputs kept denormals (an OpenBLAS worker does not flush)", n);
    /* and off again: gradual underflow everywhere, so the check above can fail */
    blas_flush_denormals(0);
    CHECK(!blas_flushes_denormals() && tiny * tiny > 0.0f);
    n = denormal_outputs();
    CHECKF(n == 1024 * 1024, "%d of %d sgemm outputs denormal with flushing off", n, 1024 * 1024);
    blas_flush_denormals(1);
    CHECK(blas_flushes_denormals());
}

int main(int argc, char **argv) {
    (void)argc;
    blas_init(argv);
    test_denormals();
    openblas_set_num_threads(1);
    rng_seed(&rng, 42);
    test_rmsnorm();
    test_matmul();
    test_rope();
    test_rope_llama3();
    test_swiglu();
    int docs[] = {3, 1, 6};
    test_attention(3, docs, 1);
    int longdoc[] = {200, 5};
    test_attention(2, longdoc, 0);
    return test_report("test_ops");
}
