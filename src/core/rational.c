#include <string.h>
#include <ctype.h>
#include <stdlib.h>
#include "core/rational.h"

/* Append a machine integer; the common case of rat_put, without GMP's string code. */
static void put_long(strbuf *b, long v) {
    char tmp[24];
    int n = 0;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) tmp[n++] = '-';
    sb_grow(b, (size_t)n);
    while (n) b->s[b->len++] = tmp[--n];
    b->s[b->len] = 0;
}

void rat_put(strbuf *b, const mpq_t q) {
    if (mpz_fits_slong_p(mpq_numref(q)) && mpz_fits_slong_p(mpq_denref(q))) {
        put_long(b, mpz_get_si(mpq_numref(q)));
        long d = mpz_get_si(mpq_denref(q));
        if (d != 1) { sb_putc(b, '/'); put_long(b, d); }
        return;
    }
    size_t need = mpz_sizeinbase(mpq_numref(q), 10) + mpz_sizeinbase(mpq_denref(q), 10) + 3;
    sb_grow(b, need);
    mpz_get_str(b->s + b->len, 10, mpq_numref(q));
    b->len += strlen(b->s + b->len);
    if (mpz_cmp_ui(mpq_denref(q), 1) != 0) {
        b->s[b->len++] = '/';
        mpz_get_str(b->s + b->len, 10, mpq_denref(q));
        b->len += strlen(b->s + b->len);
    }
    b->s[b->len] = 0;
}

static int all_digits(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

int rat_parse(mpq_t q, const char *s) {
    int neg = 0;
    if (*s == '-' || *s == '+') { neg = *s == '-'; s++; }
    const char *slash = strchr(s, '/'), *dot = strchr(s, '.');
    size_t n = strlen(s);
    if (slash) {
        size_t a = (size_t)(slash - s);
        if (!all_digits(s, a) || !all_digits(slash + 1, n - a - 1)) return -1;
        char *tmp = strndup(s, n);
        tmp[a] = 0;
        mpz_set_str(mpq_numref(q), tmp, 10);
        mpz_set_str(mpq_denref(q), tmp + a + 1, 10);
        free(tmp);
        if (mpz_sgn(mpq_denref(q)) == 0) return -1;
        mpq_canonicalize(q);
    } else if (dot) {
        size_t a = (size_t)(dot - s), f = n - a - 1;
        if ((a && !all_digits(s, a)) || (f && !all_digits(dot + 1, f)) || (a == 0 && f == 0)) return -1;
        char *tmp = malloc(n + 2);
        memcpy(tmp, s, a);
        memcpy(tmp + a, dot + 1, f);
        tmp[a + f] = 0;
        if (a + f == 0) { free(tmp); return -1; }
        mpz_set_str(mpq_numref(q), tmp, 10);
        free(tmp);
        mpz_ui_pow_ui(mpq_denref(q), 10, f);
        mpq_canonicalize(q);
    } else {
        if (!all_digits(s, n)) return -1;
        mpz_set_str(mpq_numref(q), s, 10);
        mpz_set_ui(mpq_denref(q), 1);
    }
    if (neg) mpq_neg(q, q);
    return 0;
}

void rat_put_fixed(strbuf *b, const mpq_t q, int places) {
    mpz_t scaled, pow, rem;
    mpz_inits(scaled, pow, rem, NULL);
    mpz_ui_pow_ui(pow, 10, (unsigned long)places);
    mpz_mul(scaled, mpq_numref(q), pow);
    /* round half away from zero: (|n|*10^p*2 + d) / (2d) */
    int neg = mpz_sgn(scaled) < 0;
    mpz_abs(scaled, scaled);
    mpz_mul_ui(scaled, scaled, 2);
    mpz_add(scaled, scaled, mpq_denref(q));
    mpz_mul_ui(rem, mpq_denref(q), 2);
    mpz_fdiv_q(scaled, scaled, rem);
    char *digits = mpz_get_str(NULL, 10, scaled);
    size_t nd = strlen(digits);
    if (neg && mpz_sgn(scaled) != 0) sb_putc(b, '-');
    if ((int)nd <= places) {
        sb_putc(b, '0');
        if (places) sb_putc(b, '.');
        for (int i = 0; i < places - (int)nd; i++) sb_putc(b, '0');
        sb_puts(b, digits);
    } else {
        sb_putn(b, digits, nd - (size_t)places);
        if (places) { sb_putc(b, '.'); sb_puts(b, digits + nd - places); }
    }
    void (*freefunc)(void *, size_t);
    mp_get_memory_functions(NULL, NULL, &freefunc);
    freefunc(digits, nd + 1);
    mpz_clears(scaled, pow, rem, NULL);
}

int rat_is_terminating(const mpq_t q) {
    mpz_t d;
    mpz_init_set(d, mpq_denref(q));
    while (mpz_divisible_ui_p(d, 2)) mpz_divexact_ui(d, d, 2);
    while (mpz_divisible_ui_p(d, 5)) mpz_divexact_ui(d, d, 5);
    int r = mpz_cmp_ui(d, 1) == 0;
    mpz_clear(d);
    return r;
}
