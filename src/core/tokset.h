#ifndef RETORT_TOKSET_H
#define RETORT_TOKSET_H
#include <stdint.h>

/* A tokenized mix: what `retort tokenize` writes and `retort distill` trains on.
 * Sample i spans ids[offsets[i] .. offsets[i+1]). mask[j] == 1 marks token j as
 * a loss target (an assistant token, its EOS included), as the chat template's
 * spans say.
 *
 * File layout (little-endian), see README "Training files":
 *   header, 64 bytes:
 *     char     magic[8] = "RETORTTK"
 *     uint32   version = 1
 *     uint32   header_bytes = 64
 *     uint64   n_samples
 *     uint64   n_tokens
 *     uint32   vocab_size
 *     uint32   bos_id, eos_id, pad_id      (UINT32_MAX when the tokenizer has none)
 *     uint8    reserved[16] = 0
 *   uint64  offsets[n_samples + 1]
 *   int64   trace_ids[n_samples]
 *   uint8   splits[n_samples]            0 = train, 1 = val; zero-padded to a multiple of 8
 *   uint32  ids[n_tokens]
 *   uint8   mask[n_tokens]
 */
typedef struct {
    uint64_t n_samples, n_tokens;
    uint64_t *offsets;    /* [n_samples + 1] */
    int64_t *trace_ids;   /* [n_samples] */
    uint8_t *splits;      /* [n_samples] */
    uint32_t *ids;        /* [n_tokens] */
    uint8_t *mask;        /* [n_tokens] */
    uint32_t vocab_size, bos_id, eos_id, pad_id;
    uint64_t cap_samples, cap_tokens;  /* allocation, for tokset_push */
} tokset_t;

#define TOKSET_NONE UINT32_MAX

void tokset_init(tokset_t *t);
void tokset_free(tokset_t *t);
/* Append one sample (copies ids and mask). */
void tokset_push(tokset_t *t, int64_t trace_id, uint8_t split, const uint32_t *ids, const uint8_t *mask, uint64_t n);
/* Write atomically (temp file + rename). Returns 0 or -1 with err_msg(). */
int tokset_write(const tokset_t *t, const char *path);
/* Read and validate; every malformed field is an error naming the file.
 * *t is overwritten, not freed: pass one that holds nothing (not tokset_init's). */
int tokset_read(const char *path, tokset_t *t);

#endif
