/* The synthetic teacher, judged by the filter's verifier: with every fault rate
 * at 0 each trace passes every check with the right answer; with one fault at
 * rate 1 each trace is rejected for the reason that fault must cause, and
 * traces.injected names exactly that fault. Also: the same seed gives the same
 * text, another seed other text. */
#include "test.h"
#include "generate/family.h"
#include "generate/teacher.h"
#include "filter/judge.h"
#include "filter/words.h"
#include "core/err.h"

static const char *families[] = {"arith", "word", "general"};
static const char *langs[] = {"en", "zh"};
static const char *formats[] = {"r1", "tagged"};

typedef struct { const char *name; fault_rates f; uint32_t must; } fault_case;

int main(void) {
    CHECK(family_load() == 0);
    filter_config cfg;
    filter_config_default(&cfg);
    judge_ctx *j = judge_new(&cfg);
    verdict_t v;
    verdict_init(&v);
    problem_t p;
    problem_init(&p);
    synth_trace t, t2;
    synth_trace_init(&t);
    synth_trace_init(&t2);
    ans_truth truth;
    ans_truth_init(&truth);
    fault_case cases[] = {
        {"", {.wrong_step = 0}, 0},
        {"wrong_step", {.wrong_step = 1}, 1u << R_WRONG_ANSWER},
        {"lang_mix", {.lang_mix = 1}, 1u << R_LANG_MIX},
        {"bad_tags", {.bad_tags = 1}, (1u << R_FORMAT) | (1u << R_NO_ANSWER)},
        {"loop", {.loop = 1}, 1u << R_FINISH_LENGTH},
        {"truncate", {.truncate = 1}, 1u << R_FINISH_LENGTH},
    };
    int n_cases = (int)(sizeof cases / sizeof *cases);
    long judged = 0;
    for (int f = 0; f < 3; f++)
        for (int l = 0; l < 2; l++)
            for (int fm = 0; fm < 2; fm++)
                for (int pre = 0; pre < 2; pre++)
                    for (int c = 0; c < n_cases; c++) {
                        family_opts fo = {.family = families[f], .lang = langs[l],
                                          .arith = {.operands_min = 2, .operands_max = 6, .digits_min = 1, .digits_max = 4,
                                                    .paren_share = 0.4, .negative_share = 0.2, .fraction_share = 0.3}};
                        synth_opts so = {.format = formats[fm], .think_prefill = pre, .faults = cases[c].f, .max_chars = 3000};
                        for (int i = 0; i < 60; i++) {
                            rng_t r;
                            rng_seed(&r, (uint64_t)(1000 * c + i));
                            CHECK(family_make(&p, &fo, &r) == 0);
                            CHECK(synth_sample(&p, &so, (uint64_t)i * 77 + 5, &t) == 0);
                            CHECKF(strcmp(t.injected.s ? t.injected.s : "", cases[c].name) == 0,
                                   "injected '%s', want '%s'", t.injected.s ? t.injected.s : "", cases[c].name);
                            ans_truth_set(judge_ans_scratch(j), &truth, p.answer.s, p.answer_is_text);
                            judge_input in = {.text = t.text.s, .len = t.text.len, .format = fm ? FMT_TAGGED : FMT_R1,
                                              .prefilled = pre,
                                              .finish = strcmp(t.finish_reason, "length") ? FINISH_STOP : FINISH_LENGTH,
                                              .n_tokens = -1, .lang_scripts = lang_scripts(p.lang), .truth = &truth,
                                              .percent = p.percent};
                            judge_trace(j, &in, &v);
                            judged++;
                            if (c == 0) {
                                CHECKF(v.pass && v.correct == 1, "%s/%s/%s prefill=%d: clean trace rejected (%s, format %s):\n%s",
                                       families[f], langs[l], formats[fm], pre, v.format_status, p.answer.s, t.text.s);
                            } else {
                                CHECKF(!v.pass && (v.reasons & cases[c].must),
                                       "%s/%s/%s prefill=%d fault %s: pass=%d reasons=%#x:\n%s", families[f], langs[l],
                                       formats[fm], pre, cases[c].name, v.pass, v.reasons, t.text.s);
                            }
                            /* determinism: the same seed gives the same text; another seed other text */
                            CHECK(synth_sample(&p, &so, (uint64_t)i * 77 + 5, &t2) == 0);
                            CHECK(t2.text.len == t.text.len && memcmp(t2.text.s, t.text.s, t.text.len) == 0);
                        }
                    }
    CHECK(judged == 3 * 2 * 2 * 2 * n_cases * 60);
    /* wording varies between samples of one problem */
    family_opts fo = {.family = "arith", .lang = "en",
                      .arith = {.operands_min = 3, .operands_max = 3, .digits_min = 2, .digits_max = 2}};
    synth_opts so = {.format = "r1", .max_chars = 3000};
    rng_t r;
    rng_seed(&r, 3);
    family_make(&p, &fo, &r);
    int distinct = 0;
    for (int s = 1; s < 20; s++) {
        synth_sample(&p, &so, 0, &t);
        synth_sample(&p, &so, (uint64_t)s, &t2);
        distinct += strcmp(t.text.s, t2.text.s) != 0;
    }
    CHECKF(distinct >= 17, "only %d of 19 seeds changed the wording", distinct);
    /* a loop is cut exactly at max_chars (on a UTF-8 boundary) */
    so.faults.loop = 1;
    so.max_chars = 1234;
    synth_sample(&p, &so, 9, &t);
    CHECK(t.text.len <= 1234 && t.text.len > 1200 && strcmp(t.finish_reason, "length") == 0);

    ans_truth_free(&truth);
    synth_trace_free(&t);
    synth_trace_free(&t2);
    problem_free(&p);
    verdict_free(&v);
    judge_free(j);
    return test_report("test_synthetic");
}
