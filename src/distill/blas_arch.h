#ifndef RETORT_BLAS_ARCH_H
#define RETORT_BLAS_ARCH_H

/* OpenBLAS (Debian's DYNAMIC_ARCH build) picks its kernels from the CPU model
 * when the library loads. On virtual machines whose CPUID hides the model
 * ("Intel(R) Xeon(R) Processor"), 0.3.21 does not recognise it and falls back to
 * the generic Prescott (SSE3) kernels: sgemm then runs 3.6x slower than the
 * SkylakeX kernels on the same AVX-512 CPU (measured on the 2-core CI kind).
 * The choice can only be made before the library loads, through the
 * OPENBLAS_CORETYPE environment variable, so when the generic kernels were
 * picked on a CPU that supports better ones, the program re-executes itself
 * once with OPENBLAS_CORETYPE set to the best kernel family the CPU supports.
 *
 * Call first thing in main(). Returns only when no re-execution was needed or
 * when it failed (then the generic kernels stay, which is slow but correct).
 * A user's own OPENBLAS_CORETYPE is always respected. */
void blas_pick_kernels(char **argv);

/* The kernel family OpenBLAS is using ("SkylakeX", "Prescott", ...). */
const char *blas_kernels(void);

#endif
