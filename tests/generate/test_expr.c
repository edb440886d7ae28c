/* The exact rational evaluator: precedence, unary minus, division by zero,
 * results beyond 64 bits, rendering and step-by-step reduction. */
#include "test.h"
#include "generate/expr.h"
#include "core/rational.h"
#include "core/err.h"
#include "ref_eval.h"

static int eval_str(const char *src, strbuf *out) {
    expr_t e;
    expr_init(&e);
    mpq_t v;
    mpq_init(v);
    int rc = expr_parse(&e, src, NULL, 0);
    if (!rc) rc = expr_eval_into(&e, v) ? -2 : 0;
    sb_reset(out);
    if (!rc) rat_put(out, v);
    mpq_clear(v);
    expr_clear(&e);
    return rc;
}

int main(void) {
    strbuf b;
    sb_init(&b);
    struct { const char *src, *want; } cases[] = {
        {"1 + 2 * 3", "7"}, {"(1 + 2) * 3", "9"}, {"10 - 4 - 3", "3"}, {"10 - (4 - 3)", "9"},
        {"24 / 4 / 2", "3"}, {"24 / (4 / 2)", "12"}, {"7 / 2", "7/2"}, {"-7 / 2", "-7/2"},
        {"2 * -3", "-6"}, {"-(2 + 3) * 4", "-20"}, {"--5", "5"}, {"6 ÷ 4 × 2", "3"},
        {"1 − 3", "-2"}, {"0.5 + 1/4", "3/4"}, {"4/6", "2/3"}, {"3 - 2 * 5 + 8 / 4", "-5"},
        /* beyond 64 bits: 999999^4 = 999996000005999996000001 */
        {"999999 * 999999 * 999999 * 999999", "999996000005999996000001"},
        {"123456789 * 987654321 * 123456789 - 1", "15053411111487447638891240"},
        {"1/3 + 1/6", "1/2"}, {"(1 - 1/2) / (1/4)", "2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = eval_str(cases[i].src, &b);
        CHECKF(rc == 0 && strcmp(b.s, cases[i].want) == 0, "%s: got '%s' (rc %d), want %s", cases[i].src, b.s, rc, cases[i].want);
    }
    CHECK(eval_str("5 / (3 - 3)", &b) == -2);
    CHECK(eval_str("1 / 0", &b) == -2);
    CHECK(eval_str("1 +", &b) == -1);
    CHECK(eval_str("(1 + 2", &b) == -1);
    CHECK(eval_str("1 + x", &b) == -1);
    CHECK(strstr(err_msg(), "unknown variable 'x'") != NULL);

    /* Random expressions: never divide by zero, exact mode gives integers, the
     * rendering re-parses to the same value (checked by the independent
     * evaluator), and reducing step by step ends at the same value. */
    expr_knobs k = {.operands_min = 2, .operands_max = 8, .digits_min = 1, .digits_max = 6,
                    .paren_share = 0.5, .negative_share = 0.2, .fraction_share = 0.3};
    expr_t e, w;
    expr_init(&e);
    expr_init(&w);
    mpq_t v, ref;
    mpq_inits(v, ref, NULL);
    int fractions_seen = 0, parens_seen = 0, big_seen = 0;
    for (int i = 0; i < 3000; i++) {
        rng_t r;
        rng_seed(&r, (uint64_t)i);
        int fr;
        CHECK(expr_random(&e, &k, &r, &fr) == 0);
        CHECK(expr_eval_into(&e, v) == 0);
        if (!fr) CHECKF(mpz_cmp_ui(mpq_denref(v), 1) == 0, "exact division expected (case %d)", i);
        fractions_seen += mpz_cmp_ui(mpq_denref(v), 1) != 0;
        if (mpz_sizeinbase(mpq_numref(v), 2) > 64) big_seen++;
        sb_reset(&b);
        expr_render(&e, &b);
        parens_seen += strchr(b.s, '(') != NULL;
        int rc = ref_eval(b.s, ref);
        CHECKF(rc == 0 && mpq_equal(ref, v), "case %d: '%s' re-evaluates differently (rc %d)", i, b.s, rc);
        expr_copy(&w, &e);
        int steps = 0, s;
        while ((s = expr_next_step(&w)) >= 0) {
            CHECK(expr_reduce(&w, s, NULL) == 0);
            steps++;
            sb_reset(&b);
            expr_render(&w, &b);
            CHECKF(ref_eval(b.s, ref) == 0 && mpq_equal(ref, v), "case %d step %d: '%s' changed value", i, steps, b.s);
        }
        CHECK(steps == expr_ops(&e));
        CHECK(mpq_equal(w.n[w.root].v, v));
    }
    CHECK(fractions_seen > 100);
    CHECK(parens_seen > 100);
    CHECK(big_seen > 10);

    /* Step order: parentheses first, then × ÷, then left to right. */
    CHECK(expr_parse(&e, "1 + 2 * 3 - (4 - 5)", NULL, 0) == 0);
    const char *want_order[] = {"1 + 2 × 3 - (-1)", "1 + 6 - (-1)", "7 - (-1)", "8"};
    for (int i = 0; i < 4; i++) {
        int s = expr_next_step(&e);
        CHECK(s >= 0);
        expr_reduce(&e, s, NULL);
        sb_reset(&b);
        expr_render(&e, &b);
        CHECK_STR(b.s, want_order[i]);
    }
    CHECK(expr_next_step(&e) == -1);

    mpq_clears(v, ref, NULL);
    expr_clear(&e);
    expr_clear(&w);
    sb_free(&b);
    return test_report("test_expr");
}
