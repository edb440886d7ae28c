#ifndef RETORT_FILTER_ANSWER_H
#define RETORT_FILTER_ANSWER_H
#include <stddef.h>
#include <gmp.h>
#include "core/strbuf.h"

/* Answer extraction, normalization and comparison. Pure functions over byte
 * ranges: no database, no allocation per call once the scratch has warmed up.
 * Every scan is a single linear pass with an explicit stack (no recursion on
 * the input), so a trace of 10,000 nested \boxed costs what its length costs. */

typedef enum {
    ANS_FOUND = 0,     /* one answer (or several that agree) */
    ANS_NONE,          /* nothing that looks like a final answer */
    ANS_AMBIGUOUS,     /* two candidates that disagree: never concatenated, never guessed */
    ANS_MALFORMED,     /* an unclosed or absurdly nested \boxed{ */
} ans_status;

typedef enum { ANS_SRC_NONE, ANS_SRC_VERIFIER, ANS_SRC_BOXED, ANS_SRC_FINAL, ANS_SRC_BOLD, ANS_SRC_REGION } ans_source;

/* Result of normalizing one answer string. */
typedef enum {
    NORM_NUMBER = 0,   /* an exact rational, in q */
    NORM_TEXT,         /* a canonical phrase, in text */
    NORM_FAIL,         /* neither */
} norm_kind;

typedef struct ans_scratch ans_scratch;   /* per thread */
ans_scratch *ans_scratch_new(void);
void ans_scratch_free(ans_scratch *s);

/* Answers longer than this are not normalized (no real answer is that long,
 * and it bounds GMP work: no 10^(10^9) from "1e1000000000"). */
#define ANS_MAX_LEN 512
#define ANS_MAX_EXP 400

/* Normalize s[0..n) to an exact rational (into q, which must be initialised).
 * percent: the problem asks for a percentage, so "25%" means 25 (otherwise
 * "25%" means 1/4). Handles whitespace, $, **bold**, \text{}, \left/\right,
 * leading +, U+2212, thousands separators, decimals, trailing zeros,
 * 1.1E+2 and 1.1\times10^{2}, a/b, \frac/\dfrac/\tfrac (with signs inside or
 * out), mixed numbers "2 1/2" and "2\frac{1}{2}", and "x = 5".
 * Returns 0 on success, -1 if s is not a number. */
int ans_parse_number(ans_scratch *sc, const char *s, size_t n, int percent, mpq_t q);

/* Canonical form of a text answer: \text{} unwrapped, lowercase, hyphens and
 * runs of spaces become one space, the word "and" and final punctuation
 * dropped; for Han text all spaces go. Appends to out. */
void ans_canon_text(const char *s, size_t n, strbuf *out);

typedef struct {
    ans_status status;
    ans_source source;
    const char *ans;     /* the answer as written (points into the region) */
    size_t ans_len;
} ans_extract_t;

/* Find the final answer in region[0..n): <verifier_answer>, the last
 * \boxed{} (nested braces allowed), "The final answer is X" / "最终答案是 X",
 * **X**, and when whole_region is set the region itself (the content of a
 * tagged <answer>). Candidates that disagree (as normalized numbers, or as
 * canonical text) make the answer ambiguous. */
void ans_extract(ans_scratch *sc, const char *region, size_t n, int whole_region, int percent, ans_extract_t *out);

/* The full check against ground truth. truth is the canonical answer from
 * problems.answer; text_answer: problems.answer_type == 'text'.
 * Returns 1 correct, 0 wrong or not a parsable answer, and fills norm with the
 * normalized answer (canonical rational or canonical text; empty if neither). */
typedef struct {
    int has_truth;          /* 0: the truth itself did not parse */
    int is_text;
    mpq_t q;                /* numeric truth */
    strbuf text;            /* canonical text truth */
} ans_truth;
void ans_truth_init(ans_truth *t);
void ans_truth_free(ans_truth *t);
int ans_truth_set(ans_scratch *sc, ans_truth *t, const char *truth, int text_answer);

int ans_compare(ans_scratch *sc, const ans_truth *t, const char *ans, size_t n, int percent, strbuf *norm);

#endif
