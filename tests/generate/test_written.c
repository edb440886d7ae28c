/* Written arithmetic (generate/written.h): for every operation and sign and
 * size, the result is exact, every fact stated in the text ("7 × 8 = 56",
 * "17 - 9 - 1 = 7", "246 - 232 = 14") is true, the last "→" partial of a column
 * operation is the result's digits, and what written arithmetic does not do
 * (fractions, inexact division, division by zero, very long operands) leaves the
 * text untouched and says so. */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "test.h"
#include "generate/written.h"
#include "core/rng.h"

static const written_words EN = {"carry", "borrow", "bring down", "quotient", "So", "."};
static const written_words ZH = {"进位", "借位", "落下", "商", "所以", "。"};

/* Every "n op n [op n ...] = [-]n" in the text whose chain starts at a bare
 * number (not inside a parenthesised negative) must hold, evaluated left to
 * right (the text writes only same-precedence chains). Returns facts checked. */
static int check_facts(const char *text) {
    int facts = 0;
    for (const char *s = text; *s; s++) {
        if (!isdigit((unsigned char)*s) || (s > text && (isdigit((unsigned char)s[-1]) || s[-1] == '-' || s[-1] == '(')))
            continue;
        /* not the middle of a chain: "8 + 9 + 1 = 18" is one fact, not "9 + 1 = 18" too */
        if ((s - text >= 3 && (!strncmp(s - 3, " + ", 3) || !strncmp(s - 3, " - ", 3))) ||
            (s - text >= 4 && (!strncmp(s - 4, " × ", 4) || !strncmp(s - 4, " ÷ ", 4))))
            continue;
        const char *p = s;
        long long acc = strtoll(p, (char **)&p, 10);
        int ops = 0, ok = 1;
        for (;;) {
            const char *q = p;
            if (strncmp(q, " + ", 3) == 0) q += 3;
            else if (strncmp(q, " - ", 3) == 0) q += 3;
            else if (strncmp(q, " × ", 4) == 0) q += 4;
            else if (strncmp(q, " ÷ ", 4) == 0) q += 4;
            else break;
            if (!isdigit((unsigned char)*q)) { ok = 0; break; }
            char op = p[1] == '+' ? '+' : p[1] == '-' ? '-' : p[1] == (char)0xC3 && p[2] == (char)0x97 ? '*' : '/';
            long long v = strtoll(q, (char **)&q, 10);
            if (op == '+') acc += v;
            else if (op == '-') acc -= v;
            else if (op == '*') acc *= v;
            else { if (v == 0 || acc % v) { ok = 0; break; } acc /= v; }
            ops++;
            p = q;
        }
        if (!ok || !ops || strncmp(p, " = ", 3) != 0) continue;
        p += 3;
        if (*p != '-' && !isdigit((unsigned char)*p)) continue; /* "= -(8 - 5)": a rewrite, not a fact */
        if (*p == '-' && !isdigit((unsigned char)p[1])) continue;
        long long want = strtoll(p, NULL, 10);
        CHECKF(acc == want, "false fact at '%.40s' (is %lld) in: %s", s, acc, text);
        facts++;
    }
    return facts;
}

/* The digits after the last "→ " (or the whole result for a single fact). */
static void check_last_partial(const char *text, const mpq_t r, char op) {
    const char *last = NULL;
    for (const char *s = strstr(text, "→ "); s; s = strstr(s + 1, "→ ")) last = s;
    if (!last || op == '/') return; /* division ends with its quotient */
    last += strlen("→ ");
    /* a product whose last row is not followed by a sum (a multiplier ending in 0) */
    if (op == '*' && !strstr(last, ". So") && !strstr(last, "。 所以")) return;
    if (op == '*' && strchr(last, ',')) return;
    char want[64];
    gmp_snprintf(want, sizeof want, "%Zd", mpq_numref(r));
    const char *w = want[0] == '-' ? want + 1 : want;
    while (*last == '0' && isdigit((unsigned char)last[1])) last++; /* subtraction may lead with zeros */
    CHECKF(strncmp(last, w, strlen(w)) == 0 && !isdigit((unsigned char)last[strlen(w)]), "last partial '%.20s' is not %s in: %s",
           last, w, text);
}

static long long draw(rng_t *r, int digits, int negative) {
    long long lo = 1, hi = 9;
    for (int i = 1; i < digits; i++) { lo = lo == 1 ? 10 : lo * 10; hi = hi * 10 + 9; }
    long long v = (long long)rng_range(r, lo, hi);
    if (rng_chance(r, 0.05)) v = 0;
    return negative ? -v : v;
}

