/* bench/filter: judge every trace of a database (1M: the 250k problems x 4
 * samples that bench/generate writes with `retort generate` defaults) and
 * print traces/s with 1 and 2 threads, the scaling ratio, and the Python
 * baseline (bench/filter/baseline.py, open-r1-style rules) measured in the
 * same run on a sample of the same traces.
 *
 * Usage: bench_filter [DB] [N_PROBLEMS] [RUNS] [PY_SAMPLE]
 * The DB is reused when it already holds traces; otherwise it is filled with
 * the test fixture's synthetic traces. Each run judges under a fresh filter id
 * (the seed differs), so every run does the full work: reading, judging and
 * writing every verdict; the run's verdicts are deleted afterwards.
 *
 * --threads N means N busy threads in all: with 1, one thread reads, judges
 * and writes; with 2, a second thread judges too. The machine is shared, so
 * besides wall-clock traces/s each run prints its CPU time (user + sys of
 * this process), the time its threads spent blocked on each other (queue
 * waits) and the load average before it. "On dedicated cores" is
 * traces / ((CPU time + queue waits) / threads): what the run reaches when
 * each thread has a core to itself, counting every wait as lost (waits grow
 * when the OS deschedules the other thread, so this errs low); cpu/wall
 * shows how many cores the run actually got. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "core/db.h"
#include "core/err.h"
#include "filter/run.h"
#include "../machine.h"
#include "../../tests/filter/fixture.h"

#ifndef BASELINE_PY
#define BASELINE_PY "bench/filter/baseline.py"
#endif

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

static double loadavg(void) {
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

/* Run the Python baseline on n traces; its traces/s, or -1. */
static double python_baseline(const char *path, int n) {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s' %d", BASELINE_PY, path, n);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[512];
    double tps = -1;
    while (fgets(line, sizeof line, p)) {
        fputs(line, stdout);
        char *eq = strstr(line, "= ");
        if (eq) tps = atof(eq + 2);
    }
    return pclose(p) == 0 ? tps : -1;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "bench-filter.db";
    int n_problems = argc > 2 ? atoi(argv[2]) : 250000;
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    int py_n = argc > 4 ? atoi(argv[4]) : 50000;
    if (n_problems <= 0 || runs <= 0 || runs > 16 || py_n < 0) {
        fprintf(stderr, "usage: bench_filter [DB] [N_PROBLEMS] [RUNS<=16] [PY_SAMPLE]\n");
        return 2;
    }
    sqlite3 *db;
    if (db_open(path, DB_CREATE, &db)) { err_print(); return 1; }
    int64_t have = db_int(db, "SELECT count(*) FROM traces", 0);
    if (have == 0) {
        fprintf(stderr, "filling %s with %d problems x 4 fixture traces...\n", path, n_problems);
        if (fixture_fill(db, n_problems, 4, 0.05, 1)) { err_print(); return 1; }
        have = db_int(db, "SELECT count(*) FROM traces", 0);
    }
    bench_print_machine(stdout);
    printf("(shared machine: other jobs ran at the same time; see load and cpu/wall per run)\n");
    printf("traces: %lld (avg %lld bytes)\n", (long long)have, (long long)db_int(db, "SELECT avg(length(text)) FROM traces", 0));
    fflush(stdout);
    double wall[3] = {0}, cpu[3] = {0};
    for (int threads = 1; threads <= 2; threads++) {
        double tw[16], tc[16];
        for (int k = 0; k < runs; k++) {
            filter_config cfg;
            filter_config_default(&cfg);
            cfg.seed = 1000000 + (uint64_t)threads * 100 + (uint64_t)k;   /* a new filter id each run */
            int64_t fid;
            int created;
            if (filter_ensure(db, &cfg, 0, &fid, &created)) { err_print(); return 1; }
            double load = loadavg(), c0 = cpu_s();
            filter_stats st;
            if (filter_run(path, db, fid, &cfg, threads, &st)) { err_print(); return 1; }
            double c = cpu_s() - c0;
            tw[k] = st.judged / st.seconds;
            tc[k] = st.judged / ((c + st.wait_seconds) / threads);
            printf("  threads=%d run %d: %lld traces in %.2f s = %.0f traces/s (%lld pass); cpu %.2f s (cpu/wall %.2f),"
                   " queue waits %.2f s, %.0f traces/s on dedicated cores; load before %.2f\n",
                   threads, k, (long long)st.judged, st.seconds, tw[k], (long long)st.passed, c, c / st.seconds,
                   st.wait_seconds, tc[k], load);
            fflush(stdout);
            char q[128];
            snprintf(q, sizeof q, "DELETE FROM verdicts WHERE filter_id = %lld", (long long)fid);
            db_exec(db, q);
        }
        wall[threads] = bench_median(tw, runs);
        cpu[threads] = bench_median(tc, runs);
        printf("threads=%d: median %.0f traces/s wall-clock; %.0f traces/s on dedicated cores\n", threads,
               wall[threads], cpu[threads]);
    }
    double py = py_n ? python_baseline(path, py_n) : -1;
    printf("\nsummary (median of %d runs each, 1M-trace workload when DB is bench/generate's)\n", runs);
    printf("  1 thread:  %9.0f traces/s wall-clock   (%9.0f on dedicated cores)\n", wall[1], cpu[1]);
    printf("  2 threads: %9.0f traces/s wall-clock   (%9.0f on dedicated cores)   target >= 150000\n", wall[2], cpu[2]);
    printf("  scaling 2/1: %.2fx wall-clock (%.2fx on dedicated cores)   target >= 1.7x\n", wall[2] / wall[1], cpu[2] / cpu[1]);
    if (py > 0)
        printf("  python baseline: %.0f traces/s on 1 core; retort 1 thread = %.1fx, 2 threads = %.1fx (wall-clock)\n", py,
               wall[1] / py, wall[2] / py);
    db_close(db);
    return 0;
}
