#ifndef RETORT_FILTER_RUN_H
#define RETORT_FILTER_RUN_H
#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>
#include "filter/judge.h"

/* The filter stage over a database: judge every trace not yet judged under a
 * filter configuration, with worker threads reading and judging whole
 * problems and one writer storing verdicts in large transactions. Resumable:
 * a problem's verdicts commit together, stored verdicts are never redone. */

/* Find or create the filters row for cfg (hash of its canonical JSON).
 * *created = 1 when it is new. Returns 0 or -1 with err_msg(). */
int filter_ensure(sqlite3 *db, const filter_config *cfg, int64_t run_id, int64_t *filter_id, int *created);
/* Load the configuration of an existing filter. */
int filter_load(sqlite3 *db, int64_t filter_id, filter_config *cfg);
/* Traces with no verdict under filter_id. */
int64_t filter_pending(sqlite3 *db, int64_t filter_id);

typedef struct {
    int64_t judged, passed, kept, updated;
    double seconds;
} filter_stats;

/* Judge pending traces. db_path is opened once per worker (read-only); db is
 * the writer connection. threads >= 1 workers. */
int filter_run(const char *db_path, sqlite3 *db, int64_t filter_id, const filter_config *cfg, int threads, filter_stats *st);

/* The report: counts by reason and the confusion matrix against
 * traces.injected (the only place that column is read). */
#define REPORT_MAX_FAULTS 32
typedef struct {
    int64_t n, pass, keep;
    int nfaults;
    struct { char name[32]; int64_t n, rejected, passed; } faults[REPORT_MAX_FAULTS];
    int64_t faulty, faulty_rejected;       /* traces with at least one fault */
    int64_t clean, clean_pass, clean_rejected, clean_duplicate;  /* duplicate-only rejects are not false rejections */
} filter_report_t;
int filter_report(sqlite3 *db, int64_t filter_id, filter_report_t *r);
/* Print the report (reasons, format problems, confusion matrix). */
int filter_report_print(sqlite3 *db, int64_t filter_id, FILE *out);

#endif
