/* bench/filter: judge N traces (default 1M: 250k problems x 4 samples) and
 * print traces/s with 1 and 2 worker threads, and the scaling ratio.
 * Usage: bench_filter [DB] [N_PROBLEMS] [RUNS]
 * The DB is reused when it already holds traces (e.g. the one bench/generate
 * writes); otherwise it is filled with the test fixture's synthetic traces.
 * Each run judges under a fresh filter id (the seed differs), so every run
 * does the full work, DB read and verdict writes included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/db.h"
#include "core/err.h"
#include "filter/run.h"
#include "../../tests/filter/fixture.h"

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void machine(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512], model[256] = "unknown";
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) { char *c = strchr(line, ':'); if (c) { snprintf(model, sizeof model, "%s", c + 2); model[strcspn(model, "\n")] = 0; } break; }
    if (f) fclose(f);
    printf("machine: %ld cores online, %s (shared machine)\n", sysconf(_SC_NPROCESSORS_ONLN), model);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "bench-filter.db";
    int n_problems = argc > 2 ? atoi(argv[2]) : 250000;
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    sqlite3 *db;
    if (db_open(path, DB_CREATE, &db)) { err_print(); return 1; }
    int64_t have = db_int(db, "SELECT count(*) FROM traces", 0);
    if (have == 0) {
        fprintf(stderr, "filling %s with %d problems x 4 traces...\n", path, n_problems);
        if (fixture_fill(db, n_problems, 4, 0.05, 1)) { err_print(); return 1; }
        have = db_int(db, "SELECT count(*) FROM traces", 0);
    }
    machine();
    printf("traces: %lld (avg %lld bytes)\n", (long long)have, (long long)db_int(db, "SELECT avg(length(text)) FROM traces", 0));
    double med[3] = {0};
    for (int threads = 1; threads <= 2; threads++) {
        double t[16];
        for (int k = 0; k < runs && k < 16; k++) {
            filter_config cfg;
            filter_config_default(&cfg);
            cfg.seed = 1000000 + (uint64_t)threads * 100 + (uint64_t)k;   /* a new filter id each run */
            int64_t fid;
            int created;
            if (filter_ensure(db, &cfg, 0, &fid, &created)) { err_print(); return 1; }
            filter_stats st;
            if (filter_run(path, db, fid, &cfg, threads, &st)) { err_print(); return 1; }
            t[k] = st.judged / st.seconds;
            printf("  threads=%d run %d: %lld traces in %.2f s = %.0f traces/s (%lld pass)\n", threads, k, (long long)st.judged,
                   st.seconds, t[k], (long long)st.passed);
            fflush(stdout);
            /* drop this run's verdicts so the DB does not grow run after run */
            char q[128];
            snprintf(q, sizeof q, "DELETE FROM verdicts WHERE filter_id = %lld", (long long)fid);
            db_exec(db, q);
        }
        qsort(t, (size_t)runs, sizeof t[0], cmp_d);
        med[threads] = t[runs / 2];
        printf("threads=%d: median %.0f traces/s\n", threads, med[threads]);
    }
    printf("scaling 2 threads / 1 thread: %.2fx (target >= 1.7x); 2-thread figure %.0f traces/s (target >= 150000)\n",
           med[2] / med[1], med[2]);
    db_close(db);
    return 0;
}
