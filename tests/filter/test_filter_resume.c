/* kill -9 in the middle of `retort filter`, then run it again: no problem is
 * left half judged by the kill (commits hold whole problems), the rerun
 * judges exactly what is missing, and the verdicts equal those of an
 * uninterrupted run. The kill comes as soon as a first commit is visible;
 * the checks hold wherever it lands, and the test says where that was. */
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include "core/db.h"
#include "core/err.h"
#include "filter/run.h"

#define COLS "trace_id, pass, keep, reasons, answer, answer_norm, correct, format_status, lang_ratio," \
             " dup_ngram_frac, top_ngram_frac, loop_period, n_chars, n_tokens, measures, text_hash"

int main(void) {
    const char *retort = getenv("RETORT");
    if (!retort) { fprintf(stderr, "RETORT is not set (run through meson test)\n"); return 1; }
    char dir[] = "/tmp/retort-filter-resume-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/r.db", dir);
    /* 120k traces: more than two commits' worth (>= 50k verdicts each) */
    snprintf(cmd, sizeof cmd, "'%s' generate --db '%s' --count 30000 --samples 4 --quiet > /dev/null", retort, path);
    CHECK(system(cmd) == 0);
    /* filter 1: uninterrupted */
    snprintf(cmd, sizeof cmd, "'%s' filter --db '%s' > /dev/null 2>&1", retort, path);
    CHECK(system(cmd) == 0);
    /* filter 2: the same rules (--seed only matters for --policy random),
     * killed as soon as its first commit is visible */
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(retort, retort, "filter", "--db", path, "--seed", "7", (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    for (int k = 0; k < 20000; k++) {   /* <= 100 s */
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) { pid = -1; break; }
        sqlite3 *p;
        if (db_open(path, DB_READONLY, &p) == 0) {
            int64_t have = db_int(p, "SELECT count(*) FROM verdicts WHERE filter_id = 2", 0);
            db_close(p);
            if (have > 0) break;
        }
        usleep(5000);
    }
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }

    sqlite3 *db;
    CHECKF(db_open(path, DB_READONLY, &db) == 0, "%s", err_msg());
    int64_t n = db_int(db, "SELECT count(*) FROM traces", -1);
    CHECK(n == 120000);
    int64_t after_kill = db_int(db, "SELECT count(*) FROM verdicts WHERE filter_id = 2", 0);
    fprintf(stderr, "after kill -9: %lld of %lld verdicts stored%s\n", (long long)after_kill, (long long)n,
            after_kill > 0 && after_kill < n ? " (mid-run)" : " (the kill missed the middle of the run)");
    /* whole problems only */
    CHECK(db_int(db, "SELECT count(*) FROM (SELECT t.problem_id, count(v.trace_id) AS nv, count(*) AS nt FROM traces t"
                     " LEFT JOIN verdicts v ON v.filter_id = 2 AND v.trace_id = t.id GROUP BY t.problem_id)"
                     " WHERE nv <> 0 AND nv <> nt", -1) == 0);
    db_close(db);

    snprintf(cmd, sizeof cmd, "'%s' filter --db '%s' --seed 7 2>&1", retort, path);
    FILE *pf = popen(cmd, "r");
    long long fid = 0, judged = -1;
    char line[512];
    while (pf && fgets(line, sizeof line, pf)) {
        char *j = strstr(line, "judged ");
        if (j) judged = atoll(j + 7);
        else if (strstr(line, "every trace already judged")) judged = 0;
        else if (line[0] >= '0' && line[0] <= '9') fid = atoll(line);
    }
    CHECK(pf && pclose(pf) == 0);
    CHECK(fid == 2);
    CHECKF(judged == n - after_kill, "rerun judged %lld, %lld were missing", judged, (long long)(n - after_kill));

    CHECKF(db_open(path, DB_READONLY, &db) == 0, "%s", err_msg());
    CHECK(filter_pending(db, 2) == 0);
    CHECK(db_int(db, "SELECT count(*) FROM verdicts WHERE filter_id = 2", -1) == n);
    CHECK(db_int(db, "SELECT count(*) FROM (SELECT " COLS " FROM verdicts WHERE filter_id = 1"
                     " EXCEPT SELECT " COLS " FROM verdicts WHERE filter_id = 2)", -1) == 0);
    CHECK(db_int(db, "SELECT count(*) FROM (SELECT " COLS " FROM verdicts WHERE filter_id = 2"
                     " EXCEPT SELECT " COLS " FROM verdicts WHERE filter_id = 1)", -1) == 0);
    db_close(db);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return test_report("filter_resume");
}
