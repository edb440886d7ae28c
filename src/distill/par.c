/* A tiny fork-join pool for the elementwise loops of the model. It has the same
 * number of threads as OpenBLAS and only runs between sgemm calls (OpenBLAS is
 * only ever called from the main thread, outside par_for), so the two pools
 * take turns on the cores instead of oversubscribing them. Work is split into
 * contiguous chunks by thread index, so results do not depend on timing. */
#include <pthread.h>
#include <stdlib.h>
#include "distill/par.h"

#define PAR_MAX 64

static struct {
    int nthreads, started;
    pthread_t th[PAR_MAX];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long gen;
    int pending;
    par_fn fn;
    void *ctx;
    int n;
} P = {.nthreads = 1, .mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static void chunk(int n, int nt, int i, int *a, int *b) {
    *a = (int)((long)n * i / nt);
    *b = (int)((long)n * (i + 1) / nt);
}

static void *worker(void *arg) {
    int id = (int)(long)arg;
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&P.mu);
        while (P.gen == seen) pthread_cond_wait(&P.go, &P.mu);
        seen = P.gen;
        par_fn fn = P.fn;
        void *ctx = P.ctx;
        int n = P.n, nt = P.nthreads;
        pthread_mutex_unlock(&P.mu);
        int a, b;
        chunk(n, nt, id, &a, &b);
        if (a < b) fn(ctx, a, b, id);
        pthread_mutex_lock(&P.mu);
        if (--P.pending == 0) pthread_cond_signal(&P.done);
        pthread_mutex_unlock(&P.mu);
    }
    return NULL;
}

void par_set_threads(int n) {
    if (n < 1) n = 1;
    if (n > PAR_MAX) n = PAR_MAX;
    pthread_mutex_lock(&P.mu);
    while (P.started < n - 1) {
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&P.th[P.started], &at, worker, (void *)(long)(P.started + 1)) != 0) {
            pthread_attr_destroy(&at);
            break;
        }
        pthread_attr_destroy(&at);
        P.started++;
    }
    P.nthreads = n <= P.started + 1 ? n : P.started + 1;
    pthread_mutex_unlock(&P.mu);
}

int par_threads(void) { return P.nthreads; }

void par_for(int n, int min_chunk, par_fn fn, void *ctx) {
    int nt = P.nthreads;
    if (nt > 1 && min_chunk > 0 && n / min_chunk < nt) nt = n / min_chunk > 1 ? n / min_chunk : 1;
    if (nt <= 1 || nt != P.nthreads) {
        /* too little work to split (or fewer chunks than threads): run here,
         * chunked as if it were split so reductions stay the same */
        int T = P.nthreads;
        for (int i = 0; i < T; i++) {
            int a, b;
            chunk(n, T, i, &a, &b);
            if (a < b) fn(ctx, a, b, i);
        }
        return;
    }
    pthread_mutex_lock(&P.mu);
    P.fn = fn;
    P.ctx = ctx;
    P.n = n;
    P.pending = nt - 1;
    P.gen++;
    pthread_cond_broadcast(&P.go);
    pthread_mutex_unlock(&P.mu);
    int a, b;
    chunk(n, nt, 0, &a, &b);
    if (a < b) fn(ctx, a, b, 0);
    pthread_mutex_lock(&P.mu);
    while (P.pending > 0) pthread_cond_wait(&P.done, &P.mu);
    pthread_mutex_unlock(&P.mu);
}
