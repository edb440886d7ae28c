/* The filter over a database: verdicts, the confusion matrix (100% recall,
 * no false rejection on the fixture), no-op reruns, new ids on new
 * thresholds, resume, per-problem selection, the views. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test.h"
#include "core/db.h"
#include "core/err.h"
#include "filter/run.h"
#include "fixture.h"

int main(void) {
    char path[] = "/tmp/retort-filter-test-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    sqlite3 *db;
    CHECK(db_open(path, DB_CREATE, &db) == 0);
    CHECK(fixture_fill(db, 1500, 4, 0.08, 7) == 0);

    filter_config cfg;
    filter_config_default(&cfg);
    int64_t fid;
    int created;
    CHECK(filter_ensure(db, &cfg, 0, &fid, &created) == 0 && created);
    filter_stats st;
    CHECKF(filter_run(path, db, fid, &cfg, 2, &st) == 0, "%s", err_msg());
    CHECK(st.judged == 6000);
    CHECK(filter_pending(db, fid) == 0);
    filter_report_t r;
    CHECK(filter_report(db, fid, &r) == 0);
    CHECK(r.n == 6000 && r.faulty > 500 && r.clean > 3000);
    CHECKF(r.faulty_rejected == r.faulty, "recall %lld/%lld", (long long)r.faulty_rejected, (long long)r.faulty);
    CHECKF(r.clean_rejected == 0, "false rejections %lld of %lld", (long long)r.clean_rejected, (long long)r.clean);
    for (int k = 0; k < r.nfaults; k++)
        CHECKF(r.faults[k].rejected == r.faults[k].n, "fault %s: %lld of %lld rejected", r.faults[k].name,
               (long long)r.faults[k].rejected, (long long)r.faults[k].n);
    CHECK(r.nfaults == 5);
    if (r.clean_rejected || r.faulty_rejected != r.faulty) filter_report_print(db, fid, stderr);

    /* same config: ensure finds it, nothing pending */
    int64_t fid2;
    CHECK(filter_ensure(db, &cfg, 0, &fid2, &created) == 0 && !created && fid2 == fid);
    /* a changed threshold is a new filter */
    filter_config c2 = cfg;
    c2.lang_min_ratio = 0.95;
    CHECK(filter_ensure(db, &c2, 0, &fid2, &created) == 0 && created && fid2 != fid);

    /* resume: delete half of the verdicts, run again, same result */
    int64_t pass_before = db_int(db, "SELECT sum(pass) FROM verdicts WHERE filter_id = 1", -1);
    CHECK(db_exec(db, "DELETE FROM verdicts WHERE filter_id = 1 AND trace_id % 2 = 0") == 0);
    CHECK(filter_run(path, db, fid, &cfg, 2, &st) == 0);
    CHECK(st.judged == 3000);
    CHECK(db_int(db, "SELECT sum(pass) FROM verdicts WHERE filter_id = 1", -2) == pass_before);

    /* per-problem selection: K = 1 shortest */
    filter_config c3 = cfg;
    c3.per_problem = 1;
    c3.policy = POLICY_SHORTEST;
    int64_t fid3;
    CHECK(filter_ensure(db, &c3, 0, &fid3, &created) == 0 && created);
    CHECK(filter_run(path, db, fid3, &c3, 1, &st) == 0);
    char q[512];
    snprintf(q, sizeof q, "SELECT max(n_keep) FROM v_problem_pass_rate WHERE filter_id = %lld", (long long)fid3);
    CHECK(db_int(db, q, -1) == 1);
    snprintf(q, sizeof q, "SELECT count(*) FROM v_problem_pass_rate WHERE filter_id = %lld AND n_pass > 0 AND n_keep = 0", (long long)fid3);
    CHECK(db_int(db, q, -1) == 0);
    /* the kept one is the shortest passing trace */
    snprintf(q, sizeof q,
             "SELECT count(*) FROM verdicts k JOIN traces tk ON tk.id = k.trace_id JOIN verdicts o ON o.filter_id = k.filter_id"
             " JOIN traces tov ON tov.id = o.trace_id AND tov.problem_id = tk.problem_id"
             " WHERE k.filter_id = %lld AND k.keep = 1 AND o.pass = 1 AND o.n_chars < k.n_chars", (long long)fid3);
    CHECK(db_int(db, q, -1) == 0);
    /* random policy is seeded: the same seed keeps the same traces */
    filter_config c4 = c3;
    c4.policy = POLICY_RANDOM;
    c4.seed = 42;
    int64_t fid4;
    CHECK(filter_ensure(db, &c4, 0, &fid4, &created) == 0 && filter_run(path, db, fid4, &c4, 2, &st) == 0);
    snprintf(q, sizeof q, "SELECT sum(trace_id) FROM verdicts WHERE filter_id = %lld AND keep = 1", (long long)fid4);
    int64_t s1 = db_int(db, q, -1);
    snprintf(q, sizeof q, "DELETE FROM verdicts WHERE filter_id = %lld", (long long)fid4);
    db_exec(db, q);
    CHECK(filter_run(path, db, fid4, &c4, 1, &st) == 0);
    snprintf(q, sizeof q, "SELECT sum(trace_id) FROM verdicts WHERE filter_id = %lld AND keep = 1", (long long)fid4);
    CHECK(db_int(db, q, -2) == s1);

    /* views */
    CHECK(db_int(db, "SELECT count(*) FROM v_reject_reasons WHERE filter_id = 1", 0) >= 5);
    CHECK(db_int(db, "SELECT sum(n) FROM v_reject_reasons WHERE filter_id = 1 AND reason = 'wrong_answer'", 0) > 0);
    CHECK(db_int(db, "SELECT count(*) FROM v_problem_pass_rate WHERE filter_id = 1", 0) == 1500);
    /* traces are never modified */
    CHECK(db_int(db, "SELECT count(*) FROM traces", 0) == 6000);

    db_close(db);
    unlink(path);
    char side[300];
    snprintf(side, sizeof side, "%s-wal", path); unlink(side);
    snprintf(side, sizeof side, "%s-shm", path); unlink(side);
    return test_report("filter_db");
}
