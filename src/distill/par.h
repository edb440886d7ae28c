#ifndef RETORT_PAR_H
#define RETORT_PAR_H

/* Fork-join over [0, n): fn(ctx, begin, end, thread) on contiguous chunks, one
 * per thread, the calling thread included. Chunks shorter than min_chunk are
 * not worth a wake-up; the loop then runs on the caller. */
typedef void (*par_fn)(void *ctx, int begin, int end, int thread);
void par_for(int n, int min_chunk, par_fn fn, void *ctx);
/* Threads in the pool (the caller counts as one). */
void par_set_threads(int n);
int par_threads(void);

#endif
