#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"

static _Thread_local char err_buf[4096];

void err_vset(const char *fmt, va_list ap) { vsnprintf(err_buf, sizeof err_buf, fmt, ap); }

void err_set(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    err_vset(fmt, ap);
    va_end(ap);
}

void err_prefix(const char *fmt, ...) {
    char pre[1024], old[sizeof err_buf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err_buf, sizeof old);
    /* truncation is fine here: the message is for a person */
    int n = snprintf(err_buf, sizeof err_buf, "%s: ", pre);
    if (n >= 0 && (size_t)n < sizeof err_buf) snprintf(err_buf + n, sizeof err_buf - (size_t)n, "%s", old);
}

const char *err_msg(void) { return err_buf[0] ? err_buf : "unknown error"; }
void err_clear(void) { err_buf[0] = 0; }

void msg(const char *fmt, ...) {
    va_list ap;
    fputs("retort: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void err_print(void) { fprintf(stderr, "retort: error: %s\n", err_msg()); }

_Noreturn void die(const char *fmt, ...) {
    va_list ap;
    fputs("retort: fatal: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory allocating %zu bytes", n);
    return p;
}
void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) die("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}
void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) die("out of memory reallocating %zu bytes", n);
    return p;
}
char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}
