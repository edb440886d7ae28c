/* retort side of the tokenizer benchmark: encode every line of FILE with
 * TOKENIZER on one thread, RUNS times (a fresh tokenizer each run, so the
 * word cache starts cold every time, as the JS side's does). Prints per-run
 * seconds and the id count and sum, in the same format as bench_js.js. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/err.h"
#include "tokenizer/tokenizer.h"
#include "../machine.h"

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: bench_tokenizer TOKENIZER FILE [RUNS]\n"); return 2; }
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    FILE *f = fopen(argv[2], "rb");
    if (!f) { perror(argv[2]); return 1; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = xmalloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) { perror("read"); return 1; }
    fclose(f);
    for (int r = 0; r < runs; r++) {
        tokenizer_t *t = tokenizer_load(argv[1]);
        if (!t) { err_print(); return 1; }
        tok_ids ids = {0};
        uint64_t count = 0;
        uint32_t sum = 0;
        double t0 = bench_now_s();
        for (char *p = buf, *end = buf + n; p < end;) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) nl = end;
            ids.n = 0;
            tokenizer_encode(t, p, (size_t)(nl - p), &ids);
            count += ids.n;
            for (size_t i = 0; i < ids.n; i++) sum += ids.v[i];
            p = nl + 1;
        }
        double s = bench_now_s() - t0;
        printf("c run %d: %.3f s, %llu ids, sum %u\n", r + 1, s, (unsigned long long)count, sum);
        tok_ids_free(&ids);
        tokenizer_free(t);
    }
    free(buf);
    return 0;
}
