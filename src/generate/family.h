#ifndef RETORT_FAMILY_H
#define RETORT_FAMILY_H
#include <gmp.h>
#include "core/rng.h"
#include "core/strbuf.h"
#include "generate/expr.h"

/* Task families: each makes one problem with exact ground truth from a seeded
 * RNG. The problem also carries what a teacher needs to work it out by hand
 * (the expression, or the facts of a general task). */

#define PROBLEM_MAX_FACTS 8

typedef struct { const char *key; strbuf val; } fact_t;

typedef struct {
    /* stored in problems */
    const char *family;       /* "arith", "word", "general" */
    const char *task;         /* "expr", a word template id, or a general task */
    const char *lang;         /* "en", "zh" */
    strbuf prompt;
    strbuf answer;            /* canonical ground truth */
    int answer_is_text;
    strbuf knobs;             /* JSON object */
    int difficulty;
    int reasoning;
    /* for teachers */
    mpq_t truth;              /* numeric ground truth (answer_is_text == 0) */
    strbuf display;           /* the answer as a person writes it: "3.14", "2.5", "-7/3" */
    int percent;              /* the question asks for a percentage */
    int has_expr;
    expr_t expr;              /* arith and word: the expression, numbers bound */
    strbuf plan;              /* word: a sentence with {expr} for the rendered expression */
    fact_t facts[PROBLEM_MAX_FACTS];  /* general: named values for the teacher's wording */
    int nfacts;
} problem_t;

typedef struct {
    const char *family;
    const char *lang;
    expr_knobs arith;
} family_opts;

void problem_init(problem_t *p);
void problem_free(problem_t *p);
/* Load the embedded datasets (word templates, general wording). Idempotent,
 * not thread-safe: call once before generating. Returns 0 or -1 with err_msg(). */
int family_load(void);
/* Make one problem. Returns 0, or -1 with err_msg(). */
int family_make(problem_t *p, const family_opts *o, rng_t *rng);
/* Number of word templates for a language (for tests and --help). */
int family_word_templates(const char *lang);
/* Set facts[] entry; returns its value buffer. */
strbuf *problem_fact(problem_t *p, const char *key);
const char *problem_fact_get(const problem_t *p, const char *key);

/* The phrase lists of one language from datasets/phrases.json. */
typedef struct cJSON cJSON_t;
const struct cJSON *family_phrases(const char *lang);

/* Fill {name} placeholders of tpl from the facts plus extra key/value pairs
 * (NULL-terminated alternating key, value). An unknown {name} is kept as is. */
void phrase_fill(strbuf *out, const char *tpl, const problem_t *p, const char *const *extra);

#endif
