/* Hostile input: each case must become a reject with a reason, quickly, with
 * no crash and no deep recursion. Also the repetition and loop measures. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "test.h"
#include "filter/judge.h"
#include "filter/words.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static judge_ctx *J;
static ans_truth truth;
static verdict_t v;

static uint32_t judge(const char *text, size_t n, int finish, double *secs) {
    judge_input in = {.text = text, .len = n, .format = FMT_R1, .finish = (finish_kind)finish, .n_tokens = -1,
                      .lang_scripts = lang_scripts("en"), .truth = &truth};
    double t0 = now();
    judge_trace(J, &in, &v);
    *secs = now() - t0;
    return v.reasons;
}

static char *repeat_str(const char *pre, const char *unit, size_t times, const char *post, size_t *len) {
    size_t a = strlen(pre), u = strlen(unit), b = strlen(post);
    *len = a + u * times + b;
    char *s = malloc(*len + 1);
    memcpy(s, pre, a);
    for (size_t i = 0; i < times; i++) memcpy(s + a + i * u, unit, u);
    memcpy(s + a + u * times, post, b);
    s[*len] = 0;
    return s;
}

int main(void) {
    filter_config cfg;
    filter_config_default(&cfg);
    J = judge_new(&cfg);
    ans_truth_init(&truth);
    ans_truth_set(judge_ans_scratch(J), &truth, "93", 0);
    verdict_init(&v);
    double t;
    size_t n;

    uint32_t r = judge("", 0, 0, &t);
    CHECK(r == 1u << R_EMPTY);

    const char bad[] = "<think>\nabc \xff\xfe def\n</think>\n\\boxed{93}";
    r = judge(bad, sizeof bad - 1, 0, &t);
    CHECK(r == 1u << R_INVALID_UTF8);
    const char overlong[] = "<think>\n\xc0\xaf\n</think>\n\\boxed{93}";
    CHECK(judge(overlong, sizeof overlong - 1, 0, &t) == 1u << R_INVALID_UTF8);
    const char surrogate[] = "<think>\n\xed\xa0\x80\n</think>\n\\boxed{93}";
    CHECK(judge(surrogate, sizeof surrogate - 1, 0, &t) == 1u << R_INVALID_UTF8);
    const char trunc[] = "<think>\nok\n</think>\n\\boxed{93}\xe4\xb8";
    CHECK(judge(trunc, sizeof trunc - 1, 0, &t) == 1u << R_INVALID_UTF8);

    /* 10 MB trace: too long, decided in microseconds */
    char *big = repeat_str("<think>\n", "All work and no play. ", 10 * 1024 * 1024 / 22, "</think>\n\\boxed{93}", &n);
    r = judge(big, n, 0, &t);
    CHECK(r & (1u << R_TOO_LONG));
    CHECKF(t < 0.5, "10 MB trace took %.3f s", t);
    /* the same 10 MB with a permissive max: every check runs, linear */
    filter_config loose = cfg;
    loose.max_chars = 100 * 1000 * 1000;
    judge_ctx *JL = judge_new(&loose);
    judge_input in = {.text = big, .len = n, .format = FMT_R1, .n_tokens = -1, .lang_scripts = SCRIPT_LATIN, .truth = &truth};
    double t0 = now();
    judge_trace(JL, &in, &v);
    t = now() - t0;
    CHECKF(!v.pass && (v.reasons & (1u << R_DUP_NGRAM)), "10 MB repetitive trace reasons %x", v.reasons);
    CHECKF(t < 5.0, "10 MB full judge took %.3f s", t);
    free(big);

    /* 10,000 nested \boxed */
    char *nest = repeat_str("<think>\nwe think about it for a while here\n</think>\n", "\\boxed{", 10000, "93", &n);
    size_t m = n;
    char *nest2 = malloc(m + 10000 + 1);
    memcpy(nest2, nest, m);
    memset(nest2 + m, '}', 10000);
    nest2[m + 10000] = 0;
    r = judge(nest2, m + 10000, 0, &t);
    CHECKF(r & (1u << R_BAD_ANSWER), "nested boxed reasons %x", r);
    CHECKF(t < 0.2, "10,000 nested boxed took %.3f s", t);
    /* and unclosed: 10,000 \boxed{ with no closing brace */
    r = judge(nest, m, 0, &t);
    CHECKF(r & (1u << R_BAD_ANSWER), "unclosed nested boxed reasons %x", r);
    CHECKF(t < 0.2, "10,000 unclosed boxed took %.3f s", t);
    free(nest);
    free(nest2);

    /* 10,000 sequential boxed that agree, and one that disagrees at the end */
    char *seq = repeat_str("<think>\nwe think about it for a while here\n</think>\n", "\\boxed{93} ", 10000, "", &n);
    r = judge(seq, n, 0, &t);
    CHECKF(!(r & ((1u << R_AMBIGUOUS) | (1u << R_BAD_ANSWER) | (1u << R_WRONG_ANSWER))), "sequential boxed %x", r);
    CHECKF(t < 0.5, "10,000 boxed took %.3f s", t);
    free(seq);
    seq = repeat_str("<think>\nwe think about it for a while here\n</think>\n", "\\boxed{93} ", 10000, "\\boxed{94}", &n);
    CHECK(judge(seq, n, 0, &t) & (1u << R_AMBIGUOUS));
    free(seq);

    /* unbalanced braces everywhere */
    char *br = repeat_str("<think>\nbraces {{{ here and there\n</think>\n", "{", 100000, "\\boxed{93", &n);
    r = judge(br, n, 0, &t);
    CHECKF(r & (1u << R_BAD_ANSWER), "unbalanced braces %x", r);
    CHECKF(t < 0.2, "unbalanced braces took %.3f s", t);
    free(br);
    br = repeat_str("<think>\nbraces here and there\n</think>\n", "}", 100000, "\\boxed{93}", &n);
    r = judge(br, n, 0, &t);
    CHECKF(!(r & (1u << R_BAD_ANSWER)) && !(r & (1u << R_WRONG_ANSWER)), "stray closing braces %x", r);
    free(br);

    /* a huge answer: refused, not parsed */
    char *hug = repeat_str("<think>\nwe think about it for a while here\n</think>\n\\boxed{", "9", 100000, "}", &n);
    r = judge(hug, n, 0, &t);
    CHECKF(r & (1u << R_BAD_ANSWER), "huge answer %x", r);
    CHECKF(t < 0.2, "huge answer took %.3f s", t);
    free(hug);

    /* many tags */
    char *tags = repeat_str("<think>\n", "</think><think>", 5000, "", &n);
    r = judge(tags, n, 0, &t);
    CHECK(r & (1u << R_FORMAT));
    CHECKF(t < 0.2, "many tags took %.3f s", t);
    free(tags);

    /* looping tail: a 2-line block repeated until the length limit */
    char *loop = repeat_str("<think>\nWe start with twelve groups of seven.\n",
                            "Wait, let me recompute the product again.\n12 × 7 = 84, so we add nine.\n", 60, "Wait, let me re", &n);
    r = judge(loop, n, FINISH_LENGTH, &t);
    CHECKF((r & (1u << R_LOOP)) && (r & (1u << R_FINISH_LENGTH)), "loop %x", r);
    CHECKF(v.loop_period == (int64_t)strlen("Wait, let me recompute the product again.\n12 × 7 = 84, so we add nine.\n"),
           "loop period %lld", (long long)v.loop_period);
    CHECK(v.dup[0] > 0.5 && v.top[0] > 0.1);
    CHECK(loop_period(loop, n, 8192, 200, 4) > 0);
    free(loop);
    /* three repeats of a short phrase in a clean trace are not a loop */
    const char *ok3 = "<think>\nStep one is to add.\nWe add the numbers now.\n</think>\nGood good good good. \\boxed{93}";
    CHECK(loop_period(ok3, strlen(ok3), 8192, 200, 4) == 0);

    /* repetition measures on hand-made word sequences */
    rep_scratch *rs = rep_scratch_new();
    cot_words cw = {0};
    const char *uniq = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda omicron sigma tau upsilon";
    cot_scan(uniq, strlen(uniq), SCRIPT_LATIN, &cw);
    double dup[REP_DUP_NN], top[REP_TOP_NN];
    rep_measure(rs, cw.w, cw.n, dup, top);
    CHECK(cw.n == 15);
    for (int k = 0; k < REP_DUP_NN; k++) CHECK(dup[k] == 0);
    CHECK(top[0] > 0 && top[0] < 0.2);
    const char *rep = "one two three four five six one two three four five six";
    cot_scan(rep, strlen(rep), SCRIPT_LATIN, &cw);
    rep_measure(rs, cw.w, cw.n, dup, top);
    CHECKF(dup[0] > 0.49 && dup[0] < 0.51, "dup5 %.3f", dup[0]);  /* the second half repeats the first */
    CHECKF(dup[1] > 0.49 && dup[1] < 0.51, "dup6 %.3f", dup[1]);
    CHECK(dup[2] == 0);                                            /* no 7-gram repeats in 12 words */
    CHECK(top[0] > 0.1);
    /* language ratio: Han chars are words, numbers and LaTeX are not */
    const char *mix = "我们计算 12 × 7 = 84，then add \\frac{1}{2} $x+y$ x 3x";
    cot_scan(mix, strlen(mix), SCRIPT_HAN, &cw);
    CHECKF(cw.n_target == 4 && cw.n_other == 2, "target %llu other %llu", (unsigned long long)cw.n_target, (unsigned long long)cw.n_other);
    cot_words_free(&cw);
    rep_scratch_free(rs);

    judge_free(JL);
    verdict_free(&v);
    ans_truth_free(&truth);
    judge_free(J);
    return test_report("filter_robust");
}
