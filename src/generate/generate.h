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

/* Find or create the teachers row for this configuration; returns its id. */
/* The model teacher: a student checkpoint samples traces (teacher_model.c). */
int teacher_model_run(sqlite3 *db, const generate_opts *o, int64_t run_id, generate_result *res);
int64_t teacher_upsert(sqlite3 *db, const generate_opts *o, char key_out[65]);

#endif
