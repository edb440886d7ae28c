/* Every family's ground truth, re-checked by evaluation that is independent of
 * the generator: the arith prompt is re-read as text, word problems are
 * recomputed from the dataset's expression with the stored variables, and
 * general tasks are recomputed from their knobs. */
#include <stdio.h>
#include <cjson/cJSON.h>
#include "test.h"
#include "generate/family.h"
#include "generate/generate.h"
#include "core/rational.h"
#include "core/err.h"
#include "ref_eval.h"

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    s[n] = 0;
    fclose(f);
    return s;
}

/* English or Chinese number words back to a number, written independently. */
static long words_to_number_en(const char *s) {
    static const char *small[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                                  "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                                  "seventeen", "eighteen", "nineteen"};
    static const char *tens[] = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
    long total = 0, cur = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, " -"); tok; tok = strtok(NULL, " -")) {
        int hit = 0;
        for (int i = 0; i < 20; i++) if (!strcmp(tok, small[i])) { cur += i; hit = 1; }
        for (int i = 0; i < 8; i++) if (!strcmp(tok, tens[i])) { cur += 20 + 10 * i; hit = 1; }
        if (!strcmp(tok, "hundred")) { cur *= 100; hit = 1; }
        if (!strcmp(tok, "thousand")) { total += cur * 1000; cur = 0; hit = 1; }
        if (!strcmp(tok, "million")) { total += cur * 1000000; cur = 0; hit = 1; }
        if (!hit) return -1;
    }
    return total + cur;
}