int main(void) {
    rng_t rng;
    rng_seed(&rng, 7);
    strbuf b;
    sb_init(&b);
    mpq_t x, y, r, want;
    mpq_inits(x, y, r, want, NULL);
    static const expr_op ops[] = {EXPR_ADD, EXPR_SUB, EXPR_MUL, EXPR_DIV};
    static const char opc[] = {'+', '-', '*', '/'};
    long facts = 0, cases = 0;
    for (int t = 0; t < 40000; t++) {
        int k = t % 4, da = 1 + (int)rng_range(&rng, 0, t % 50 == 0 ? 11 : 4), db = 1 + (int)rng_range(&rng, 0, 2);
        long long a = draw(&rng, da, rng_chance(&rng, 0.2)), c = draw(&rng, db, rng_chance(&rng, 0.2));
        if (ops[k] == EXPR_DIV) {
            if (c == 0) c = 3;
            long long q = draw(&rng, da > db ? da - db : 1, a < 0);
            a = c * q; /* exact, as the generator makes them */
        }
        mpq_set_si(x, (long)a, 1);
        mpq_set_si(y, (long)c, 1);
        sb_reset(&b);
        int rc = written_step(&b, ops[k], x, y, t % 2 ? &ZH : &EN, r);
        CHECKF(rc == 0, "written_step(%lld %c %lld) = %d", a, opc[k], c, rc);
        if (rc) continue;
        switch (ops[k]) {
        case EXPR_ADD: mpq_add(want, x, y); break;
        case EXPR_SUB: mpq_sub(want, x, y); break;
        case EXPR_MUL: mpq_mul(want, x, y); break;
        default: mpq_div(want, x, y); break;
        }
        CHECKF(mpq_equal(r, want), "%lld %c %lld: wrong result in: %s", a, opc[k], c, b.s);
        /* the text ends with the result, stated once more */
        char tail[80];
        gmp_snprintf(tail, sizeof tail, " = %Zd%s", mpq_numref(want), t % 2 ? "。" : ".");
        CHECKF(b.len >= strlen(tail) && strcmp(b.s + b.len - strlen(tail), tail) == 0, "does not end with '%s': %s", tail,
               b.s);
        facts += check_facts(b.s);
        check_last_partial(b.s, want, opc[k]);
        cases++;
    }
    CHECK(cases == 40000);
    CHECKF(facts > 200000, "only %ld facts checked", facts);

    /* the examples the header documents, word for word */
    struct { long long a; expr_op op; long long b; const char *text; } ex[] = {
        {37, EXPR_ADD, 45, "37 + 45: 7 + 5 = 12, carry 1 → 2; 3 + 4 + 1 = 8 → 82. So 37 + 45 = 82."},
        {52, EXPR_SUB, 17, "52 - 17: 2 - 7 < 0, borrow: 12 - 7 = 5 → 5; 5 - 1 - 1 = 3 → 35. So 52 - 17 = 35."},
        {7, EXPR_MUL, 8, "7 × 8 = 56."},
        {-8, EXPR_ADD, 5, "(-8) + 5 = -(8 - 5) = -3."},
        {12, EXPR_SUB, 30, "12 - 30 = -(30 - 12). 30 - 12: 0 - 2 < 0, borrow: 10 - 2 = 8 → 8; 3 - 1 - 1 = 1 → 18. "
                           "So 12 - 30 = -18."},
        {58, EXPR_MUL, 5, "58 × 5: 8 × 5 = 40, carry 4 → 0; 5 × 5 = 25, 25 + 4 = 29 → 290. So 58 × 5 = 290."},
        {72, EXPR_DIV, 18, "72 ÷ 18: 4, 18 × 4: 8 × 4 = 32, carry 3 → 2; 1 × 4 = 4, 4 + 3 = 7 → 72, 72 - 72 = 0, "
                           "quotient 4. So 72 ÷ 18 = 4."},
        {78, EXPR_DIV, -6, "78 ÷ (-6) = -(78 ÷ 6). 78 ÷ 6: 7 ÷ 6: 1, 6 × 1 = 6, 7 - 6 = 1, quotient 1; bring down 8: 18, "
                           "18 ÷ 6: 3, 6 × 3 = 18, 18 - 18 = 0, quotient 13. So 78 ÷ (-6) = -13."},
    };
    for (size_t i = 0; i < sizeof ex / sizeof *ex; i++) {
        mpq_set_si(x, (long)ex[i].a, 1);
        mpq_set_si(y, (long)ex[i].b, 1);
        sb_reset(&b);
        CHECK(written_step(&b, ex[i].op, x, y, &EN, r) == 0);
        CHECK_STR(b.s, ex[i].text);
    }

    /* not written: a fraction, an inexact or zero division, a 13-digit operand */
    sb_reset(&b);
    sb_puts(&b, "kept");
    mpq_set_si(x, 7, 2); mpq_set_si(y, 3, 1);
    CHECK(written_step(&b, EXPR_ADD, x, y, &EN, r) == 1);
    mpq_set_si(x, 7, 1); mpq_set_si(y, 2, 1);
    CHECK(written_step(&b, EXPR_DIV, x, y, &EN, r) == 1);
    mpq_set_si(y, 0, 1);
    CHECK(written_step(&b, EXPR_DIV, x, y, &EN, r) == 1);
    mpq_set_str(x, "1234567890123", 10); mpq_set_si(y, 2, 1);
    CHECK(written_step(&b, EXPR_MUL, x, y, &EN, r) == 1);
    CHECK_STR(b.s, "kept");

    mpq_clears(x, y, r, want, NULL);
    sb_free(&b);
    return test_report("written");
}
