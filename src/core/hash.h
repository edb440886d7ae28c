#ifndef RETORT_HASH_H
#define RETORT_HASH_H
#include <stdint.h>
#include <stddef.h>

/* SHA-256, for content hashes that end up as UNIQUE keys in the database:
 * a collision there would silently drop data, so no 64-bit shortcut. */
typedef struct {
    uint32_t h[8];
    uint64_t nbytes;
    unsigned char buf[64];
    size_t nbuf;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, unsigned char out[32]);
/* Hex of the first nbytes of SHA-256(data); out must hold 2*nbytes+1. */
void sha256_hex(const void *data, size_t n, char *out, size_t nbytes);

/* 64-bit non-cryptographic hash (FNV-1a then a murmur finalizer) for seeds and
 * in-memory tables. */
uint64_t hash64(const void *data, size_t n, uint64_t seed);
uint64_t mix64(uint64_t x);

#endif