static long words_to_number_zh(const char *s) {
    static const char *digit[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
    long total = 0, section = 0, d = -1;
    while (*s) {
        int hit = 0;
        for (int i = 0; i < 10; i++)
            if (!strncmp(s, digit[i], 3)) { d = i; hit = 1; }
        if (!strncmp(s, "十", 3)) { section += (d < 0 ? 1 : d) * 10; d = -1; hit = 1; }
        if (!strncmp(s, "百", 3)) { section += d * 100; d = -1; hit = 1; }
        if (!strncmp(s, "千", 3)) { section += d * 1000; d = -1; hit = 1; }
        if (!strncmp(s, "万", 3)) { total += (section + (d > 0 ? d : 0)) * 10000; section = 0; d = -1; hit = 1; }
        if (!hit) return -1;
        s += 3;
    }
    return total + section + (d > 0 ? d : 0);
}

static const char *expr_start(const char *s) {
    for (; *s; s++)
        if ((*s >= '0' && *s <= '9') || *s == '(' || *s == '-') return s;
    return s;
}

int main(void) {
    const char *srcdir = getenv("SRCDIR");
    if (!srcdir) srcdir = ".";
    char path[4096];
    cJSON *word_ds[2];
    const char *langs[] = {"en", "zh"};
    for (int l = 0; l < 2; l++) {
        snprintf(path, sizeof path, "%s/datasets/word_%s.json", srcdir, langs[l]);
        char *txt = read_file(path);
        CHECKF(txt != NULL, "cannot read %s", path);
        word_ds[l] = cJSON_Parse(txt ? txt : "{}");
        free(txt);
        CHECKF(cJSON_GetArraySize(cJSON_GetObjectItem(word_ds[l], "templates")) >= 8, "%s: need >= 8 templates", langs[l]);
    }
    CHECK(family_load() == 0);
    problem_t p;
    problem_init(&p);
    mpq_t truth, ref, tmp;
    mpq_inits(truth, ref, tmp, NULL);
    strbuf b;
    sb_init(&b);
    const char *families[] = {"arith", "word", "general"};
    int task_seen[2][16] = {{0}};
    for (int f = 0; f < 3; f++) {
        for (int l = 0; l < 2; l++) {
            family_opts o = {.family = families[f], .lang = langs[l],
                             .arith = {.operands_min = 2, .operands_max = 8, .digits_min = 1, .digits_max = 6,
                                       .paren_share = 0.4, .negative_share = 0.2, .fraction_share = 0.3}};
            long n_eval = 0;
            for (int i = 0; i < 2000; i++) {
                rng_t r;
                rng_seed(&r, (uint64_t)(i * 31 + f * 7 + l));
                CHECKF(family_make(&p, &o, &r) == 0, "%s/%s #%d: %s", families[f], langs[l], i, err_msg());
                CHECK(p.prompt.len > 0 && p.answer.len > 0);
                cJSON *knobs = cJSON_Parse(p.knobs.s);
                CHECKF(knobs != NULL, "knobs are not JSON: %s", p.knobs.s);
                char h[33];
                problem_hash(&p, h);
                n_eval += strcmp(problem_split(h, 0.02), "eval") == 0;
                if (!p.answer_is_text) {
                    CHECK(rat_parse(truth, p.answer.s) == 0);
                    sb_reset(&b);
                    rat_put(&b, truth);
                    CHECKF(strcmp(b.s, p.answer.s) == 0, "answer '%s' is not canonical", p.answer.s);
                }
                if (f == 0) {
                    int rc = ref_eval(expr_start(p.prompt.s), ref);
                    CHECKF(rc == 0 && mpq_equal(ref, truth), "arith '%s': independent evaluation disagrees with %s (rc %d)",
                           p.prompt.s, p.answer.s, rc);
                } else if (f == 1) {
                    const char *tid = cJSON_GetStringValue(cJSON_GetObjectItem(knobs, "template"));
                    const cJSON *t, *found = NULL;
                    cJSON_ArrayForEach(t, cJSON_GetObjectItem(word_ds[l], "templates"))
                        if (tid && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "id")), tid)) found = t;
                    CHECKF(found != NULL, "template %s not in dataset", tid ? tid : "?");
                    if (!found) continue;
                    /* substitute the stored variables into the dataset's expression text */
                    const char *ex = cJSON_GetStringValue(cJSON_GetObjectItem(found, "expr"));
                    const cJSON *vars = cJSON_GetObjectItem(knobs, "vars");
                    sb_reset(&b);
                    for (const char *s = ex; *s;) {
                        if ((*s >= 'a' && *s <= 'z')) {
                            const char *e = s;
                            while ((*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9') || *e == '_') e++;
                            char name[32];
                            snprintf(name, sizeof name, "%.*s", (int)(e - s), s);
                            const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(vars, name));
                            sb_printf(&b, "(%s)", v ? v : "?");
                            s = e;
                        } else sb_putc(&b, *s++);
                    }
                    int rc = ref_eval(b.s, ref);
                    CHECKF(rc == 0 && mpq_equal(ref, truth), "word %s '%s' = %s, generator says %s", tid, b.s, "?", p.answer.s);
                    /* every variable the text mentions is in the prompt with its stored value */
                    const cJSON *bv;
                    const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(found, "text"));
                    cJSON_ArrayForEach(bv, vars) {
                        char ph[40];
                        snprintf(ph, sizeof ph, "{%s}", bv->string);
                        if (!strstr(text, ph)) continue;
                        const char *v = cJSON_GetStringValue(bv);
                        CHECKF(v && strstr(p.prompt.s, v), "word %s: value of %s missing from prompt", tid, bv->string);
                    }
                    CHECK(p.percent == cJSON_IsTrue(cJSON_GetObjectItem(found, "percent")));
                } else {
                    CHECK(p.reasoning == 0);
                    if (!strcmp(p.task, "number_words")) {
                        task_seen[l][0]++;
                        long n = (long)cJSON_GetObjectItem(knobs, "n")->valuedouble;
                        long back = l ? words_to_number_zh(p.answer.s) : words_to_number_en(p.answer.s);
                        CHECKF(back == n, "'%s' reads back as %ld, want %ld", p.answer.s, back, n);
                        CHECK(p.answer_is_text);
                    } else if (!strcmp(p.task, "compare")) {
                        task_seen[l][1]++;
                        mpq_t a, c;
                        mpq_inits(a, c, NULL);
                        CHECK(rat_parse(a, cJSON_GetStringValue(cJSON_GetObjectItem(knobs, "a"))) == 0);
                        CHECK(rat_parse(c, cJSON_GetStringValue(cJSON_GetObjectItem(knobs, "b"))) == 0);
                        CHECK(!mpq_equal(a, c));
                        CHECK(mpq_equal(truth, mpq_cmp(a, c) > 0 ? a : c));
                        mpq_clears(a, c, NULL);
                    } else if (!strcmp(p.task, "convert")) {
                        task_seen[l][2]++;
                        CHECK(rat_parse(ref, cJSON_GetStringValue(cJSON_GetObjectItem(knobs, "x"))) == 0);
                        mpq_set_si(tmp, (long)cJSON_GetObjectItem(knobs, "factor")->valuedouble, 1);
                        mpq_mul(ref, ref, tmp);
                        CHECK(mpq_equal(ref, truth));
                    } else if (!strcmp(p.task, "round")) {
                        task_seen[l][3]++;
                        CHECK(rat_parse(ref, cJSON_GetStringValue(cJSON_GetObjectItem(knobs, "x"))) == 0);
                        int d = (int)cJSON_GetObjectItem(knobs, "decimals")->valuedouble;
                        /* floor(x * 10^d + 1/2) / 10^d for positive x */
                        mpz_t sc, p10;
                        mpz_inits(sc, p10, NULL);
                        mpz_ui_pow_ui(p10, 10, (unsigned long)d);
                        mpz_mul(sc, mpq_numref(ref), p10);
                        mpz_mul_ui(sc, sc, 2);
                        mpz_add(sc, sc, mpq_denref(ref));
                        mpz_fdiv_q(sc, sc, mpq_denref(ref));
                        mpz_fdiv_q_ui(sc, sc, 2);
                        mpq_set_num(tmp, sc);
                        mpq_set_den(tmp, p10);
                        mpq_canonicalize(tmp);
                        CHECKF(mpq_equal(tmp, truth), "round %s to %d: got %s", cJSON_GetStringValue(cJSON_GetObjectItem(knobs, "x")), d, p.answer.s);
                        mpz_clears(sc, p10, NULL);
                    } else {
                        CHECKF(0, "unknown general task %s", p.task);
                    }
                }
                cJSON_Delete(knobs);
            }
            /* the eval split by hash is close to 2% (binomial sd ~0.3%) */
            CHECKF(n_eval >= 10 && n_eval <= 80, "%s/%s: %ld of 2000 in eval", families[f], langs[l], n_eval);
        }
    }
    for (int l = 0; l < 2; l++)
        for (int t = 0; t < 4; t++) CHECKF(task_seen[l][t] > 100, "general task %d (%s) seen %d times", t, langs[l], task_seen[l][t]);
    problem_free(&p);
    mpq_clears(truth, ref, tmp, NULL);
    sb_free(&b);
    cJSON_Delete(word_ds[0]);
    cJSON_Delete(word_ds[1]);
    return test_report("test_families");
}
