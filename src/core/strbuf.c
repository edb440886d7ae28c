#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <assert.h>
#include "core/strbuf.h"
#include "core/err.h"

void sb_init(strbuf *b) { b->s = NULL; b->len = b->cap = 0; }
void sb_free(strbuf *b) { free(b->s); sb_init(b); }

void sb_grow_slow(strbuf *b, size_t extra) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
}

void sb_putn(strbuf *b, const char *s, size_t n) {
    sb_grow(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}
void sb_puts(strbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
void sb_putc(strbuf *b, char c) {
    sb_grow(b, 1);
    b->s[b->len++] = c;
    b->s[b->len] = 0;
}

void sb_vprintf(strbuf *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    sb_grow(b, 64);
    int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    if (n < 0) die("sb_printf: bad format");
    if ((size_t)n >= b->cap - b->len) {
        sb_grow(b, (size_t)n);
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    b->len += (size_t)n;
}
void sb_printf(strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(b, fmt, ap);
    va_end(ap);
}

void sb_truncate(strbuf *b, size_t n) {
    assert(n <= b->len);
    b->len = n;
    if (b->s) b->s[n] = 0;
}

char *sb_steal(strbuf *b) {
    char *s = b->s ? b->s : xstrdup("");
    sb_init(b);
    return s;
}
