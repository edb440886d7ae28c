/* pass@k (unbiased estimator) and maj@k on hand-made outputs. */
#include <math.h>
#include "test.h"
#include "distill/eval.h"

static double binom(int n, int k) {
    double r = 1;
    for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
    return r;
}

int main(void) {
    /* definitions: 1 - C(n-c,k)/C(n,k) */
    CHECK(fabs(pass_at_k(5, 2, 1) - 0.4) < 1e-12);
    CHECK(fabs(pass_at_k(5, 2, 2) - 0.7) < 1e-12);          /* 1 - 3/10 */
    CHECK(pass_at_k(5, 0, 3) == 0.0);
    CHECK(pass_at_k(5, 3, 3) == 1.0);                       /* n - c < k: every k-subset has a correct one */
    CHECK(pass_at_k(8, 1, 8) == 1.0 && pass_at_k(8, 0, 8) == 0.0);
    CHECK(isnan(pass_at_k(3, 1, 4)));
    for (int n = 1; n <= 20; n++)
        for (int c = 0; c <= n; c++)
            for (int k = 1; k <= n; k++) {
                double want = 1.0 - (n - c >= k ? binom(n - c, k) / binom(n, k) : 0.0);
                CHECKF(fabs(pass_at_k(n, c, k) - want) < 1e-9, "n=%d c=%d k=%d: %g vs %g", n, c, k, pass_at_k(n, c, k), want);
            }
    /* unbiased: averaging pass@1 over samples equals c/n */
    CHECK(fabs(pass_at_k(16, 5, 1) - 5.0 / 16) < 1e-12);

    /* majority vote over normalized answers; NULL never wins; ties: first seen */
    const char *a1[] = {"3", "4", "4", NULL, "3", "4"};
    CHECK(majority_vote(a1, 6) == 1);
    const char *a2[] = {NULL, "7/2", "5", "5", "7/2"};
    CHECK(majority_vote(a2, 5) == 1);                       /* tie 2-2: 7/2 was seen first */
    const char *a3[] = {NULL, NULL, NULL};
    CHECK(majority_vote(a3, 3) == -1);
    const char *a4[] = {NULL, NULL, "-1"};
    CHECK(majority_vote(a4, 3) == 2);
    /* a hand-made problem: samples say 12,12,13,None; truth 12 -> maj correct, pass@2 from c=2 of n=4 */
    const char *a5[] = {"12", "12", "13", NULL};
    int m = majority_vote(a5, 4);
    CHECK(m == 0 && strcmp(a5[m], "12") == 0);
    CHECK(fabs(pass_at_k(4, 2, 2) - (1.0 - 1.0 / 6)) < 1e-12);
    return test_report("test_metrics");
}
