/* bench/generate: traces/s of `retort generate` into a fresh database, against
 * the ceiling measured in the same run: inserting rows of the same sizes into
 * the same schema, with the same batching and pragmas, and nothing else.
 *
 * usage: bench_generate [PROBLEMS=250000] [SAMPLES=4] [RUNS=3] [DIR=/tmp]
 * Single-threaded; pin with taskset to measure "one core". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include "core/db.h"
#include "core/err.h"
#include "generate/generate.h"
#include "../machine.h"

/* CPU seconds (user + system) of this process so far: on a shared machine the
 * wall clock says how much CPU the run was given, the CPU time what it used. */
static double cpu(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

static void rm_db(const char *p) {
    char b[4200];
    unlink(p);
    snprintf(b, sizeof b, "%s-wal", p); unlink(b);
    snprintf(b, sizeof b, "%s-shm", p); unlink(b);
}

/* The ceiling: the same number of problem and trace rows, of the measured
 * average sizes, through the same statements and transaction size. */
static double raw_inserts(const char *path, long problems, long samples, long batch, size_t plen, size_t tlen,
                          double *cpu_s) {
    sqlite3 *db;
    rm_db(path);
    if (db_open(path, DB_CREATE, &db)) { err_print(); exit(1); }
    db_exec(db, "INSERT INTO teachers(key, name, template, template_text) VALUES ('k','raw','r1','{prompt}')");
    char *prompt = malloc(plen + 1), *text = malloc(tlen + 1);
    memset(prompt, 'p', plen); prompt[plen] = 0;
    memset(text, 't', tlen); text[tlen] = 0;
    sqlite3_stmt *ip, *it;
    db_prepare(db, "INSERT OR IGNORE INTO problems(hash, family, task, lang, prompt, answer, answer_type, knobs, "
                   "difficulty, reasoning, split, source, run_id) VALUES (?,'arith','expr','en',?,'42','number','{}',2,1,'train','synthetic',NULL)", &ip);
    db_prepare(db, "INSERT OR IGNORE INTO traces(problem_id, teacher_id, sample_index, text, finish_reason, "
                   "think_prefilled, latency_ms, injected, run_id) VALUES (?,1,?,?,'stop',0,0.01,'',NULL)", &it);
    double t0 = bench_now_s(), c0 = cpu();
    db_begin(db);
    for (long i = 0; i < problems; i++) {
        char h[33];
        snprintf(h, sizeof h, "%032lx", (unsigned long)(i * 0x9e3779b97f4a7c15ULL));
        sqlite3_bind_text(ip, 1, h, 32, SQLITE_STATIC);
        sqlite3_bind_text(ip, 2, prompt, (int)plen, SQLITE_STATIC);
        sqlite3_step(ip); sqlite3_reset(ip);
        int64_t pid = sqlite3_last_insert_rowid(db);
        for (long s = 0; s < samples; s++) {
            sqlite3_bind_int64(it, 1, pid);
            sqlite3_bind_int64(it, 2, s);
            sqlite3_bind_text(it, 3, text, (int)tlen, SQLITE_STATIC);
            sqlite3_step(it); sqlite3_reset(it);
        }
        if ((i + 1) % batch == 0) { db_commit(db); db_begin(db); }
    }
    db_commit(db);
    double dt = bench_now_s() - t0;
    *cpu_s = cpu() - c0;
    sqlite3_finalize(ip); sqlite3_finalize(it);
    db_close(db);
    free(prompt); free(text);
    return dt;
}

int main(int argc, char **argv) {
    long problems = argc > 1 ? atol(argv[1]) : 250000, samples = argc > 2 ? atol(argv[2]) : 4;
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    const char *dir = argc > 4 ? argv[4] : "/tmp";
    if (problems <= 0 || samples <= 0 || runs <= 0 || runs > 50) {
        fprintf(stderr, "usage: bench_generate [PROBLEMS] [SAMPLES] [RUNS] [DIR]\n");
        return 2;
    }
    char path[4096], rawpath[4096];
    snprintf(path, sizeof path, "%s/bench_generate.db", dir);
    snprintf(rawpath, sizeof rawpath, "%s/bench_generate_raw.db", dir);
    generate_opts o;
    generate_opts_default(&o);
    o.count = problems;
    o.samples = samples;
    o.quiet = 1;
    double gen[50], raw[50], gen_cpu[50], raw_cpu[50];
    size_t plen = 0, tlen = 0;
    for (int r = 0; r < runs; r++) {
        rm_db(path);
        sqlite3 *db;
        if (db_open(path, DB_CREATE, &db)) { err_print(); return 1; }
        generate_result res;
        double t0 = bench_now_s(), c0 = cpu();
        if (generate_run(db, &o, 0, &res)) { err_print(); return 1; }
        gen[r] = bench_now_s() - t0;
        gen_cpu[r] = cpu() - c0;
        plen = (size_t)db_int(db, "SELECT avg(length(CAST(prompt AS BLOB))) FROM problems", 0);
        tlen = (size_t)db_int(db, "SELECT avg(length(CAST(text AS BLOB))) FROM traces", 0);
        db_close(db);
        raw[r] = raw_inserts(rawpath, problems, samples, o.batch, plen, tlen, &raw_cpu[r]);
        fprintf(stderr, "run %d: generate %.2fs (cpu %.2fs), raw inserts %.2fs (cpu %.2fs)\n", r + 1, gen[r], gen_cpu[r],
                raw[r], raw_cpu[r]);
    }
    rm_db(rawpath);
    double traces = (double)problems * samples;
    double g = bench_median(gen, runs), w = bench_median(raw, runs);
    double gc = bench_median(gen_cpu, runs), wc = bench_median(raw_cpu, runs);
    double load[1] = {0};
    getloadavg(load, 1);
    bench_print_machine(stdout);
    printf("workload: %ld problems x %ld samples = %.0f traces (arith defaults), avg trace %zu bytes, prompt %zu bytes\n",
           problems, samples, traces, tlen, plen);
    printf("generate:            %9.0f traces/s  (median of %d runs, %.2f s)\n", traces / g, runs, g);
    printf("ceiling (raw insert): %9.0f traces/s  (same rows, schema, batching; %.2f s)\n", traces / w, w);
    printf("ratio to ceiling:     %9.2f\n", w / g);
    printf("per CPU-second:       %9.0f traces/s generate, %.0f raw (cpu %.2f s / %.2f s; load average %.1f:\n"
           "                      on a busy machine the wall clock measures the CPU the run was given)\n",
           traces / gc, traces / wc, gc, wc, load[0]);
    printf("database left at %s\n", path);
    return 0;
}
