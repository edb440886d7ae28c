#ifndef RETORT_INFER_H
#define RETORT_INFER_H
#include <stdint.h>
#include "core/rng.h"
#include "distill/model.h"

/* Inference for the student architectures: a forward over new tokens that reads
 * and writes a per-sequence KV cache, batched across sequences of different
 * lengths (one sgemm per projection for all new tokens of all sequences), and
 * the samplers (greedy, temperature, top-k, top-p) on top of it.
 *
 * The cache has nslots slots; a slot holds one sequence's keys and values for
 * every layer, up to max_len positions. A slot is reused by resetting its
 * length to 0 (continuous batching: a finished sequence's slot takes the next
 * prompt while the others keep decoding). */
typedef struct {
    int nslots, max_len, L, kvd;
    float *k, *v;            /* [L][nslots][max_len][kvd] keys after RoPE, values */
    int *len;                /* [nslots] positions filled */
    float *rope_cos, *rope_sin;   /* [max_len, hd/2] */
    /* scratch for a forward of up to cap tokens */
    int cap;
    float *x, *xn, *qkv, *ao, *gu, *hm, *rows, *scores, *logits;
    int32_t *pos;
    int *slot_of;
    int cap_rows;
} kv_cache;

/* Allocate a cache for nslots sequences of up to max_len tokens each. */
int kv_cache_init(kv_cache *kv, const model_config *c, int nslots, int max_len);
void kv_cache_free(kv_cache *kv);
size_t kv_cache_bytes(const model_config *c, int nslots, int max_len);

/* Append new tokens to several slots at once and return the logits of each
 * slot's last new token. nseq entries: slot[s] receives ntok[s] >= 1 tokens,
 * taken in order from tokens[] (sum ntok[s] in all). logits_out: [nseq, V].
 * When all_logits is set, logits_out is [sum ntok, V]: every new position.
 * Returns 0, or -1 (err_msg) when a slot would exceed max_len. */
int model_decode(model_t *m, kv_cache *kv, const int *slot, const int *ntok, const uint32_t *tokens, int nseq,
                 float *logits_out, int all_logits);

/* ---- sampling ---- */
typedef struct {
    double temperature;      /* 0: greedy (argmax) */
    int top_k;               /* 0: off */
    double top_p;            /* 1: off */
} sample_opts;

/* Scratch the samplers need for a vocabulary of V. */
typedef struct {
    int V;
    float *p;
    int *idx;
} sampler_scratch;
void sampler_scratch_init(sampler_scratch *s, int V);
void sampler_scratch_free(sampler_scratch *s);

/* The distribution the sampler draws from after temperature, top-k and top-p:
 * probs[V] (zeros outside the kept set). Exposed for tests. */
void sample_probs(const float *logits, int V, const sample_opts *o, sampler_scratch *s, float *probs);
/* Draw one token id. Greedy when temperature == 0 (the lowest id among ties). */
int sample_token(const float *logits, int V, const sample_opts *o, sampler_scratch *s, rng_t *rng);

/* ---- generation ---- */
enum { GEN_RUNNING = 0, GEN_STOP, GEN_LENGTH };

typedef struct {
    const uint32_t *prompt;  /* prompt ids (BOS included if the template has one) */
    int prompt_len;
    uint64_t seed;           /* per-sequence seed: a sample does not depend on its batch */
    /* filled by infer_generate */
    uint32_t *out;           /* generated ids (the stop token not included); malloc'd */
    int n_out;
    int finish;              /* GEN_STOP | GEN_LENGTH */
    double seconds;          /* from admission to finish */
} gen_seq;

typedef struct {
    sample_opts sample;
    int max_new;             /* maximum new tokens per sequence */
    const uint32_t *stop;    /* token ids that end a sequence (EOS, end of turn) */
    int nstop;
    int batch;               /* sequences decoded together (cache slots) */
    /* called for every generated token (not the stop token); may be NULL */
    void (*on_token)(void *ctx, int seq, uint32_t id);
    void *ctx;
} gen_opts;

/* Generate for n sequences with continuous batching: up to batch sequences are
 * decoded together, and a finished sequence's slot is refilled from the queue
 * in the same forward call that decodes the others. Returns 0 or -1 (err_msg).
 * Sets *tokens_out to the number of generated tokens (for tokens/s). */
int infer_generate(model_t *m, gen_seq *seqs, int n, const gen_opts *o, long *tokens_out);
void gen_seq_free(gen_seq *s);

#endif
