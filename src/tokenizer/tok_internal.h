#ifndef RETORT_TOK_INTERNAL_H
#define RETORT_TOK_INTERNAL_H
/* Shared between the encoder (tokenizer.c) and the trainer (train.c); not
 * part of the public API. */
#include "tokenizer/tokenizer.h"

/* Called for each piece the pre-tokenizer produces: bytes of the normalized
 * text before the ByteLevel mapping. An added token found in the text is
 * reported through added() instead. */
typedef struct {
    void (*piece)(void *ctx, const char *s, size_t n);
    void (*added)(void *ctx, uint32_t id);
    void *ctx;
} tok_sink;

/* sanitize -> split out added tokens -> normalize -> pre-tokenize. */
void tokenizer_pretokenize(tokenizer_t *t, const char *text, size_t len, const tok_sink *sink);

/* The Qwen2 pre-tokenizer regex, as tokenizer.json spells it (the trainer
 * writes it into the files it produces). */
extern const char *const QWEN2_SPLIT_REGEX;

/* Code point -> byte for the ByteLevel alphabet; -1 if cp is not in it. */
int bytelevel_byte(uint32_t cp);

#endif
