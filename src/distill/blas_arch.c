#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cblas.h>
#include "distill/blas_arch.h"

const char *blas_kernels(void) {
    const char *c = openblas_get_corename();
    return c ? c : "unknown";
}

/* What the CPU can run, best first; NULL when nothing beats the generic kernels. */
static const char *best_kernels(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    /* __builtin_cpu_supports also checks that the OS saves the wide registers */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
    return NULL;
}

void blas_pick_kernels(char **argv) {
    if (getenv("OPENBLAS_CORETYPE")) return; /* the user's choice, or our own re-execution */
    const char *core = blas_kernels();
    /* the generic families OpenBLAS falls back to when it does not know the CPU */
    static const char *const generic[] = {"prescott", "core2", "katmai", "coppermine", "northwood", "banias", "atom", NULL};
    int is_generic = 0;
    for (int i = 0; generic[i]; i++) is_generic |= strcasecmp(core, generic[i]) == 0;
    if (!is_generic) return;
    const char *want = best_kernels();
    if (!want || !argv || !argv[0]) return;
    if (setenv("OPENBLAS_CORETYPE", want, 1)) return;
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc): carry on with the generic kernels */
}
