#ifndef RETORT_STRBUF_H
#define RETORT_STRBUF_H
#include <stddef.h>
#include <stdarg.h>

/* A growable byte string, always NUL-terminated. Reused across iterations on
 * hot paths (sb_reset keeps the allocation). */
typedef struct {
    char *s;
    size_t len, cap;
} strbuf;

void sb_init(strbuf *b);
void sb_free(strbuf *b);
static inline void sb_reset(strbuf *b) { b->len = 0; if (b->s) b->s[0] = 0; }
void sb_grow_slow(strbuf *b, size_t extra);
/* Make room for extra more bytes (and the NUL). Inline: it runs on every append. */
static inline void sb_grow(strbuf *b, size_t extra) {
    if (b->len + extra + 1 > b->cap) sb_grow_slow(b, extra);
}
void sb_putn(strbuf *b, const char *s, size_t n);
void sb_puts(strbuf *b, const char *s);
void sb_putc(strbuf *b, char c);
void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(strbuf *b, const char *fmt, va_list ap);
/* Truncate to n bytes (n <= len). */
void sb_truncate(strbuf *b, size_t n);
/* Detach the string; the buffer is left empty. */
char *sb_steal(strbuf *b);

#endif
