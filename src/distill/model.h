#ifndef RETORT_MODEL_H
#define RETORT_MODEL_H
#include <stddef.h>
#include <stdint.h>
/* cblas.h pulls in complex.h, whose macro I would clash with the MLP width I
 * used throughout (include cblas.h before this header). */
#ifdef I
#undef I
#endif

/* A decoder-only transformer with exactly the maths of Hugging Face's Qwen2
 * (q/k/v bias) and Llama (no bias, optional llama3 RoPE scaling), written in the
 * style of llm.c: every parameter lives in one fp32 buffer, gradients in a second
 * buffer with the same layout, AdamW moments in two more; forward and backward are
 * written per operation; every matmul goes through cblas_sgemm.
 *
 * A batch is a flat run of N tokens made of whole documents (packed samples):
 * pos[t] restarts at 0 at each document and attention never crosses a document
 * boundary, so packing needs no padding and no attention mask tensor. */

enum { ARCH_QWEN2 = 0, ARCH_LLAMA = 1 };

typedef struct {
    int arch;             /* ARCH_QWEN2 | ARCH_LLAMA */
    int V, H, I, L;       /* vocab, hidden, intermediate (MLP), layers */
    int nh, nkv, hd;      /* attention heads, key/value heads, head dim */
    int max_pos;          /* max_position_embeddings */
    double theta, eps;    /* rope_theta, rms_norm_eps */
    int tied;             /* tie_word_embeddings: lm_head is embed_tokens */
    int qkv_bias;         /* Qwen2: 1; Llama: attention_bias (normally 0) */
    int rope_llama3;      /* rope_scaling.rope_type == "llama3" */
    double rs_factor, rs_low, rs_high; /* llama3 factor, low_freq_factor, high_freq_factor */
    int rs_orig;          /* original_max_position_embeddings */
    int bos, eos;         /* -1 when unknown */
    double init_std;      /* initializer_range */
} model_config;

/* One named tensor inside the parameter buffer, in Hugging Face's naming and
 * [out, in] shape convention. */
typedef struct {
    char name[64];
    int ndim;
    int shape[2];
    size_t off, n;        /* offset and element count in params/grads */
    int is_matrix;        /* weight decay applies (HF Trainer's convention) */
} model_tensor;

/* Pointers into the parameter (or gradient) buffer. Shapes [out, in]. Within a
 * layer q/k/v weights are adjacent (and so are their biases, and gate/up), so one
 * sgemm computes all three projections: wq is then Wqkv [qd+2*kvd, H]. The
 * Hugging Face names map onto these slices (model_tensor). */
typedef struct {
    float *ln1;           /* [H] input_layernorm */
    float *wq, *wk, *wv;  /* [qd, H], [kvd, H], [kvd, H] contiguous */
    float *bq, *bk, *bv;  /* [qd], [kvd], [kvd] contiguous; NULL without bias */
    float *wo;            /* [H, qd] */
    float *ln2;           /* [H] post_attention_layernorm */
    float *wg, *wu;       /* [I, H] gate_proj, up_proj, contiguous */
    float *wd;            /* [H, I] down_proj */
} layer_w;

typedef struct {
    float *embed;         /* [V, H] */
    float *norm;          /* [H] */
    float *head;          /* [V, H]; == embed when tied */
    layer_w *layers;      /* [L] */
} model_w;

/* Activations for a batch of up to cap tokens, kept for the backward pass.
 * qd = nh*hd, kvd = nkv*hd, QKV = qd + 2*kvd. */
typedef struct {
    int cap;              /* tokens */
    size_t cap_att;       /* floats of attention probabilities per layer */
    int cap_rows;         /* LM-head rows (targets) */
    int cap_doc;          /* longest document the buffers allow */
    float *resid;         /* [L+1][N,H] residual stream at each layer input; [L] is the last */
    float *ln1, *rstd1;   /* [L][N,H], [L][N] */
    float *qkv;           /* [L][N,QKV]; q and k after RoPE */
    float *att;           /* [L][cap_att] softmax probabilities per doc row block */
    float *ao;            /* [L][N,qd] attention output (before o_proj) */
    float *mid;           /* [L][N,H] residual after attention */
    float *ln2, *rstd2;   /* [L][N,H], [L][N] */
    float *gu;            /* [L][N,2I] gate | up */
    float *hm;            /* [L][N,I] silu(gate)*up */
    float *lnf, *rstdf;   /* [N,H], [N] final norm */
    float *xrows;         /* [M,H] final-norm rows that have a target */
    float *logits;        /* [M,V] logits, then probabilities, then dlogits */
    /* backward scratch */
    float *d1, *d2;       /* [N,H] */
    float *dqkv;          /* [N,QKV] */
    float *dao;           /* [N,qd] */
    float *dh;            /* [N,I] */
    float *dgu;           /* [N,2I] */
    float *dS;            /* [attention block scratch] */
    float *dxrows;        /* [M,H] */
} model_acts;

/* The batch the last forward saw. */
typedef struct {
    int N, M, ndocs;
    uint32_t *ids;        /* [N] */
    int *doc_len;         /* [ndocs] */
    int32_t *pos;         /* [N] position within its document */
    int32_t *rows;        /* [M] token index of each LM-head row */
    int32_t *tgt;         /* [M] target id of each row */
    int cap_docs;
    size_t att_used;
} model_batch;

typedef struct {
    model_config c;
    size_t nparams;
    model_tensor *tensors;
    int ntensors;
    float *params, *grads, *m, *v;   /* each [nparams]; grads/m/v NULL until needed */
    model_w w, g;                    /* views into params and grads */
    float *rope_cos, *rope_sin;      /* [rope_len, hd/2] */
    int rope_len;
    model_acts a;
    model_batch b;
    int64_t adam_t;                  /* AdamW steps taken */
    double *nll;                     /* [cap] per-row loss of the last forward */
} model_t;

