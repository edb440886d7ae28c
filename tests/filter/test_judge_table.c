/* Table-driven test of judge_trace: hand-written traces and the exact verdict
 * each must get (reason codes, format status, normalized answer). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "test.h"
#include "filter/judge.h"
#include "filter/words.h"

#define COT_EN "First restate: we need the total of the two groups.\nStep one: twelve groups of seven give 12 × 7 = 84.\nStep two: add the remaining nine, so 84 + 9 = 93.\nCheck again: the sum stays the same after recounting.\n"
#define COT_ZH "题目要求两组数量的总和。\n第一步：十二组，每组七个，所以 12 × 7 = 84。\n第二步：再加上剩下的九个，得到 84 + 9 = 93。\n验算：重新计算后结果不变。\n"
#define R1(x) "<think>\n" COT_EN "</think>\n\nSo the total is found. " x
#define R1ZH(x) "<think>\n" COT_ZH "</think>\n\n所以总数已经求出。" x
#define TG(x) "<think>\n" COT_EN "</think>\n<answer>\nSo the total is found. " x "\n</answer>"
#define PF(x) COT_EN "</think>\n\nSo the total is found. " x

enum { F_R1 = 0, F_TG = 1 };
enum { STOP = FINISH_STOP, LEN = FINISH_LENGTH, ERR = FINISH_ERROR };

typedef struct {
    const char *name;
    int fmt, prefilled, finish;
    const char *lang, *truth;
    int text_answer, percent;
    const char *text;
    const char *want_reasons;   /* exact, "" = pass */
    const char *want_norm;      /* exact normalized answer, or NULL for don't care */
    const char *want_format;    /* exact format_status, or NULL for don't care */
} tcase;

/* shorthand: r1, en, number, stop */
#define N(name, truth, text, reasons, norm) {name, F_R1, 0, STOP, "en", truth, 0, 0, text, reasons, norm, NULL}
#define NP(name, truth, text, reasons, norm) {name, F_R1, 0, STOP, "en", truth, 0, 1, text, reasons, norm, NULL}
#define FMR(name, fmt, pre, text, status, reasons) {name, fmt, pre, STOP, "en", "93", 0, 0, text, reasons, NULL, status}
#define FM(name, fmt, pre, text, status) {name, fmt, pre, STOP, "en", "93", 0, 0, text, status[0] == 'o' ? "" : "format", NULL, status}

