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

/* Flush denormal floats to zero (on: x86 FTZ and DAZ, AArch64 FZ; off: IEEE
 * gradual underflow) in this thread and in every compute thread started after it,
 * OpenBLAS's pool included (restarted, since its workers start before main()).
 * Why: as a student trains, attention sharpens and softmax leaves many
 * probabilities between 1e-45 and 1e-38; every such operand or result costs a
 * microcode assist, and training the `small` student slowed from 5,500 to about
 * 1,900 tokens/s within a few thousand steps (CI kind; bench/train/bench_denormals
 * times the attention alone both ways). Values that small weigh nothing next to
 * the rest of their row. blas_init() turns it on; off is for benches and tests. */
void blas_flush_denormals(int on);

/* Whether this thread flushes denormals. */
int blas_flushes_denormals(void);

/* Everything above, first thing in main(): blas_pick_kernels() (which may
 * re-execute), then blas_flush_denormals(1). */
void blas_init(char **argv);

/* The kernel family OpenBLAS is using ("SkylakeX", "Prescott", ...). */
const char *blas_kernels(void);

#endif
