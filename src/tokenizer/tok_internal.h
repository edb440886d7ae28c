#ifndef RETORT_TOK_INTERNAL_H
#define RETORT_TOK_INTERNAL_H
/* Shared between the encoder (tokenizer.c) and the trainer (train.c); not
 * part of the public API. */
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "core/hash.h"
#include "tokenizer/tokenizer.h"

/* uint64 -> uint64 open-addressing map; key UINT64_MAX is the empty slot. */
typedef struct {
    uint64_t *keys, *vals;
    size_t mask, n;
} u64map;

static inline void u64map_init(u64map *m, size_t expect) {
    size_t cap = 16;
    while (cap < expect * 2) cap *= 2;
    m->keys = xmalloc(cap * sizeof *m->keys);
    m->vals = xmalloc(cap * sizeof *m->vals);
    memset(m->keys, 0xff, cap * sizeof *m->keys);
    m->mask = cap - 1;
    m->n = 0;
}
static inline void u64map_free(u64map *m) { free(m->keys); free(m->vals); }
static inline uint64_t *u64map_slot(const u64map *m, uint64_t k) {
    size_t i = mix64(k) & m->mask;
    while (m->keys[i] != UINT64_MAX && m->keys[i] != k) i = (i + 1) & m->mask;
    return &m->keys[i];
}
static inline void u64map_put(u64map *m, uint64_t k, uint64_t v) {
    if ((m->n + 1) * 2 > m->mask + 1) {
        u64map old = *m;
        u64map_init(m, (old.mask + 1));
        for (size_t i = 0; i <= old.mask; i++)
            if (old.keys[i] != UINT64_MAX) u64map_put(m, old.keys[i], old.vals[i]);
        u64map_free(&old);
    }
    uint64_t *s = u64map_slot(m, k);
    if (*s == UINT64_MAX) { *s = k; m->n++; }
    m->vals[s - m->keys] = v;
}
static inline uint64_t u64map_get(const u64map *m, uint64_t k) {
    const uint64_t *s = u64map_slot(m, k);
    return *s == UINT64_MAX ? UINT64_MAX : m->vals[s - m->keys];
}


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
