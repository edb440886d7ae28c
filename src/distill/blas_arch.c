#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cblas.h>
#include "distill/blas_arch.h"
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

/* OpenBLAS's pthread server starts its workers when the library loads, before
 * main() can set anything, and (without CONSISTENT_FPCSR, as Debian builds it)
 * never copies the caller's FP control word to them. Shutting the pool down makes
 * the next threaded call start fresh workers, which inherit this thread's mode.
 * Weak: absent from OpenMP builds, whose workers start lazily anyway. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

#define MXCSR_DAZ 0x0040u /* denormal operands read as zero */
#define MXCSR_FTZ 0x8000u /* denormal results written as zero */
#define FPCR_FZ (UINT64_C(1) << 24)

void blas_flush_denormals(int on) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned csr = _mm_getcsr();
    _mm_setcsr(on ? csr | MXCSR_DAZ | MXCSR_FTZ : csr & ~(MXCSR_DAZ | MXCSR_FTZ));
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ volatile("msr fpcr, %0" : : "r"(on ? fpcr | FPCR_FZ : fpcr & ~FPCR_FZ));
#else
    (void)on;
#endif
    if (blas_thread_shutdown_) blas_thread_shutdown_();
}

int blas_flushes_denormals(void) {
#if defined(__x86_64__) || defined(__i386__)
    return (_mm_getcsr() & (MXCSR_DAZ | MXCSR_FTZ)) == (MXCSR_DAZ | MXCSR_FTZ);
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (fpcr & FPCR_FZ) != 0;
#else
    return 0;
#endif
}

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

void blas_init(char **argv) {
    blas_pick_kernels(argv);
    blas_flush_denormals(1);
}
