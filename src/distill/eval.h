#ifndef RETORT_EVAL_H
#define RETORT_EVAL_H
#include <stdio.h>
#include <stdint.h>
#include <sqlite3.h>
#include "distill/model.h"
#include "distill/infer.h"
#include "tokenizer/tokenizer.h"

/* A student checkpoint ready to generate: weights, tokenizer, chat template
 * and the ids that end a turn. Shared by `retort chat`, the model teacher and
 * `retort eval`. */
typedef struct {
    model_t m;
    tokenizer_t *tok;
    int tmpl;                /* chat_template */
    int think_prefill;       /* the template's generation prompt ends with "<think>\n" */
    uint32_t stop[2];
    int nstop;
    char hash[33];           /* hex SHA-256/128 of config, fp32 weights and tokenizer.json */
} student_t;

/* Load DIR (a checkpoint written by distill: config.json, model.safetensors,
 * tokenizer.json). template_name NULL or "" picks the template whose Jinja
 * text tokenizer_config.json carries, else the one whose end-of-turn token
 * the tokenizer has. */
int student_load(student_t *s, const char *dir, const char *template_name);
void student_free(student_t *s);
/* The generation prompt for one user turn (system may be NULL). */
int student_prompt(student_t *s, const char *system, const char *user, tok_ids *out);
/* Decoded text of ids (special tokens kept, as the trace holds them). */
char *student_decode(student_t *s, const uint32_t *ids, int n);

/* ---- metrics (pure, for tests) ---- */
/* Unbiased pass@k from n samples of which c are correct (Chen et al. 2021):
 * 1 - C(n-c, k) / C(n, k); requires k <= n. */
double pass_at_k(int n, int c, int k);
/* Index of the majority answer among n answers (NULL = no answer, never
 * counted); ties go to the answer seen first. -1 when every answer is NULL. */
int majority_vote(const char *const *answers, int n);

/* ---- retort eval ---- */
typedef struct {
    const char *split;       /* "eval" */
    const char *family;      /* NULL: all */
    long limit;              /* 0: all */
    int samples;             /* sampled outputs per problem for pass@k / maj@k (0: greedy only) */
    int k;                   /* k of pass@k (<= samples; 0: = samples) */
    sample_opts sample;      /* for the samples; greedy is always taken too */
    int max_new;
    int batch;
    uint64_t seed;
    const char *user_template;   /* NULL: R1's math prompt, {prompt} marks the problem */
    const char *model_dir;   /* provenance */
    int quiet;
} eval_opts;
void eval_opts_default(eval_opts *o);

typedef struct {
    int64_t eval_run_id;
    long problems, outputs;
    double pass1, pass_k, maj_k, well_formed, lang_ok, mean_tokens;
    double seconds, tokens_per_s;
} eval_result;

/* Evaluate s on the problems of o->split (and family), storing eval_runs,
 * eval_items and eval_problems rows. The verifier is the filter's
 * (judge_trace with the default filter configuration). */
int eval_run(sqlite3 *db, student_t *s, const eval_opts *o, int64_t run_id, eval_result *res);
/* Print the table of an eval run (by family and difficulty, then overall). */
int eval_print(sqlite3 *db, int64_t eval_run_id, FILE *out);

#endif
