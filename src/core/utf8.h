#ifndef RETORT_UTF8_H
#define RETORT_UTF8_H
#include <stddef.h>
#include <stdint.h>

/* Decode one code point from s[0..n). Returns its length in bytes (1..4) and
 * stores it in *cp, or returns 0 for an invalid or truncated sequence
 * (overlongs, surrogates and > U+10FFFF are invalid). */
int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Byte offset of the first invalid sequence, or (size_t)-1 if s is valid. */
size_t utf8_invalid_at(const char *s, size_t n);
/* Encode cp; returns the number of bytes written to out (1..4). */
int utf8_encode(uint32_t cp, char *out);

#endif
