#ifndef RETORT_FILTER_FORMAT_H
#define RETORT_FILTER_FORMAT_H
#include <stddef.h>

/* Structure of a trace, per output format. Tags are found with one PCRE2 JIT
 * pattern (compiled once, shared; match data per thread) and checked by a
 * small state machine: linear in the text, whatever the text holds.
 *
 * r1:     [ws] <think> COT </think> ANSWER-PART   (answer tags optional, balanced)
 * tagged: [ws] <think> COT </think> [ws] <answer> ... [<verifier_answer>X</verifier_answer>] ... </answer> [ws]
 * With prefilled = 1 the text starts inside the think block: no opening tag. */
typedef enum { FMT_R1 = 0, FMT_TAGGED = 1 } fmt_kind;

typedef struct {
    const char *status;            /* "ok" or the first problem found (a fixed string) */
    const char *cot;               /* the chain of thought (think content, or the whole text) */
    size_t cot_len;
    const char *answer;            /* where the final answer is looked for */
    size_t answer_len;
    int answer_is_tag;             /* answer is the content of <answer> */
} fmt_result;

typedef struct fmt_scratch fmt_scratch;
/* Compiles the shared pattern on first use (thread-safe). NULL on PCRE2 failure (err_msg). */
fmt_scratch *fmt_scratch_new(void);
void fmt_scratch_free(fmt_scratch *s);

/* Returns 1 when the format is ok, 0 otherwise; r->cot and r->answer are
 * always set to the best available spans so other checks can still measure. */
int fmt_check(fmt_scratch *s, fmt_kind kind, int prefilled, const char *text, size_t n, fmt_result *r);

/* At most this many tags are examined; a clean trace has at most six. */
#define FMT_MAX_TAGS 64

#endif
