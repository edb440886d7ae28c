#ifndef RETORT_FILTER_JUDGE_H
#define RETORT_FILTER_JUDGE_H
#include <stdint.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "core/strbuf.h"
#include "filter/answer.h"
#include "filter/format.h"
#include "filter/repeat.h"

/* Judging one trace: every check, no database. filter/run.h drives it over a
 * database with threads; tests call it directly. */

/* Reason codes, in the order they are written to verdicts.reasons. */
typedef enum {
    R_EMPTY, R_NUL_BYTE, R_INVALID_UTF8, R_TOO_LONG, R_TOO_SHORT, R_TOO_MANY_TOKENS, R_TOO_FEW_TOKENS,
    R_FINISH_LENGTH, R_FINISH_ERROR, R_FORMAT, R_NO_ANSWER, R_AMBIGUOUS, R_BAD_ANSWER, R_WRONG_ANSWER,
    R_LANG_MIX, R_DUP_NGRAM, R_TOP_NGRAM, R_LOOP, R_DUPLICATE, R_COUNT
} reason_code;
extern const char *const reason_names[R_COUNT];
/* Append "a,b,c" for the bits set in mask. */
void reasons_put(strbuf *b, uint32_t mask);

typedef enum { POLICY_ALL = 0, POLICY_SHORTEST, POLICY_RANDOM } keep_policy;

typedef struct {
    int64_t min_chars, max_chars;         /* characters (code points) */
    int64_t min_tokens, max_tokens;       /* applied when traces.n_tokens is set */
    double lang_min_ratio;
    double dup_ngram[REP_DUP_NN];         /* n = 5..10 */
    double top_ngram[REP_TOP_NN];         /* n = 2..4 */
    int64_t rep_min_words;                /* n-gram rules apply from this many CoT words */
    int64_t loop_min_chars, loop_min_repeats, loop_window;
    int reject_finish_length;
    int64_t per_problem;                  /* K; 0 = no limit */
    keep_policy policy;
    uint64_t seed;
} filter_config;

void filter_config_default(filter_config *c);
/* Canonical JSON (fixed key order, every field): what is hashed into filters. */
char *filter_config_json(const filter_config *c);
/* Overlay a JSON object onto c; unknown keys and bad values are errors that
 * name the key. Returns 0 or -1 with err_msg(). */
int filter_config_from_json(filter_config *c, const cJSON *j);
int filter_config_validate(const filter_config *c);
const char *policy_name(keep_policy p);

typedef enum { FINISH_STOP = 0, FINISH_LENGTH, FINISH_ERROR } finish_kind;

/* Everything judging needs about one trace. */
typedef struct {
    const char *text;
    size_t len;                 /* bytes; the text may hold NULs */
    fmt_kind format;
    int prefilled;
    finish_kind finish;
    int64_t n_tokens;           /* -1 when unknown */
    unsigned lang_scripts;      /* words.h; 0 = language unknown */
    const ans_truth *truth;
    int percent;
} judge_input;

typedef struct {
    int pass;
    uint32_t reasons;           /* 1 << reason_code */
    const char *format_status;
    const char *answer;         /* as written, points into the text; NULL if none */
    size_t answer_len;
    strbuf answer_norm;
    int correct;                /* 1, 0, or -1 for no answer (NULL) */
    double lang_ratio;          /* -1: not measured (NULL) */
    double dup[REP_DUP_NN], top[REP_TOP_NN];
    double dup_excess, top_excess; /* max over n of (measured - threshold); NAN when not measured */
    int rep_measured;
    int64_t loop_period;
    int64_t n_chars;
    int64_t n_words;
    uint64_t text_hash;         /* of the text with whitespace runs collapsed, for exact dedup */
} verdict_t;

typedef struct judge_ctx judge_ctx;   /* per thread: scratch for every check */
judge_ctx *judge_new(const filter_config *cfg);
void judge_free(judge_ctx *j);
ans_scratch *judge_ans_scratch(judge_ctx *j);
void verdict_init(verdict_t *v);
void verdict_free(verdict_t *v);
/* Whether a problem's knobs JSON (problems.knobs) says the question asks for a
 * percentage, so "25%" and "25" both answer a ground truth of 25. */
int knobs_percent(const char *knobs);

/* Judge one trace. Never fails: bad input becomes reasons. */
void judge_trace(judge_ctx *j, const judge_input *in, verdict_t *v);
/* verdicts.measures JSON for v (appends). */
void verdict_measures(const verdict_t *v, strbuf *b);

#endif
