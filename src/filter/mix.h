#ifndef RETORT_MIX_H
#define RETORT_MIX_H
#include <stdint.h>
#include <sqlite3.h>

/* An SFT mix: an immutable, ordered list of traces a filter kept, drawn to
 * quotas (total, reasoning share, family weights), narrowed by SQL, cleaned of
 * anything that overlaps an eval problem, shuffled with a seed and split into
 * train and val. One transaction: a failed build leaves the database as it was.
 *
 * Selection, in order (each step is counted in the report's "funnel"):
 *   1. traces with verdicts.keep = 1 under the filter, on train-split problems
 *      (eval-split problems never enter a mix);
 *   2. --max-chars, --max-tokens, --pass-rate, --where, --query;
 *   3. decontamination: drop every trace of a problem whose prompt shares a
 *      word n-gram with an eval-split problem or a --decontaminate-against prompt;
 *   4. --per-problem K: at most K traces per problem;
 *   5. quotas: total = round(total * share) reasoning (problems.reasoning = 1)
 *      + the rest non-reasoning; with family weights each class's quota is split
 *      over its families in proportion (largest remainder, so quotas sum exactly);
 *   6. the seeded shuffle; the first val_share of problems (whole problems, so
 *      no problem is in both splits) becomes val. Positions: train, then val.
 * Every random choice is a function of (seed, trace id) only, so the same
 * database and options give the same mix, byte for byte. */
typedef struct {
    const char *name;
    int64_t filter_id;
    uint64_t total;              /* 0: every candidate (shares and weights unused) */
    double reasoning_share;      /* of total */
    long per_problem;            /* 0: no cap */
    const char *family_weights;  /* "arith=2,word=1"; families not named weigh 1; NULL: none */
    long max_chars, max_tokens;  /* 0: no limit */
    int has_pass_rate;
    double pass_min, pass_max;   /* over v_problem_pass_rate.pass_rate, inclusive */
    const char *where;           /* predicate over v_candidates, or NULL */
    const char *query;           /* read-only SELECT whose first column is a trace id, or NULL */
    double val_share;
    uint64_t seed;
    int replace, allow_short;
    int ngram;                   /* decontamination n */
    long ngram_common;           /* ignore n-grams in this many eval/file prompts or more (0: none) */
    const char *decontam_file;   /* JSONL of prompts, or NULL */
    const char *spec_json;       /* stored in mixes.spec */
    int64_t run_id;              /* or <= 0 */
} mix_opts;

typedef struct {
    int64_t mix_id;
    uint64_t n_train, n_val;
    char *report_json;           /* owned; free with mix_result_free */
} mix_result;

int mix_build(sqlite3 *db, const mix_opts *o, mix_result *res);
void mix_result_free(mix_result *r);

/* Prepare sql as exactly one read-only SELECT returning at least one column.
 * Refused: anything that writes (INSERT/UPDATE/DELETE/CREATE/...), ATTACH and
 * DETACH, PRAGMA statements, transactions, EXPLAIN, load_extension(), and a
 * second statement after the first. Returns 0 or -1 with err_msg(). */
int sql_prepare_readonly(sqlite3 *db, const char *sql, sqlite3_stmt **st);

#endif