/* Config helpers. */
void model_config_default(model_config *c);
/* Fill c from a preset name; returns 0, or -1 (err_msg) for an unknown name. */
int model_preset(const char *name, model_config *c);
const char *model_preset_names(void);   /* "tiny|small|..." */
int model_config_check(const model_config *c);   /* -1 with err_msg when inconsistent */
/* Parse a Hugging Face config.json text (both the old rope_theta/rope_scaling/
 * torch_dtype keys and the newer rope_parameters/dtype). dtype gets the stored dtype. */
int model_config_parse(const char *json, const char *path, model_config *c, char *dtype, size_t dtype_n);
/* config.json text (malloc'd) for saving, with dtype "float32" or "bfloat16". */
char *model_config_json(const model_config *c, const char *dtype);

size_t model_param_count(const model_config *c);
/* Bytes the model needs: params (+ grads, + AdamW moments when training) and
 * activations for a batch of n_tokens with documents of up to doc_len tokens. */
size_t model_mem_estimate(const model_config *c, int n_tokens, int doc_len, int train, int optimizer);

/* Allocate parameters (zeroed) and the tensor table. Refuses (returns -1) when
 * the estimate exceeds MemAvailable. */
int model_create(model_t *m, const model_config *c);
void model_free(model_t *m);
/* Random init as Hugging Face does: normal(0, init_std) for matrices and
 * embeddings, zero biases, unit norms. */
void model_init_random(model_t *m, uint64_t seed);
/* Allocate grads (zeroed) and, when optimizer, AdamW moments. */
void model_alloc_train(model_t *m, int optimizer);
/* Make room for batches of up to n_tokens whose documents are at most doc_len long. */
void model_reserve(model_t *m, int n_tokens, int doc_len);
model_tensor *model_find_tensor(model_t *m, const char *name);

/* Forward over a packed batch. ids[N]; doc_len[ndocs] the lengths of the
 * documents in order (sum = N). targets[N]: the id to predict at each position,
 * or -1 to skip the LM head there. Returns the summed cross-entropy over the
 * targets (double) and sets *n_targets. When logits_out is non-NULL the raw
 * logits of the target rows are copied there ([M,V]) and no loss is taken. */
double model_forward(model_t *m, const uint32_t *ids, int N, const int *doc_len, int ndocs,
                     const int32_t *targets, int *n_targets, float *logits_out);
/* Backward of loss_scale * (summed CE of the last forward); gradients are
 * accumulated (+=) into m->grads, so micro-batches add up. */
void model_backward(model_t *m, float loss_scale);
void model_zero_grad(model_t *m);
/* L2 norm of all gradients (double accumulation). */
double model_grad_norm(const model_t *m);
void model_scale_grads(model_t *m, float s);
/* One AdamW step with PyTorch's semantics. decay_all: weight decay on every
 * tensor (torch.optim.AdamW(model.parameters())); otherwise matrices and
 * embeddings only (HF Trainer). */
void model_adamw(model_t *m, float lr, float b1, float b2, float eps, float wd, int decay_all);

/* Threads for OpenBLAS and for our own elementwise loops (src/distill/par.c),
 * which take turns: OpenBLAS is only called between parallel loops. 0 = nproc. */
void model_set_threads(int n);

/* The individual operations, exposed for tests. Shapes in comments. */
void op_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, int N, int H, float eps);
void op_rmsnorm_bwd(float *dx, float *dw, const float *dout, const float *x, const float *w, const float *rstd, int N, int H);
/* out[N,O] = x[N,I] W[O,I]^T + b[O] (b may be NULL) */
void op_matmul_fwd(float *out, const float *x, const float *W, const float *b, int N, int I, int O);
/* dx[N,I] (+)= dout W ; dW[O,I] += dout^T x ; db += colsum(dout). dx_accumulate: add into dx. */
void op_matmul_bwd(float *dx, float *dW, float *db, const float *dout, const float *x, const float *W, int N, int I, int O, int dx_accumulate);
/* In place on rows of x with row stride ld: heads [nheads*hd] starting at x. */
void op_rope_fwd(float *x, int ld, const int32_t *pos, const float *cos, const float *sin, int N, int nheads, int hd);
void op_rope_bwd(float *dx, int ld, const int32_t *pos, const float *cos, const float *sin, int N, int nheads, int hd);
/* h[t,i] = silu(gu[t,i]) * gu[t,I+i] for gu [N,2I], h [N,I] */
void op_swiglu_fwd(float *h, const float *gu, int N, int I);
void op_swiglu_bwd(float *dgu, const float *dh, const float *gu, int N, int I);
/* Causal attention within documents, scale hd^-0.5, GQA (q head h reads kv head
 * h/(nh/nkv)). q,k,v rows have stride ld; out [N, nh*hd]. att receives the
 * probabilities; returns the floats used. */
size_t op_attention_fwd(float *out, float *att, const float *q, const float *k, const float *v, int ld,
                        const int *doc_len, int ndocs, int nh, int nkv, int hd);
/* dq, dk, dv (stride ld) are overwritten. dS: scratch of op_attention_scratch floats. */
void op_attention_bwd(float *dq, float *dk, float *dv, float *dS, const float *dout, const float *att,
                      const float *q, const float *k, const float *v, int ld, const int *doc_len, int ndocs,
                      int nh, int nkv, int hd);
size_t op_attention_floats(const int *doc_len, int ndocs, int nh);
size_t op_attention_scratch(int doc_len, int nh);
/* Rope tables for positions [0, len). */
void rope_tables(const model_config *c, int len, float *cos, float *sin);

#endif
