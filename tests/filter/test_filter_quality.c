/* The quality bar on the real synthetic teacher: `$RETORT generate` with the
 * default fault rates for every family (arith, word, general), language (en,
 * zh), format (r1, tagged), think prefill (off, on) and, for arith and word,
 * chain-of-thought style (brief, written), then `$RETORT filter`
 * with the default configuration. Every injected fault type must be rejected
 * (100% recall), for the reason that fault calls for when it is the only
 * fault, and no clean trace may be rejected (exact duplicates are counted
 * apart and must be nearly none). `retort stats --filter ID` prints the same
 * report. bench/filter/quality.sh runs the same at >= 100k traces. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test.h"
#include "core/db.h"
#include "core/err.h"
#include "filter/run.h"

#define PROBLEMS 150   /* per combination: 40 x 150 x 4 samples = 24,000 traces */
#define SAMPLES 4

static int64_t q_int(sqlite3 *db, const char *sql) { return db_int(db, sql, -1); }

int main(void) {
    const char *retort = getenv("RETORT");
    if (!retort) { fprintf(stderr, "RETORT is not set (run through meson test)\n"); return 1; }
    char dir[] = "/tmp/retort-filter-quality-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/q.db", dir);

    static const char *families[] = {"arith", "word", "general"}, *langs[] = {"en", "zh"}, *formats[] = {"r1", "tagged"};
    /* arith and word problems also with the written chain of thought (general has no arithmetic) */
    int seed = 1, runs = 0;
    for (int f = 0; f < 3; f++)
        for (int c = 0; c < (f < 2 ? 2 : 1); c++)
            for (int l = 0; l < 2; l++)
                for (int x = 0; x < 2; x++)
                    for (int p = 0; p < 2; p++) {
                        snprintf(cmd, sizeof cmd,
                                 "'%s' generate --db '%s' --family %s --lang %s --format %s %s --cot %s --count %d"
                                 " --samples %d --seed %d --quiet > /dev/null",
                                 retort, path, families[f], langs[l], formats[x], p ? "--think-prefill" : "",
                                 c ? "written" : "brief", PROBLEMS, SAMPLES, seed++);
                        int rc = system(cmd);
                        CHECKF(rc == 0, "%s: exit %d", cmd, rc);
                        runs++;
                    }

    snprintf(cmd, sizeof cmd, "'%s' filter --db '%s' --threads 2", retort, path);
    FILE *pf = popen(cmd, "r");
    long long fid = 0;
    CHECK(pf && fscanf(pf, "%lld", &fid) == 1 && fid > 0);
    CHECK(pf && pclose(pf) == 0);

    sqlite3 *db;
    CHECKF(db_open(path, DB_READONLY, &db) == 0, "%s", err_msg());
    /* every combination is there */
    CHECK(q_int(db, "SELECT count(*) FROM (SELECT DISTINCT family, lang FROM problems)") == 6);
    CHECK(q_int(db, "SELECT count(*) FROM (SELECT DISTINCT template, think_prefill FROM teachers)") == 4);
    CHECK(q_int(db, "SELECT count(*) FROM traces WHERE think_prefilled = 1") > 0);
    int64_t n_traces = q_int(db, "SELECT count(*) FROM traces");
    CHECK(n_traces == runs * PROBLEMS * SAMPLES);
    /* the written style is a teacher of its own, one beside each brief one */
    CHECK(q_int(db, "SELECT count(*) FROM teachers WHERE params LIKE '%\"cot\":\"written\"%'") > 0);
    CHECK(q_int(db, "SELECT count(*) FROM teachers WHERE params LIKE '%\"cot\":\"written\"%'") ==
          q_int(db, "SELECT count(*) FROM teachers WHERE params NOT LIKE '%\"cot\"%'"));

    filter_report_t r;
    CHECKF(filter_report(db, fid, &r) == 0, "%s", err_msg());
    CHECK(r.n == n_traces);
    CHECK(r.faulty + r.clean == r.n);
    /* the five fault types of the synthetic teacher, each seen often enough to measure */
    static const char *want[] = {"bad_tags", "lang_mix", "loop", "truncate", "wrong_step"};
    CHECKF(r.nfaults == 5, "%d fault types", r.nfaults);
    for (int k = 0; k < r.nfaults && k < 5; k++) {
        CHECK_STR(r.faults[k].name, want[k]);
        CHECKF(r.faults[k].n >= 100, "fault %s: only %lld traces", r.faults[k].name, (long long)r.faults[k].n);
        CHECKF(r.faults[k].rejected == r.faults[k].n, "fault %s: recall %lld of %lld", r.faults[k].name,
               (long long)r.faults[k].rejected, (long long)r.faults[k].n);
    }
    CHECKF(r.faulty_rejected == r.faulty, "recall %lld of %lld", (long long)r.faulty_rejected, (long long)r.faulty);
    CHECKF(r.clean_rejected == 0, "false rejections: %lld of %lld clean", (long long)r.clean_rejected, (long long)r.clean);
    CHECKF(r.clean_duplicate * 1000 <= r.clean, "%lld clean exact duplicates of %lld", (long long)r.clean_duplicate,
           (long long)r.clean);
    CHECK(r.clean > r.n / 2 && r.clean_pass + r.clean_rejected + r.clean_duplicate == r.clean);

    /* a trace with a single fault is rejected for that fault's reason */
    static const char *why[][2] = {{"bad_tags", "format"}, {"lang_mix", "lang_mix"}, {"loop", "loop"},
                                   {"truncate", "finish_length"}, {"wrong_step", "wrong_answer"}};
    for (int k = 0; k < 5; k++) {
        char q[512];
        snprintf(q, sizeof q,
                 "SELECT count(*) FROM verdicts v JOIN traces t ON t.id = v.trace_id WHERE v.filter_id = %lld"
                 " AND t.injected = '%s' AND instr(',' || v.reasons || ',', ',%s,') = 0",
                 fid, why[k][0], why[k][1]);
        CHECKF(q_int(db, q) == 0, "single-fault %s traces not rejected as %s", why[k][0], why[k][1]);
    }
    if (test_failures) filter_report_print(db, fid, stderr);
    db_close(db);

    /* retort stats --filter ID prints the same report */
    snprintf(cmd, sizeof cmd, "'%s' stats --db '%s' --filter %lld", retort, path, fid);
    pf = popen(cmd, "r");
    char line[512];
    int saw_matrix = 0, saw_clean = 0;
    while (pf && fgets(line, sizeof line, pf)) {
        saw_matrix |= strstr(line, "confusion matrix") != NULL;
        saw_clean |= strstr(line, "false-rejection rate 0.000%") != NULL;
    }
    CHECK(pf && pclose(pf) == 0);
    CHECK(saw_matrix && saw_clean);
    /* an unknown filter id is a runtime error */
    snprintf(cmd, sizeof cmd, "'%s' stats --db '%s' --filter 999 > /dev/null 2>&1", retort, path);
    int rc = system(cmd);
    CHECKF(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "stats --filter 999: %d", rc);

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return test_report("filter_quality");
}
