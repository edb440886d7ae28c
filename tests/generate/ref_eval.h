/* An evaluator written separately from src/generate/expr.c, used by the tests
 * to re-check ground truth: it reads the expression as text, the way a person
 * would, so it shares no code or data structure with the generator. */
#ifndef REF_EVAL_H
#define REF_EVAL_H
#include <gmp.h>
#include <string.h>
#include <ctype.h>

typedef struct { const char *s; int err; } ref_p;

static void ref_ws(ref_p *p) { while (*p->s == ' ') p->s++; }
static int ref_tok(ref_p *p, const char *t) {
    ref_ws(p);
    size_t n = strlen(t);
    if (strncmp(p->s, t, n) == 0) { p->s += n; return 1; }
    return 0;
}
static void ref_sum(ref_p *p, mpq_t out);
static void ref_atom(ref_p *p, mpq_t out) {
    ref_ws(p);
    if (ref_tok(p, "(")) {
        ref_sum(p, out);
        if (!ref_tok(p, ")")) p->err = 1;
        return;
    }
    if (ref_tok(p, "-")) { ref_atom(p, out); mpq_neg(out, out); return; }
    if (!isdigit((unsigned char)*p->s)) { p->err = 1; return; }
    mpz_set_ui(mpq_denref(out), 1);
    mpz_set_ui(mpq_numref(out), 0);
    while (isdigit((unsigned char)*p->s)) {
        mpz_mul_ui(mpq_numref(out), mpq_numref(out), 10);
        mpz_add_ui(mpq_numref(out), mpq_numref(out), (unsigned long)(*p->s - '0'));
        p->s++;
    }
}
static void ref_prod(ref_p *p, mpq_t out) {
    ref_atom(p, out);
    mpq_t r;
    mpq_init(r);
    for (;;) {
        if (ref_tok(p, "×") || ref_tok(p, "*")) { ref_atom(p, r); mpq_mul(out, out, r); }
        else if (ref_tok(p, "÷") || ref_tok(p, "/")) {
            ref_atom(p, r);
            if (mpq_sgn(r) == 0) { p->err = 2; break; }
            mpq_div(out, out, r);
        } else break;
    }
    mpq_clear(r);
}
static void ref_sum(ref_p *p, mpq_t out) {
    ref_prod(p, out);
    mpq_t r;
    mpq_init(r);
    for (;;) {
        if (ref_tok(p, "+")) { ref_prod(p, r); mpq_add(out, out, r); }
        else if (ref_tok(p, "-")) { ref_prod(p, r); mpq_sub(out, out, r); }
        else break;
    }
    mpq_clear(r);
}
/* Evaluate the expression in s up to `end` (or NUL). 0 ok, 1 syntax, 2 division by zero. */
static int ref_eval(const char *s, mpq_t out) {
    ref_p p = {s, 0};
    ref_sum(&p, out);
    ref_ws(&p);
    /* the expression ends where text that cannot continue it begins */
    if (!p.err && (isdigit((unsigned char)*p.s) || (*p.s && strchr("(+-*/", *p.s)))) return 1;
    if (!p.err && (!strncmp(p.s, "×", 2) || !strncmp(p.s, "÷", 2))) return 1;
    return p.err;
}
#endif