static const tcase cases[] = {
    /* ---- clean traces in every answer clause ---- */
    N("boxed", "93", R1("\\boxed{93}"), "", "93"),
    N("final answer boxed", "93", R1("The final answer is \\boxed{93}."), "", "93"),
    N("final answer plain", "93", R1("The final answer is 93."), "", "93"),
    N("final answer plain no period", "93", R1("The final answer is 93"), "", "93"),
    N("bold and boxed same", "93", R1("The total is **93**, so \\boxed{93}."), "", "93"),
    N("bold only (Math-Verify **73**)", "73", R1("The total is **73**."), "", "73"),
    N("bold 73 wrong", "74", R1("The total is **73**."), "wrong_answer", "73"),
    {"zh final answer boxed", F_R1, 0, STOP, "zh", "93", 0, 0, R1ZH("最终答案是 \\boxed{93}。"), "", "93", "ok"},
    {"zh final answer plain", F_R1, 0, STOP, "zh", "93", 0, 0, R1ZH("最终答案是 93。"), "", "93", "ok"},
    {"zh final answer fullwidth colon", F_R1, 0, STOP, "zh", "93", 0, 0, R1ZH("最终答案是：93。"), "", "93", "ok"},
    /* ---- number normalizations ---- */
    N("negative", "-42", R1("\\boxed{-42}"), "", "-42"),
    N("unicode minus", "-42", R1("\\boxed{\xe2\x88\x92" "42}"), "", "-42"),
    N("leading plus", "42", R1("\\boxed{+42}"), "", "42"),
    N("spaces inside", "42", R1("\\boxed{ 42 }"), "", "42"),
    N("thousands", "1234", R1("\\boxed{1,234}"), "", "1234"),
    N("thousands millions", "1234567", R1("\\boxed{1,234,567}"), "", "1234567"),
    N("thousands latex {,}", "1234", R1("\\boxed{1{,}234}"), "", "1234"),
    N("thousands thin space", "1234", R1("\\boxed{1\\,234}"), "", "1234"),
    N("bad thousands grouping", "1234", R1("\\boxed{12,34}"), "bad_answer", ""),
    N("negative thousands", "-1234", R1("\\boxed{-1,234}"), "", "-1234"),
    N("fraction", "-7/3", R1("\\boxed{-7/3}"), "", "-7/3"),
    N("fraction unreduced", "-7/3", R1("\\boxed{-14/6}"), "", "-7/3"),
    N("fraction neg denominator", "-7/3", R1("\\boxed{7/-3}"), "", "-7/3"),
    N("frac", "7/3", R1("\\boxed{\\frac{7}{3}}"), "", "7/3"),
    N("dfrac", "7/3", R1("\\boxed{\\dfrac{7}{3}}"), "", "7/3"),
    N("tfrac", "7/3", R1("\\boxed{\\tfrac{7}{3}}"), "", "7/3"),
    N("minus frac", "-7/3", R1("\\boxed{-\\frac{7}{3}}"), "", "-7/3"),
    N("frac negative numerator", "-7/3", R1("\\boxed{\\frac{-7}{3}}"), "", "-7/3"),
    N("frac negative denominator", "-7/3", R1("\\boxed{\\frac{7}{-3}}"), "", "-7/3"),
    N("frac shorthand", "1/2", R1("\\boxed{\\frac12}"), "", "1/2"),
    N("frac spaces", "7/3", R1("\\boxed{\\frac { 7 } { 3 }}"), "", "7/3"),
    N("frac of decimals", "7/3", R1("\\boxed{\\frac{3.5}{1.5}}"), "", "7/3"),
    N("frac zero denominator", "7/3", R1("\\boxed{\\frac{7}{0}}"), "bad_answer", ""),
    N("slash zero denominator", "7/3", R1("\\boxed{7/0}"), "bad_answer", ""),
    N("decimal", "7/2", R1("\\boxed{3.5}"), "", "7/2"),
    N("decimal trailing zeros", "157/50", R1("\\boxed{3.140}"), "", "157/50"),
    N("integer trailing zeros", "3", R1("\\boxed{3.000}"), "", "3"),
    N("leading dot", "1/2", R1("\\boxed{.5}"), "", "1/2"),
    N("trailing dot", "5", R1("\\boxed{5.}"), "", "5"),
    N("negative decimal", "-1/8", R1("\\boxed{-0.125}"), "", "-1/8"),
    N("scientific E+", "110", R1("\\boxed{1.1E+2}"), "", "110"),
    N("scientific e", "110", R1("\\boxed{1.1e2}"), "", "110"),
    N("scientific negative", "11/1000", R1("\\boxed{1.1e-2}"), "", "11/1000"),
    N("scientific times", "110", R1("\\boxed{1.1 \\times 10^{2}}"), "", "110"),
    N("scientific unicode times", "110", R1("\\boxed{1.1×10^2}"), "", "110"),
    N("scientific huge exponent refused", "1", R1("\\boxed{1e999999999}"), "bad_answer", ""),
    N("mixed number", "5/2", R1("\\boxed{2 1/2}"), "", "5/2"),
    N("mixed number negative", "-5/2", R1("\\boxed{-2 1/2}"), "", "-5/2"),
    N("mixed number frac", "5/2", R1("\\boxed{2\\frac{1}{2}}"), "", "5/2"),
    N("mixed number improper refused", "5/2", R1("\\boxed{2 3/2}"), "bad_answer", ""),
    N("not mixed: 21/2", "21/2", R1("\\boxed{21/2}"), "", "21/2"),
    N("dollars", "42", R1("\\boxed{\\$42}"), "", "42"),
    N("inline math", "42", R1("The final answer is $42$."), "", "42"),
    N("text wrapper", "42", R1("\\boxed{\\text{42}}"), "", "42"),
    N("unit text", "5", R1("\\boxed{5 \\text{ km}}"), "", "5"),
    N("unit word", "12", R1("The final answer is 12 apples."), "", "12"),
    N("left right parens", "-5", R1("\\boxed{\\left(-5\\right)}"), "", "-5"),
    N("parens", "-5", R1("\\boxed{(-5)}"), "", "-5"),
    N("nested braces", "1/2", R1("\\boxed{{\\frac{1}{2}}}"), "", "1/2"),
    N("degree", "90", R1("\\boxed{90^\\circ}"), "", "90"),
    N("equation x=5", "5", R1("\\boxed{x = 5}"), "", "5"),
    N("equation wrong", "3", R1("\\boxed{x = 5}"), "wrong_answer", "5"),
    N("equation collapses to 0 refused", "0", R1("\\boxed{x - 5 = 0}"), "bad_answer", ""),
    N("equation both sides numbers refused", "5", R1("\\boxed{2+3=5}"), "bad_answer", ""),
    N("equation chain refused", "0", R1("\\boxed{x=y=0}"), "bad_answer", ""),
    N("percent without knob", "1/4", R1("\\boxed{25\\%}"), "", "1/4"),
    NP("percent knob with sign", "25", R1("\\boxed{25\\%}"), "", "25"),
    NP("percent knob plain %", "25", R1("\\boxed{25%}"), "", "25"),
    NP("percent knob bare", "25", R1("\\boxed{25}"), "", "25"),
    NP("percent knob wrong", "25", R1("\\boxed{0.25}"), "wrong_answer", "1/4"),
    NP("percent knob decimal", "25/2", R1("\\boxed{12.5\\%}"), "", "25/2"),
    NP("percent fullwidth", "25", R1("最终答案是 25％。"), "", "25"),
    N("bold inside boxed", "73", R1("\\boxed{**73**}"), "", "73"),
    N("dollar boxed", "73", R1("$\\boxed{73}$"), "", "73"),
    N("boxed with spaces before brace", "73", R1("\\boxed {73}"), "", "73"),
    N("fbox", "73", R1("\\fbox{73}"), "", "73"),
    N("long integer", "123456789012345678901234567890", R1("\\boxed{123456789012345678901234567890}"), "", "123456789012345678901234567890"),
    N("long decimal", "1/3", R1("\\boxed{0.3333333333}"), "wrong_answer", "3333333333/10000000000"),
    N("rounding knob value", "157/50", R1("\\boxed{3.14}"), "", "157/50"),
    N("compare answer fraction", "3/4", R1("The larger number is \\boxed{3/4}."), "", "3/4"),
    N("compare answer decimal", "7/10", R1("\\boxed{0.7}"), "", "7/10"),
    N("zero", "0", R1("\\boxed{0}"), "", "0"),
    N("negative zero", "0", R1("\\boxed{-0}"), "", "0"),
    N("wrong", "93", R1("\\boxed{94}"), "wrong_answer", "94"),
    N("wrong sign", "93", R1("\\boxed{-93}"), "wrong_answer", "-93"),
    N("non-number", "93", R1("\\boxed{ninety-three}"), "bad_answer", ""),
    N("expression refused", "93", R1("\\boxed{84+9}"), "bad_answer", ""),
    N("list refused", "93", R1("\\boxed{93, 94}"), "bad_answer", ""),
    N("empty boxed", "93", R1("\\boxed{}"), "bad_answer", ""),
    /* ---- the Math-Verify failure cases ---- */
    N("two boxed disagree (840840)", "840", R1("First \\boxed{840} then \\boxed{840840}"), "ambiguous_answer", NULL),
    N("two boxed 840 and 840 agree", "840", R1("We get \\boxed{840}, indeed \\boxed{840}."), "", "840"),
    N("two boxed different spelling agree", "1/2", R1("\\boxed{0.5} or \\boxed{\\frac{1}{2}}"), "", "1/2"),
    N("two boxed disagree, truth is last", "841", R1("\\boxed{840} no wait \\boxed{841}"), "ambiguous_answer", NULL),
    N("verifier disagrees with boxed", "93", TG("\\boxed{93}\n<verifier_answer>94</verifier_answer>"), "ambiguous_answer", NULL),
    N("nested boxed malformed", "93", R1("\\boxed{\\boxed{93}}"), "bad_answer", NULL),
    N("unclosed boxed", "93", R1("\\boxed{93"), "bad_answer", NULL),
    N("unbalanced close braces", "93", R1("}} \\boxed{93} }}"), "", "93"),
    N("escaped braces inside boxed", "93", R1("\\boxed{\\{93\\}}"), "", "93"),
    N("no answer", "93", R1("We are done."), "no_answer", NULL),
    N("boxed only in think is not the answer", "93", "<think>\nWe get \\boxed{93} early on, and then keep checking every step.\n</think>\n\nWe are done.", "no_answer", NULL),
    /* ---- tagged format ---- */
    {"tagged clean", F_TG, 0, STOP, "en", "93", 0, 0, TG("\\boxed{93}"), "", "93", "ok"},
    {"tagged with verifier", F_TG, 0, STOP, "en", "93", 0, 0, TG("\\boxed{93}\n<verifier_answer>93</verifier_answer>"), "", "93", "ok"},
    {"tagged verifier only", F_TG, 0, STOP, "en", "-7/3", 0, 0, TG("see below\n<verifier_answer>-7/3</verifier_answer>"), "", "-7/3", "ok"},
    {"tagged bare answer", F_TG, 0, STOP, "en", "93", 0, 0, "<think>\n" COT_EN "</think>\n<answer>\n93\n</answer>", "", "93", "ok"},
    {"tagged trailing ws", F_TG, 0, STOP, "en", "93", 0, 0, TG("\\boxed{93}") "\n\n", "", "93", "ok"},
    {"tagged text after", F_TG, 0, STOP, "en", "93", 0, 0, TG("\\boxed{93}") "\nThanks!", "format", "93", "text_outside"},
    {"tagged text before think", F_TG, 0, STOP, "en", "93", 0, 0, "Sure. " TG("\\boxed{93}"), "format", "93", "text_before_think"},
    {"tagged text between", F_TG, 0, STOP, "en", "93", 0, 0, "<think>\n" COT_EN "</think>\nhmm\n<answer>\n\\boxed{93}\n</answer>", "format", "93", "text_outside"},
    {"tagged missing answer", F_TG, 0, STOP, "en", "93", 0, 0, "<think>\n" COT_EN "</think>\n\\boxed{93}", "format", "93", "missing_answer"},
    {"tagged unclosed answer", F_TG, 0, STOP, "en", "93", 0, 0, "<think>\n" COT_EN "</think>\n<answer>\n\\boxed{93}\n", "format", "93", "unclosed_answer"},
    {"tagged duplicate answer", F_TG, 0, STOP, "en", "93", 0, 0, TG("\\boxed{93}") "\n<answer>93</answer>", "format", NULL, "duplicate_answer"},
    {"tagged nested answer", F_TG, 0, STOP, "en", "93", 0, 0, "<think>\n" COT_EN "</think>\n<answer>\n<answer>\\boxed{93}</answer>\n</answer>", "format", NULL, "nested_tag"},
    {"tagged verifier outside", F_TG, 0, STOP, "en", "93", 0, 0, TG("\\boxed{93}") "<verifier_answer>93</verifier_answer>", "format", NULL, "verifier_outside_answer"},
    {"tagged verifier unclosed", F_TG, 0, STOP, "en", "93", 0, 0, TG("\\boxed{93} <verifier_answer>93"), "format", NULL, "unclosed_tag"},
    {"tagged two verifiers", F_TG, 0, STOP, "en", "93", 0, 0, TG("<verifier_answer>93</verifier_answer><verifier_answer>93</verifier_answer>"), "format", NULL, "duplicate_answer"},
    {"tagged empty answer", F_TG, 0, STOP, "en", "93", 0, 0, "<think>\n" COT_EN "</think>\n<answer>\n \n</answer>", "format,no_answer", NULL, "empty_answer"},
    {"tagged prefilled", F_TG, 1, STOP, "en", "93", 0, 0, COT_EN "</think>\n<answer>\n\\boxed{93}\n</answer>", "", "93", "ok"},
    /* ---- r1 format violations ---- */
    FM("r1 clean", F_R1, 0, R1("\\boxed{93}"), "ok"),
    FM("r1 leading whitespace ok", F_R1, 0, "\n " R1("\\boxed{93}"), "ok"),
    FMR("missing think close", F_R1, 0, "<think>\n" COT_EN "\n\\boxed{93}", "missing_think_close", "format,no_answer"),
    FM("missing think open", F_R1, 0, COT_EN "</think>\n\\boxed{93}", "missing_think_open"),
    FM("no tags at all", F_R1, 0, COT_EN "\\boxed{93}", "missing_think_open"),
    FM("text before think", F_R1, 0, "Okay. " R1("\\boxed{93}"), "text_before_think"),
    FM("empty think", F_R1, 0, "<think>\n\n</think>\n\nSo \\boxed{93}", "empty_think"),
    FM("duplicate think block", F_R1, 0, R1("\\boxed{93}") "\n<think>\nmore thinking here\n</think>\n", "duplicate_think"),
    FM("duplicate think block before answer", F_R1, 0, "<think>\n" COT_EN "</think>\n<think>\n" COT_EN "</think>\n\\boxed{93}", "duplicate_think"),
    FM("nested think", F_R1, 0, "<think>\n" COT_EN "<think>\ninner\n</think>\n" COT_EN "</think>\n\\boxed{93}", "nested_think"),
    FM("stray think close after", F_R1, 0, R1("\\boxed{93} </think>"), "stray_close"),
    FM("stray answer close in think", F_R1, 0, "<think>\n" COT_EN "</answer>\n</think>\n\\boxed{93}", "stray_close"),
    FM("stray answer close after", F_R1, 0, R1("\\boxed{93}</answer>"), "stray_close"),
    FM("answer open in think", F_R1, 0, "<think>\n" COT_EN "<answer>\n</think>\n\\boxed{93}", "tag_in_think"),
    FM("r1 with balanced answer tags ok", F_R1, 0, R1("<answer>\\boxed{93}</answer>"), "ok"),
    FM("r1 unclosed answer tag", F_R1, 0, R1("<answer>\\boxed{93}"), "unclosed_tag"),
    FMR("r1 empty answer part", F_R1, 0, "<think>\n" COT_EN "</think>\n\n", "empty_answer", "format,no_answer"),
    FM("prefilled clean", F_R1, 1, PF("\\boxed{93}"), "ok"),
    FM("prefilled but has open tag", F_R1, 1, "<think>\n" PF("\\boxed{93}"), "think_in_prefilled"),
    FMR("prefilled missing close", F_R1, 1, COT_EN "\\boxed{93}", "missing_think_close", "format,no_answer"),
    FM("prefilled empty think", F_R1, 1, "\n</think>\nSo \\boxed{93}", "empty_think"),
    FM("not prefilled but should be", F_R1, 0, PF("\\boxed{93}"), "missing_think_open"),
    FM("case-different tags are text", F_R1, 0, "<Think>\n" COT_EN "</Think>\n\\boxed{93}", "missing_think_open"),
    /* ---- finish reasons, lengths ---- */
    {"finish length", F_R1, 0, LEN, "en", "93", 0, 0, R1("\\boxed{93}"), "finish_length", "93", "ok"},
    {"finish error", F_R1, 0, ERR, "en", "93", 0, 0, R1("\\boxed{93}"), "finish_error", "93", "ok"},
    {"truncated mid-cot", F_R1, 0, LEN, "en", "93", 0, 0, "<think>\nFirst restate: we need the total of the two groups.\nStep one: twelve gro", "finish_length,format,no_answer", NULL, "missing_think_close"},
    {"too short", F_R1, 0, STOP, "en", "93", 0, 0, "\\boxed{93}", "too_short,format", NULL, "missing_think_open"},
    {"empty", F_R1, 0, STOP, "en", "93", 0, 0, "", "empty", NULL, NULL},
    /* ---- language ---- */
    {"zh clean", F_R1, 0, STOP, "zh", "93", 0, 0, R1ZH("\\boxed{93}"), "", "93", "ok"},
    {"en trace for zh problem", F_R1, 0, STOP, "zh", "93", 0, 0, R1("\\boxed{93}"), "lang_mix", "93", "ok"},
    {"zh trace for en problem", F_R1, 0, STOP, "en", "93", 0, 0, R1ZH("\\boxed{93}"), "lang_mix", "93", "ok"},
    {"en with chinese lines", F_R1, 0, STOP, "en", "93", 0, 0,
     "<think>\nFirst restate: we need the total of the two groups.\n第一步：十二组，每组七个，所以 12 × 7 = 84。\n第二步：再加上剩下的九个，得到 84 + 9 = 93。\nCheck again: the sum stays the same after recounting.\n</think>\n\n\\boxed{93}", "lang_mix", "93", "ok"},
    {"zh with english lines", F_R1, 0, STOP, "zh", "93", 0, 0,
     "<think>\n题目要求两组数量的总和。\nStep one: twelve groups of seven give 12 × 7 = 84.\nStep two: add the remaining nine, so 84 + 9 = 93.\n验算：重新计算后结果不变。\n</think>\n\n\\boxed{93}", "lang_mix", "93", "ok"},
    {"zh with math variables ok", F_R1, 0, STOP, "zh", "93", 0, 0,
     "<think>\n设 x 为总数，则 x = 12 × 7 + 9。\n计算得 3x 的值无关，\\frac{1}{2} 不需要，$a+b$ 也不需要。\n所以总数是 93。\n</think>\n\n最终答案是 \\boxed{93}。", "", "93", "ok"},
    {"en with one accented word ok", F_R1, 0, STOP, "en", "93", 0, 0, R1("Voilà, \\boxed{93}"), "", "93", "ok"},
    {"en with a cyrillic sentence", F_R1, 0, STOP, "en", "93", 0, 0,
     "<think>\nWe add the numbers.\nСначала сложим все числа вместе и проверим результат.\nThen 84 + 9 = 93.\n</think>\n\n\\boxed{93}", "lang_mix", "93", "ok"},
    {"unknown language not measured", F_R1, 0, STOP, "xx", "93", 0, 0, R1ZH("\\boxed{93}"), "", "93", "ok"},
    /* ---- text answers (general family number_words) ---- */
    {"text answer exact", F_R1, 0, STOP, "en", "three hundred forty-seven", 1, 0, R1("\\boxed{three hundred forty-seven}"), "", "three hundred forty seven", "ok"},
    {"text answer with and", F_R1, 0, STOP, "en", "three hundred forty-seven", 1, 0, R1("\\boxed{Three Hundred and Forty Seven}"), "", "three hundred forty seven", "ok"},
    {"text answer \\text", F_R1, 0, STOP, "en", "forty-two", 1, 0, R1("\\boxed{\\text{forty-two}}"), "", "forty two", "ok"},
    {"text answer final phrase", F_R1, 0, STOP, "en", "forty-two", 1, 0, R1("The final answer is Forty-Two."), "", "forty two", "ok"},
    {"text answer wrong", F_R1, 0, STOP, "en", "forty-two", 1, 0, R1("\\boxed{forty-three}"), "wrong_answer", "forty three", "ok"},
    {"text answer digits are not words", F_R1, 0, STOP, "en", "forty-two", 1, 0, R1("\\boxed{42}"), "wrong_answer", "42", "ok"},
    {"zh text answer", F_R1, 0, STOP, "zh", "三百四十七", 1, 0, R1ZH("最终答案是 \\boxed{三百四十七}。"), "", "三百四十七", "ok"},
    {"zh text answer spaced", F_R1, 0, STOP, "zh", "三百四十七", 1, 0, R1ZH("\\boxed{三百 四十七}"), "", "三百四十七", "ok"},
    {"zh text answer plain", F_R1, 0, STOP, "zh", "三百四十七", 1, 0, R1ZH("最终答案是 三百四十七。"), "", "三百四十七", "ok"},
    {"two text boxed disagree", F_R1, 0, STOP, "en", "forty-two", 1, 0, R1("\\boxed{forty-two} \\boxed{forty-three}"), "ambiguous_answer", NULL, "ok"},
    /* ---- bad bytes ---- */
    {"nul byte", F_R1, 0, STOP, "en", "93", 0, 0, "<think>\nabc\0def\n</think>\n\\boxed{93}", "nul_byte", NULL, "not_checked"},
};

