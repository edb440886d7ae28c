/* What every benchmark shares: the machine it ran on (cores and CPU model), a
 * wall clock, and the median. */
#ifndef BENCH_MACHINE_H
#define BENCH_MACHINE_H
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline void bench_print_machine(FILE *out) {
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10)) {
                char *c = strchr(line, ':');
                if (c) { snprintf(model, sizeof model, "%s", c + 2); model[strcspn(model, "\n")] = 0; }
                break;
            }
        fclose(f);
    }
    fprintf(out, "machine: %ld cores online, %s\n", sysconf(_SC_NPROCESSORS_ONLN), model);
}

/* Wall-clock seconds (monotonic). */
static inline double bench_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static inline double bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
#endif
