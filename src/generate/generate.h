#ifndef RETORT_GENERATE_H
#define RETORT_GENERATE_H
#include <stdint.h>
#include <sqlite3.h>
#include "generate/family.h"
#include "generate/teacher.h"

/* The generate stage: make --count distinct problems of a family and --samples
 * traces of each from a teacher, into SQLite. Deterministic: problem i comes
 * from (seed, family, lang, i) and sample s from (seed, problem hash, teacher
 * key, s), so a resumed run writes exactly what an uninterrupted one would.
 * Re-running adds only what is missing. */
typedef struct {
    family_opts family;
    long count;            /* distinct problems */
    long samples;          /* traces per problem */
    uint64_t seed;
    double eval_share;     /* share of problems held out, chosen by content hash */
    const char *teacher;   /* "synthetic" */
    synth_opts synth;
    long batch;            /* problems per transaction */
    int quiet;
    /* teacher "model:DIR" (generate/teacher_model.c) */
    struct {
        const char *chat_template;   /* NULL: the one the tokenizer carries */
        double temperature, top_p;
        int top_k, max_new, decode_batch;
        int make_problems;           /* 1: make --count problems as the synthetic path does; 0: use stored ones */
        const char *split;           /* stored problems: this split ... */
        const char *family;          /* ... of this family (NULL: any) ... */
        long limit;                  /* ... at most this many, by id (0: all) */
    } model;
    /* teacher "openai:URL" (generate/teacher_http.c); sampling and problems as for model: above */
    struct {
        const char *api_model;       /* the request's "model" */
        const char *api_key_env;     /* environment variable holding the API key (never stored) */
        int concurrency;             /* requests in flight */
        double timeout_s;            /* per request */
        int retries;                 /* per sample, on 429, 5xx, timeouts and dropped connections */
    } http;
    int problems_only;     /* make problems but no traces (the model teacher's --count) */
} generate_opts;

typedef struct {
    long problems_new, problems_existing, problems_eval;
    long traces_new, traces_existing;
    double seconds;
    int64_t *problem_ids;  /* with problems_only: the ids of this run's problems (malloc'd) */
    long n_problem_ids;
} generate_result;

void generate_opts_default(generate_opts *o);
int generate_run(sqlite3 *db, const generate_opts *o, int64_t run_id, generate_result *res);

/* Hash of the canonical problem (hex, 32 chars) and its split under eval_share. */
void problem_hash(const problem_t *p, char out[33]);
const char *problem_split(const char *hash, double eval_share);

/* Find or create the synthetic teacher's row for this configuration; returns its id. */
int64_t teacher_upsert(sqlite3 *db, const generate_opts *o, char key_out[65]);
/* The model teacher: a student checkpoint samples traces (teacher_model.c). */
int teacher_model_run(sqlite3 *db, const generate_opts *o, int64_t run_id, generate_result *res);
/* The HTTP teacher: an OpenAI-compatible chat completions endpoint (teacher_http.c). */
int teacher_http_run(sqlite3 *db, const generate_opts *o, int64_t run_id, generate_result *res);
/* One chat completion response (JSON) as a trace: the text in R1's format,
 * "stop" or "length", whether the server prefilled "<think>\n", and
 * usage.completion_tokens (-1: not given). -1 with a reason in why when the
 * body holds no usable completion. */
int http_trace_parse(const char *body, size_t n, strbuf *text, const char **finish, int *prefilled, long *n_tokens,
                     char *why, size_t why_n);

/* ---- shared by the sampling teachers (teacher_common.c) ---- */
/* The problems to sample: made as the synthetic path makes them (model.make_problems),
 * or the stored ones of model.split/model.family up to model.limit, by id. */
int teacher_problem_ids(sqlite3 *db, const generate_opts *o, int64_t run_id, generate_result *res, int64_t **ids,
                        long *n);
/* Find or create the teachers row of this identity; its key (hex SHA-256/128 of
 * all five) goes to key. Returns its id, or -1. */
int64_t teacher_record(sqlite3 *db, const char *name, const char *params, const char *template_name,
                       const char *template_text, int think_prefill, char key[65]);
/* One sample still missing: its problem, index, seed and user message (index into prompts). */
typedef struct { int64_t pid; int sample; uint64_t seed; long prompt; } teacher_todo;
typedef struct { teacher_todo *todo; long ntodo; char **prompts; long nprompts; } teacher_work;
/* The samples 0..samples-1 of each problem that this teacher has not stored, in
 * problem then index order; a sample's seed depends on the problem's hash, the
 * teacher key, seed and the index only, so a resumed run samples what an
 * uninterrupted one would. *existing counts the samples already stored. */
int teacher_work_scan(sqlite3 *db, const int64_t *ids, long nids, int64_t teacher_id, const char *tkey, uint64_t seed,
                      long samples, const char *user_tpl, teacher_work *w, long *existing);
void teacher_work_free(teacher_work *w);

#endif