/* Cases whose text needs an explicit length (NUL inside). */
static size_t case_len(const tcase *c) {
    if (strcmp(c->name, "nul byte") == 0) return sizeof("<think>\nabc\0def\n</think>\n\\boxed{93}") - 1;
    return strlen(c->text);
}

int main(void) {
    filter_config cfg;
    filter_config_default(&cfg);
    judge_ctx *J = judge_new(&cfg);
    CHECK(J != NULL);
    ans_truth truth;
    ans_truth_init(&truth);
    verdict_t v;
    verdict_init(&v);
    strbuf rs;
    sb_init(&rs);
    int n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++) {
        const tcase *c = &cases[i];
        CHECKF(ans_truth_set(judge_ans_scratch(J), &truth, c->truth, c->text_answer) == 0, "%s: truth %s", c->name, c->truth);
        judge_input in = {.text = c->text, .len = case_len(c), .format = c->fmt ? FMT_TAGGED : FMT_R1,
                          .prefilled = c->prefilled, .finish = (finish_kind)c->finish, .n_tokens = -1,
                          .lang_scripts = lang_scripts(c->lang), .truth = &truth, .percent = c->percent};
        judge_trace(J, &in, &v);
        sb_reset(&rs);
        reasons_put(&rs, v.reasons);
        CHECKF(strcmp(rs.s ? rs.s : "", c->want_reasons) == 0, "[%s] reasons '%s', want '%s' (format %s, answer '%.*s' -> '%s', lang %.3f)",
               c->name, rs.s ? rs.s : "", c->want_reasons, v.format_status, (int)v.answer_len, v.answer ? v.answer : "",
               v.answer_norm.s ? v.answer_norm.s : "", v.lang_ratio);
        CHECKF(v.pass == (c->want_reasons[0] == 0), "[%s] pass %d", c->name, v.pass);
        if (c->want_norm)
            CHECKF(strcmp(v.answer_norm.s ? v.answer_norm.s : "", c->want_norm) == 0, "[%s] norm '%s', want '%s'", c->name,
                   v.answer_norm.s ? v.answer_norm.s : "", c->want_norm);
        if (c->want_format)
            CHECKF(strcmp(v.format_status, c->want_format) == 0, "[%s] format '%s', want '%s'", c->name, v.format_status, c->want_format);
    }
    fprintf(stderr, "%d table cases\n", n);
    CHECK(n >= 150);
    sb_free(&rs);
    verdict_free(&v);
    ans_truth_free(&truth);
    judge_free(J);
    return test_report("filter_judge_table");
}
