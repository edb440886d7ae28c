#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <assert.h>
#include "generate/written.h"

/* Magnitudes as decimal digit strings, most significant digit first. The
 * longest is a product of two WRITTEN_MAX_DIGITS-digit numbers. */
#define NUM_CAP (2 * WRITTEN_MAX_DIGITS + 8)
typedef struct { char d[NUM_CAP]; int n; } num;

static void num_set_str(num *x, const char *s) {
    size_t n = strlen(s);
    assert(n < NUM_CAP);
    memcpy(x->d, s, n + 1);
    x->n = (int)n;
}
static void num_set_u(num *x, unsigned long long v) {
    char t[NUM_CAP];
    int k = 0;
    do { t[k++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (int i = 0; i < k; i++) x->d[i] = t[k - 1 - i];
    x->d[k] = 0;
    x->n = k;
}
static unsigned long long num_u(const num *x) { /* only for operands of at most 19 digits */
    unsigned long long v = 0;
    for (int i = 0; i < x->n; i++) v = v * 10 + (unsigned)(x->d[i] - '0');
    return v;
}
/* digit i from the right, 0 past the left end */
static int digit(const num *x, int i) { return i < x->n ? x->d[x->n - 1 - i] - '0' : 0; }
static int num_cmp(const num *x, const num *y) {
    if (x->n != y->n) return x->n < y->n ? -1 : 1;
    return strcmp(x->d, y->d) < 0 ? -1 : strcmp(x->d, y->d) > 0;
}
static void strip_zeros(num *x) {
    int k = 0;
    while (k < x->n - 1 && x->d[k] == '0') k++;
    memmove(x->d, x->d + k, (size_t)(x->n - k + 1));
    x->n -= k;
}

/* The digits written so far, grown to the left: prepending is cheap and the
 * text shows the partial as it stands after each column. */
typedef struct { char b[NUM_CAP + 1]; int start; } partial;
static void partial_init(partial *p) { p->start = NUM_CAP; p->b[NUM_CAP] = 0; }
static void partial_prepend(partial *p, const char *s) {
    int k = (int)strlen(s);
    assert(p->start >= k);
    p->start -= k;
    memcpy(p->b + p->start, s, (size_t)k);
}
static const char *partial_str(const partial *p) { return p->b + p->start; }

/* Column addition of magnitudes x + y into r. */
static void add_work(strbuf *o, const num *x, const num *y, const written_words *w, num *r) {
    int n = x->n > y->n ? x->n : y->n, carry = 0;
    partial p;
    partial_init(&p);
    for (int i = 0; i < n; i++) {
        int s = digit(x, i) + digit(y, i) + carry, last = i == n - 1;
        if (i) sb_puts(o, "; ");
        sb_printf(o, "%d + %d", digit(x, i), digit(y, i));
        if (carry) sb_puts(o, " + 1");
        sb_printf(o, " = %d", s);
        char t[8];
        if (!last && s >= 10) sb_printf(o, ", %s 1", w->carry);
        if (last) snprintf(t, sizeof t, "%d", s); else snprintf(t, sizeof t, "%d", s % 10);
        carry = !last && s >= 10;
        partial_prepend(&p, t);
        sb_printf(o, " → %s", partial_str(&p));
    }
    num_set_str(r, partial_str(&p));
}

/* Column subtraction of magnitudes x - y with x >= y into r. */
static void sub_work(strbuf *o, const num *x, const num *y, const written_words *w, num *r) {
    assert(num_cmp(x, y) >= 0);
    int borrow = 0;
    partial p;
    partial_init(&p);
    for (int i = 0; i < x->n; i++) {
        int t = digit(x, i), u = digit(y, i), e = t - u - borrow;
        if (i) sb_puts(o, "; ");
        sb_printf(o, "%d - %d%s", t, u, borrow ? " - 1" : "");
        if (e < 0) {
            sb_printf(o, " < 0, %s: 1%d - %d%s = %d", w->borrow, t, u, borrow ? " - 1" : "", e + 10);
            e += 10;
            borrow = 1;
        } else {
            sb_printf(o, " = %d", e);
            borrow = 0;
        }
        char s[2] = {(char)('0' + e), 0};
        partial_prepend(&p, s);
        sb_printf(o, " → %s", partial_str(&p));
    }
    assert(!borrow);
    num_set_str(r, partial_str(&p));
    strip_zeros(r);
}

/* One row of long multiplication: magnitude x times the digit d, into r. */
static void row_work(strbuf *o, const num *x, int d, const written_words *w, num *r, int header) {
    if (x->n == 1 || d <= 1) { /* a table fact, or x × 0, x × 1 */
        num_set_u(r, x->n == 1 ? (unsigned long long)(digit(x, 0) * d) : d ? num_u(x) : 0ULL);
        sb_printf(o, "%s × %d = %s", x->d, d, r->d);
        return;
    }
    if (header) sb_printf(o, "%s × %d: ", x->d, d);
    int carry = 0;
    partial p;
    partial_init(&p);
    for (int i = 0; i < x->n; i++) {
        int t = digit(x, i), pr = t * d, v = pr + carry, last = i == x->n - 1;
        if (i) sb_puts(o, "; ");
        sb_printf(o, "%d × %d = %d", t, d, pr);
        if (carry) sb_printf(o, ", %d + %d = %d", pr, carry, v);
        char s[8];
        if (!last && v >= 10) sb_printf(o, ", %s %d", w->carry, v / 10);
        if (last) snprintf(s, sizeof s, "%d", v); else snprintf(s, sizeof s, "%d", v % 10);
        carry = last ? 0 : v / 10;
        partial_prepend(&p, s);
        sb_printf(o, " → %s", partial_str(&p));
    }
    num_set_str(r, partial_str(&p));
}

static void put_zeros(num *x, int k) {
    if (x->n == 1 && x->d[0] == '0') return;
    assert(x->n + k < NUM_CAP);
    for (int i = 0; i < k; i++) x->d[x->n++] = '0';
    x->d[x->n] = 0;
}

/* Long multiplication of magnitudes: the longer number times each digit of the
 * shorter, the rows shifted and added. */
static void mul_work(strbuf *o, const num *x, const num *y, const written_words *w, num *r) {
    const num *top = x->n >= y->n ? x : y, *mul = top == x ? y : x;
    /* one row: its header only when the operands swap places */
    if (mul->n == 1) { row_work(o, top, digit(mul, 0), w, r, top != x); return; }
    num acc, row;
    int have = 0;
    for (int k = 0; k < mul->n; k++) {
        int d = digit(mul, k);
        if (k) sb_puts(o, ". ");
        row_work(o, top, d, w, &row, 1);
        if (k && d) {
            put_zeros(&row, k);
            sb_printf(o, ", %s × %d", top->d, d);
            for (int z = 0; z < k; z++) sb_putc(o, '0');
            sb_printf(o, " = %s", row.d);
        }
        if (!d) continue;
        if (!have) { acc = row; have = 1; continue; }
        sb_printf(o, ". %s + %s: ", acc.d, row.d);
        num sum;
        add_work(o, &acc, &row, w, &sum);
        acc = sum;
    }
    if (!have) num_set_u(&acc, 0);
    *r = acc;
}

/* Long division of magnitudes, exact (x = q·y), y >= 1. */
static void div_work(strbuf *o, const num *x, const num *y, const written_words *w, num *r) {
    unsigned long long Y = num_u(y), cur = 0;
    int i = 0;
    /* the first chunk: the shortest prefix that is at least y */
    while (i < x->n && (cur < Y || i == 0)) cur = cur * 10 + (unsigned)(x->d[i++] - '0');
    char q[NUM_CAP];
    int nq = 0;
    for (;;) {
        unsigned long long qd = cur / Y, pr = qd * Y, rem = cur - pr;
        /* the whole dividend as the first chunk: the step's own header names it */
        if (nq == 0 && i == x->n) sb_printf(o, "%llu", qd);
        else sb_printf(o, "%llu ÷ %llu: %llu", cur, Y, qd);
        if (qd) {
            sb_puts(o, ", ");
            num pn;
            if (y->n > 1 && qd > 1) row_work(o, y, (int)qd, w, &pn, 1);
            else sb_printf(o, "%llu × %llu = %llu", Y, qd, pr);
            sb_printf(o, ", %llu - %llu = %llu", cur, pr, rem);
        }
        q[nq++] = (char)('0' + qd);
        q[nq] = 0;
        sb_printf(o, ", %s %s", w->quotient, q);
        if (i == x->n) break;
        cur = rem * 10 + (unsigned)(x->d[i] - '0');
        sb_printf(o, "; %s %c: %llu", w->down, x->d[i], cur);
        i++;
        sb_puts(o, ", ");
    }
    num_set_str(r, q);
    strip_zeros(r);
}

static void put_operand(strbuf *o, const mpz_t v) {
    char *s = mpz_get_str(NULL, 10, v);
    if (mpz_sgn(v) < 0) sb_printf(o, "(%s)", s); else sb_puts(o, s);
    free(s);
}

int written_step(strbuf *out, expr_op op, const mpq_t a, const mpq_t b, const written_words *w, mpq_t r) {
    if (mpz_cmp_ui(mpq_denref(a), 1) || mpz_cmp_ui(mpq_denref(b), 1)) return 1;
    const mpz_srcptr A = mpq_numref(a), B = mpq_numref(b);
    /* sizeinbase may count one digit too many: a cheap bound first, the exact length below */
    if (mpz_sizeinbase(A, 10) > WRITTEN_MAX_DIGITS + 1 || mpz_sizeinbase(B, 10) > WRITTEN_MAX_DIGITS + 1) return 1;
    if (op == EXPR_DIV && (mpz_sgn(B) == 0 || !mpz_divisible_p(A, B))) return 1;
    num m, n, res;
    {
        char *s = mpz_get_str(NULL, 10, A);
        num_set_str(&m, s + (s[0] == '-'));
        free(s);
        s = mpz_get_str(NULL, 10, B);
        num_set_str(&n, s + (s[0] == '-'));
        free(s);
    }
    if (m.n > WRITTEN_MAX_DIGITS || n.n > WRITTEN_MAX_DIGITS) return 1;
    int sa = mpz_sgn(A) < 0, sb = mpz_sgn(B) < 0;
    const char *sym = expr_op_symbol(op);
    size_t mark = out->len;
    put_operand(out, A);
    sb_printf(out, " %s ", sym);
    put_operand(out, B);
    char head[4 * NUM_CAP];
    snprintf(head, sizeof head, "%.*s", (int)(out->len - mark), out->s + mark);

    /* Settle the sign: the work below is on magnitudes. */
    int neg = 0, worked;
    const num *x = &m, *y = &n;
    char wop;
    if (op == EXPR_ADD || op == EXPR_SUB) {
        int sy = op == EXPR_SUB ? !sb : sb; /* a - b = a + (-b) */
        if (sa == sy) { wop = '+'; neg = sa; }
        else {
            wop = '-';
            int big_is_a = num_cmp(&m, &n) >= 0;
            x = big_is_a ? &m : &n;
            y = big_is_a ? &n : &m;
            neg = big_is_a ? sa : sy;
        }
        worked = x->n > 1 || y->n > 1;
    } else {
        wop = op == EXPR_MUL ? '*' : '/';
        neg = sa != sb;
        worked = !(m.n == 1 && n.n == 1) && !(op == EXPR_DIV && (n.n == 1 && n.d[0] == '1'));
    }
    const char *wsym = wop == '+' ? "+" : wop == '-' ? "-" : wop == '*' ? "×" : "÷";
    /* The rewrite on magnitudes, unless it would repeat the operation as written:
     * "(-8) + 5 = -(8 - 5)", "12 - 30 = -(30 - 12)", "(-4) × (-6) = 4 × 6". */
    int plain = !sa && !sb && (op != EXPR_SUB || x == &m);
    if (!plain) sb_printf(out, " = %s%s %s %s%s", neg ? "-(" : "", x->d, wsym, y->d, neg ? ")" : "");
    if (!worked) {
        unsigned long long X = num_u(x), Y = num_u(y);
        unsigned long long v = wop == '+' ? X + Y : wop == '-' ? X - Y : wop == '*' ? X * Y : X / Y;
        num_set_u(&res, v);
        sb_printf(out, " = %s%s%s", neg && v ? "-" : "", res.d, w->end);
    } else {
        if (plain) sb_puts(out, ": ");
        else sb_printf(out, "%s %s %s %s: ", w->end, x->d, wsym, y->d);
        switch (wop) {
        case '+': add_work(out, x, y, w, &res); break;
        case '-': sub_work(out, x, y, w, &res); break;
        case '*': mul_work(out, x, y, w, &res); break;
        default: div_work(out, x, y, w, &res); break;
        }
        sb_printf(out, "%s %s ", w->end, w->so);
        sb_puts(out, head);
        sb_printf(out, " = %s%s%s", neg && strcmp(res.d, "0") ? "-" : "", res.d, w->end);
    }
    mpz_set_str(mpq_numref(r), res.d, 10);
    mpz_set_ui(mpq_denref(r), 1);
    if (neg) mpq_neg(r, r);
    return 0;
}
