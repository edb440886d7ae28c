#include <stdio.h>
#include <string.h>
#include "core/db.h"
#include "core/err.h"
#include "filter/run.h"

/* The confusion matrix reads traces.injected: this file is the only place in
 * the filter that does (judging never sees it). */
static const char SQL_FAULTS[] =
    "WITH RECURSIVE f(pass, fault, rest) AS ("
    "  SELECT v.pass, '', t.injected || ',' FROM verdicts v JOIN traces t ON t.id = v.trace_id"
    "  WHERE v.filter_id = ?1 AND t.injected <> ''"
    "  UNION ALL SELECT pass, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)"
    "  FROM f WHERE rest <> '')"
    "SELECT fault, count(*), sum(pass = 0), sum(pass) FROM f WHERE fault <> '' GROUP BY fault ORDER BY fault";

int filter_report(sqlite3 *db, int64_t filter_id, filter_report_t *r) {
    memset(r, 0, sizeof *r);
    sqlite3_stmt *st;
    if (db_prepare(db,
                   "SELECT count(*), coalesce(sum(v.pass), 0), coalesce(sum(v.keep), 0),"
                   " coalesce(sum(t.injected <> ''), 0), coalesce(sum(t.injected <> '' AND v.pass = 0), 0),"
                   " coalesce(sum(t.injected = ''), 0), coalesce(sum(t.injected = '' AND v.pass = 1), 0),"
                   " coalesce(sum(t.injected = '' AND v.pass = 0 AND v.reasons <> 'duplicate'), 0),"
                   " coalesce(sum(t.injected = '' AND v.reasons = 'duplicate'), 0)"
                   " FROM verdicts v JOIN traces t ON t.id = v.trace_id WHERE v.filter_id = ?", &st)) return -1;
    sqlite3_bind_int64(st, 1, filter_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        r->n = sqlite3_column_int64(st, 0);
        r->pass = sqlite3_column_int64(st, 1);
        r->keep = sqlite3_column_int64(st, 2);
        r->faulty = sqlite3_column_int64(st, 3);
        r->faulty_rejected = sqlite3_column_int64(st, 4);
        r->clean = sqlite3_column_int64(st, 5);
        r->clean_pass = sqlite3_column_int64(st, 6);
        r->clean_rejected = sqlite3_column_int64(st, 7);
        r->clean_duplicate = sqlite3_column_int64(st, 8);
    }
    sqlite3_finalize(st);
    if (db_prepare(db, SQL_FAULTS, &st)) return -1;
    sqlite3_bind_int64(st, 1, filter_id);
    while (sqlite3_step(st) == SQLITE_ROW && r->nfaults < REPORT_MAX_FAULTS) {
        int k = r->nfaults++;
        snprintf(r->faults[k].name, sizeof r->faults[k].name, "%s", (const char *)sqlite3_column_text(st, 0));
        r->faults[k].n = sqlite3_column_int64(st, 1);
        r->faults[k].rejected = sqlite3_column_int64(st, 2);
        r->faults[k].passed = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    return 0;
}

static double pct(int64_t a, int64_t b) { return b ? 100.0 * (double)a / (double)b : 0.0; }

int filter_report_print(sqlite3 *db, int64_t filter_id, FILE *out) {
    filter_report_t r;
    if (db_int(db, "SELECT count(*) FROM filters", 0) == 0 || filter_report(db, filter_id, &r)) {
        if (!err_msg()[0]) err_set("no filter with id %lld", (long long)filter_id);
        return -1;
    }
    sqlite3_stmt *st;
    if (db_prepare(db, "SELECT config FROM filters WHERE id = ?", &st)) return -1;
    sqlite3_bind_int64(st, 1, filter_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        err_set("no filter with id %lld", (long long)filter_id);
        return -1;
    }
    fprintf(out, "filter %lld  %s\n", (long long)filter_id, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    fprintf(out, "judged %lld  pass %lld (%.2f%%)  kept %lld  rejected %lld\n\n", (long long)r.n, (long long)r.pass,
            pct(r.pass, r.n), (long long)r.keep, (long long)(r.n - r.pass));
    fprintf(out, "rejected by reason (a trace counts under each of its reasons)\n");
    if (db_prepare(db, "SELECT reason, n FROM v_reject_reasons WHERE filter_id = ? ORDER BY n DESC, reason", &st)) return -1;
    sqlite3_bind_int64(st, 1, filter_id);
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(out, "  %-18s %10lld\n", (const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    fprintf(out, "\nformat problems\n");
    if (db_prepare(db, "SELECT format_status, count(*) FROM verdicts WHERE filter_id = ? AND format_status <> 'ok'"
                       " GROUP BY format_status ORDER BY 2 DESC, 1", &st)) return -1;
    sqlite3_bind_int64(st, 1, filter_id);
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(out, "  %-24s %10lld\n", (const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);

    fprintf(out, "\nconfusion matrix: injected faults (traces.injected) against verdicts\n");
    fprintf(out, "  %-14s %10s %10s %10s %9s\n", "fault", "traces", "rejected", "passed", "recall");
    for (int k = 0; k < r.nfaults; k++)
        fprintf(out, "  %-14s %10lld %10lld %10lld %8.3f%%\n", r.faults[k].name, (long long)r.faults[k].n,
                (long long)r.faults[k].rejected, (long long)r.faults[k].passed, pct(r.faults[k].rejected, r.faults[k].n));
    fprintf(out, "  %-14s %10lld %10lld %10lld %8.3f%%\n", "any fault", (long long)r.faulty, (long long)r.faulty_rejected,
            (long long)(r.faulty - r.faulty_rejected), pct(r.faulty_rejected, r.faulty));
    fprintf(out, "  %-14s %10s %10s %10s %9s\n", "", "traces", "passed", "rejected", "false-rej");
    fprintf(out, "  %-14s %10lld %10lld %10lld %8.3f%%\n", "clean", (long long)r.clean, (long long)r.clean_pass,
            (long long)r.clean_rejected, pct(r.clean_rejected, r.clean));
    if (r.clean_duplicate)
        fprintf(out, "  (%lld clean traces were exact duplicates of a passing trace of the same problem:\n"
                     "   rejected as 'duplicate', not counted as false rejections)\n", (long long)r.clean_duplicate);
    fprintf(out, "recall %.3f%%  false-rejection rate %.3f%%\n", pct(r.faulty_rejected, r.faulty), pct(r.clean_rejected, r.clean));
    return 0;
}
