#ifndef RETORT_TEACHER_H
#define RETORT_TEACHER_H
#include <stdint.h>
#include "core/strbuf.h"
#include "generate/family.h"

/* The synthetic teacher: works a problem out step by step in the problem's
 * language, in R1's output format or the tagged cold-start format, and plants
 * the failure modes of a real teacher at configurable rates so the filter's
 * precision and recall can be measured (traces.injected says which). */

typedef struct {
    double wrong_step;   /* one step's result is wrong; the final answer is wrong */
    double lang_mix;     /* sentences of the other language inside the chain of thought */
    double bad_tags;     /* broken, missing, duplicated, nested or stray tags */
    double loop;         /* an endless repetition, cut at max_chars (finish_reason=length) */
    double truncate;     /* cut inside the chain of thought (finish_reason=length) */
} fault_rates;

#define FAULT_RATES_DEFAULT {.wrong_step = 0.10, .lang_mix = 0.05, .bad_tags = 0.05, .loop = 0.03, .truncate = 0.03}

typedef struct {
    const char *format;  /* "r1" or "tagged" */
    int think_prefill;   /* the prompt template ends with "<think>\n": the text starts inside it */
    fault_rates faults;
    long max_chars;      /* where a loop is cut */
    int written;         /* work each operation digit by digit (generate/written.h), not in one step */
} synth_opts;

typedef struct {
    strbuf text;
    const char *finish_reason;   /* "stop" or "length" */
    strbuf injected;             /* "wrong_step,loop", or "" when clean */
} synth_trace;

void synth_trace_init(synth_trace *t);
void synth_trace_free(synth_trace *t);

/* Write one sample; the same (problem, opts, seed) always gives the same text. */
int synth_sample(const problem_t *p, const synth_opts *o, uint64_t seed, synth_trace *out);

/* The prompt template of a format and language; "{prompt}" marks the problem. */
const char *synth_template(const char *format, const char *lang);

#endif
