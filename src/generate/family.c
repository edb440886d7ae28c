#include <string.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "generate/family.h"
#include "generate/numwords.h"
#include "core/embedded.h"
#include "core/err.h"
#include "core/rational.h"

/* ---- datasets ---- */

#define MAX_TEMPLATES 64

typedef struct {
    const char *id, *text, *plan;
    int percent;
    int nvars, nbase;              /* base variables first, then derived */
    const char *vars[EXPR_MAX_VARS];
    long lo[EXPR_MAX_VARS], hi[EXPR_MAX_VARS];
    const cJSON *choices[EXPR_MAX_VARS];
    expr_t derive[EXPR_MAX_VARS];  /* for derived variables */
    expr_t expr;
} word_template;

typedef struct {
    const char *lang;
    cJSON *root;
    const cJSON *names;
    word_template t[MAX_TEMPLATES];
    int n;
} word_set;

static int loaded;
static cJSON *phrases_root, *general_root[2];
static word_set words[2];   /* en, zh */

static int lang_index(const char *lang) { return strcmp(lang, "zh") == 0 ? 1 : 0; }

static cJSON *load_json(const char *name) {
    const struct embedded_file *f = dataset_find(name);
    if (!f) { err_set("datasets/%s: not embedded in this build", name); return NULL; }
    cJSON *j = cJSON_ParseWithLength(f->data, f->len);
    if (!j) {
        const char *at = cJSON_GetErrorPtr();
        long off = at ? (long)(at - f->data) : -1;
        int line = 1;
        for (long i = 0; i < off; i++) line += f->data[i] == '\n';
        err_set("datasets/%s:%d: invalid JSON", name, line);
    }
    return j;
}

static int load_words(word_set *ws, const char *file) {
    ws->root = load_json(file);
    if (!ws->root) return -1;
    ws->lang = cJSON_GetStringValue(cJSON_GetObjectItem(ws->root, "lang"));
    ws->names = cJSON_GetObjectItem(ws->root, "names");
    const cJSON *tpls = cJSON_GetObjectItem(ws->root, "templates"), *t;
    if (!ws->lang || !cJSON_IsArray(ws->names) || !cJSON_IsArray(tpls)) {
        err_set("datasets/%s: needs \"lang\", \"names\" and \"templates\"", file);
        return -1;
    }
    int k = 0;
    cJSON_ArrayForEach(t, tpls) {
        if (ws->n >= MAX_TEMPLATES) { err_set("datasets/%s: more than %d templates", file, MAX_TEMPLATES); return -1; }
        word_template *w = &ws->t[ws->n];
        memset(w, 0, sizeof *w);
        w->id = cJSON_GetStringValue(cJSON_GetObjectItem(t, "id"));
        w->text = cJSON_GetStringValue(cJSON_GetObjectItem(t, "text"));
        w->plan = cJSON_GetStringValue(cJSON_GetObjectItem(t, "plan"));
        const char *ex = cJSON_GetStringValue(cJSON_GetObjectItem(t, "expr"));
        w->percent = cJSON_IsTrue(cJSON_GetObjectItem(t, "percent"));
        if (!w->id || !w->text || !w->plan || !ex) {
            err_set("datasets/%s: template %d needs id, text, plan and expr", file, k);
            return -1;
        }
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(t, "vars")) {
            int i = w->nvars++;
            w->vars[i] = v->string;
            if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2) {
                w->lo[i] = (long)cJSON_GetArrayItem(v, 0)->valuedouble;
                w->hi[i] = (long)cJSON_GetArrayItem(v, 1)->valuedouble;
            } else if (cJSON_IsArray(cJSON_GetObjectItem(v, "choices"))) {
                w->choices[i] = cJSON_GetObjectItem(v, "choices");
            } else {
                err_set("datasets/%s: template '%s': variable '%s' needs [min, max] or {\"choices\": [...]}", file, w->id, v->string);
                return -1;
            }
        }
        w->nbase = w->nvars;
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(t, "derive")) {
            int i = w->nvars++;
            w->vars[i] = v->string;
            expr_init(&w->derive[i]);
            if (!cJSON_IsString(v) || expr_parse(&w->derive[i], v->valuestring, w->vars, i)) {
                err_prefix("datasets/%s: template '%s': derive '%s'", file, w->id, v->string);
                return -1;
            }
        }
        expr_init(&w->expr);
        if (expr_parse(&w->expr, ex, w->vars, w->nvars)) {
            err_prefix("datasets/%s: template '%s': expr", file, w->id);
            return -1;
        }
        ws->n++;
        k++;
    }
    return 0;
}

int family_load(void) {
    if (loaded) return 0;
    if (!(phrases_root = load_json("phrases.json"))) return -1;
    if (!(general_root[0] = load_json("general_en.json")) || !(general_root[1] = load_json("general_zh.json"))) return -1;
    if (load_words(&words[0], "word_en.json") || load_words(&words[1], "word_zh.json")) return -1;
    loaded = 1;
    return 0;
}

int family_word_templates(const char *lang) { return family_load() ? 0 : words[lang_index(lang)].n; }

const struct cJSON *family_phrases(const char *lang) {
    return cJSON_GetObjectItem(phrases_root, lang);
}

/* ---- problems ---- */

void problem_init(problem_t *p) {
    memset(p, 0, sizeof *p);
    sb_init(&p->prompt); sb_init(&p->answer); sb_init(&p->knobs); sb_init(&p->display); sb_init(&p->plan);
    mpq_init(p->truth);
    expr_init(&p->expr);
    for (int i = 0; i < PROBLEM_MAX_FACTS; i++) sb_init(&p->facts[i].val);
}

void problem_free(problem_t *p) {
    sb_free(&p->prompt); sb_free(&p->answer); sb_free(&p->knobs); sb_free(&p->display); sb_free(&p->plan);
    mpq_clear(p->truth);
    expr_clear(&p->expr);
    for (int i = 0; i < PROBLEM_MAX_FACTS; i++) sb_free(&p->facts[i].val);
}

static void problem_reset(problem_t *p) {
    sb_reset(&p->prompt); sb_reset(&p->answer); sb_reset(&p->knobs); sb_reset(&p->display); sb_reset(&p->plan);
    p->answer_is_text = p->percent = p->has_expr = 0;
    p->nfacts = 0;
    p->difficulty = 0;
    p->reasoning = 1;
}

strbuf *problem_fact(problem_t *p, const char *key) {
    for (int i = 0; i < p->nfacts; i++)
        if (strcmp(p->facts[i].key, key) == 0) { sb_reset(&p->facts[i].val); return &p->facts[i].val; }
    if (p->nfacts >= PROBLEM_MAX_FACTS) die("problem_fact: too many facts");
    p->facts[p->nfacts].key = key;
    sb_reset(&p->facts[p->nfacts].val);
    return &p->facts[p->nfacts++].val;
}

const char *problem_fact_get(const problem_t *p, const char *key) {
    for (int i = 0; i < p->nfacts; i++)
        if (strcmp(p->facts[i].key, key) == 0) return p->facts[i].val.s ? p->facts[i].val.s : "";
    return NULL;
}

void phrase_fill(strbuf *out, const char *tpl, const problem_t *p, const char *const *extra) {
    const char *s = tpl;
    while (*s) {
        if (*s == '{') {
            const char *e = s + 1;
            while ((*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9') || *e == '_') e++;
            if (*e == '}' && e > s + 1) {
                size_t n = (size_t)(e - s - 1);
                const char *val = NULL;
                for (int i = 0; extra && extra[i]; i += 2)
                    if (strncmp(extra[i], s + 1, n) == 0 && extra[i][n] == 0) { val = extra[i + 1]; break; }
                for (int i = 0; !val && p && i < p->nfacts; i++)
                    if (strncmp(p->facts[i].key, s + 1, n) == 0 && p->facts[i].key[n] == 0) val = p->facts[i].val.s;
                if (val) { sb_puts(out, val); s = e + 1; continue; }
            }
        }
        const char *next = strchr(s + 1, '{');
        size_t n = next ? (size_t)(next - s) : strlen(s);
        sb_putn(out, s, n);
        s += n;
    }
}

static const char *pick(const cJSON *arr, rng_t *rng) {
    int n = cJSON_GetArraySize(arr);
    if (n <= 0) return "";
    return cJSON_GetStringValue(cJSON_GetArrayItem(arr, (int)rng_range(rng, 0, n - 1)));
}

/* A terminating rational as a plain decimal: 7/2 -> "3.5". */
static void put_decimal(strbuf *b, const mpq_t q) {
    if (!rat_is_terminating(q)) { rat_put(b, q); return; }
    int places = 0;
    mpz_t p10;
    mpz_init_set_ui(p10, 1);
    while (!mpz_divisible_p(p10, mpq_denref(q))) { mpz_mul_ui(p10, p10, 10); places++; }
    mpz_clear(p10);
    rat_put_fixed(b, q, places);
}

/* A per-thread expression to evaluate copies in, so making a problem does not
 * allocate and free 2 * EXPR_MAX_NODES GMP numbers each time. */
static expr_t *scratch_expr(void) {
    static _Thread_local expr_t e;
    static _Thread_local int ready;
    if (!ready) { expr_init(&e); ready = 1; }
    return &e;
}

static void knobs_close(strbuf *k) { sb_putc(k, '}'); }

static int make_arith(problem_t *p, const family_opts *o, rng_t *rng) {
    int fractions;
    if (expr_random(&p->expr, &o->arith, rng, &fractions)) return -1;
    p->has_expr = 1;
    p->task = "expr";
    strbuf ex;
    sb_init(&ex);
    expr_render(&p->expr, &ex);
    static const char *en[] = {"Compute {expr}.", "Calculate {expr}.", "What is {expr}?", "Evaluate {expr}."};
    static const char *zh[] = {"计算 {expr}。", "求 {expr} 的值。", "{expr} 等于多少？", "请计算 {expr}。"};
    int zhl = lang_index(p->lang);
    const char *tpl = zhl ? zh[rng_range(rng, 0, 3)] : en[rng_range(rng, 0, 3)];
    const char *kv[] = {"expr", ex.s, NULL};
    phrase_fill(&p->prompt, tpl, NULL, kv);
    expr_copy(scratch_expr(), &p->expr);
    expr_eval_into(scratch_expr(), p->truth);
    /* No "give a reduced fraction" suffix: the verifier accepts every exact form
     * (7/2, 3.5, 3 1/2, \frac{7}{2}), and boilerplate shared by many prompts makes
     * 8-gram decontamination drop unrelated problems. */
    rat_put(&p->answer, p->truth);
    rat_put(&p->display, p->truth);
    int nops = expr_ops(&p->expr) + 1, has_paren = strchr(ex.s, '(') != NULL;
    int has_neg = 0;
    for (int i = 0; i < p->expr.nn; i++)
        if (p->expr.n[i].op == EXPR_NUM && mpq_sgn(p->expr.n[i].v) < 0) has_neg = 1;
    sb_printf(&p->knobs, "{\"operands\":%d,\"digits\":[%d,%d],\"parentheses\":%s,\"negatives\":%s,\"fractions\":%s",
              nops, o->arith.digits_min, o->arith.digits_max, has_paren ? "true" : "false",
              has_neg ? "true" : "false", fractions ? "true" : "false");
    knobs_close(&p->knobs);
    p->difficulty = nops;
    sb_free(&ex);
    return 0;
}

static int make_word(problem_t *p, const family_opts *o, rng_t *rng) {
    (void)o;
    word_set *ws = &words[lang_index(p->lang)];
    if (ws->n == 0) { err_set("no word templates for language '%s'", p->lang); return -1; }
    word_template *w = &ws->t[rng_range(rng, 0, ws->n - 1)];
    mpq_t vals[EXPR_MAX_VARS];
    for (int i = 0; i < w->nvars; i++) mpq_init(vals[i]);
    for (int i = 0; i < w->nbase; i++) {
        long x = w->choices[i] ? (long)cJSON_GetArrayItem(w->choices[i], (int)rng_range(rng, 0, cJSON_GetArraySize(w->choices[i]) - 1))->valuedouble
                               : (long)rng_range(rng, w->lo[i], w->hi[i]);
        mpq_set_si(vals[i], x, 1);
    }
    int rc = 0;
    for (int i = w->nbase; i < w->nvars && !rc; i++) {
        expr_bind(&w->derive[i], vals);
        rc = expr_eval_into(&w->derive[i], vals[i]);
    }
    if (!rc) {
        expr_copy(&p->expr, &w->expr);
        expr_bind(&p->expr, vals);
        expr_copy(scratch_expr(), &p->expr);
        rc = expr_eval_into(scratch_expr(), p->truth);
    }
    if (rc) {
        err_set("word template '%s': division by zero", w->id);
        for (int i = 0; i < w->nvars; i++) mpq_clear(vals[i]);
        return -1;
    }
    p->has_expr = 1;
    p->task = w->id;
    p->percent = w->percent;
    strbuf *name = problem_fact(p, "name");
    sb_puts(name, pick(ws->names, rng));
    sb_printf(&p->knobs, "{\"template\":\"%s\",\"vars\":{", w->id);
    for (int i = 0; i < w->nvars; i++) {
        strbuf *f = problem_fact(p, w->vars[i]);
        rat_put(f, vals[i]);
        sb_printf(&p->knobs, "%s\"%s\":\"%s\"", i ? "," : "", w->vars[i], f->s);
    }
    sb_printf(&p->knobs, "},\"percent\":%s", w->percent ? "true" : "false");
    knobs_close(&p->knobs);
    phrase_fill(&p->prompt, w->text, p, NULL);
    sb_puts(&p->plan, w->plan);
    rat_put(&p->answer, p->truth);
    put_decimal(&p->display, p->truth);
    p->difficulty = expr_ops(&p->expr);
    for (int i = 0; i < w->nvars; i++) mpq_clear(vals[i]);
    return 0;
}

static long random_decimal(rng_t *rng, int int_digits, int places, mpq_t out) {
    long hi = 1;
    for (int i = 0; i < int_digits + places; i++) hi *= 10;
    long x = (long)rng_range(rng, 1, hi - 1);
    long den = 1;
    for (int i = 0; i < places; i++) den *= 10;
    mpq_set_si(out, x, (unsigned long)den);
    mpq_canonicalize(out);
    return x;
}

static int make_general(problem_t *p, const family_opts *o, rng_t *rng) {
    (void)o;
    static const char *tasks[] = {"number_words", "compare", "convert", "round"};
    int zhl = lang_index(p->lang);
    const cJSON *g = general_root[zhl];
    p->task = tasks[rng_range(rng, 0, 3)];
    p->reasoning = 0;
    const char *tpl = pick(cJSON_GetObjectItem(g, p->task), rng);
    mpq_t a, b;
    mpq_inits(a, b, NULL);
    if (strcmp(p->task, "number_words") == 0) {
        int digits = (int)rng_range(rng, 1, 5);
        long lo = 1, hi = 9;
        for (int i = 1; i < digits; i++) { lo *= 10; hi = hi * 10 + 9; }
        if (digits == 1) lo = 0;
        long n = (long)rng_range(rng, lo, hi);
        sb_printf(problem_fact(p, "n"), "%ld", n);
        p->answer_is_text = 1;
        if (zhl) numwords_zh(n, &p->answer); else numwords_en(n, &p->answer);
        sb_puts(&p->display, p->answer.s);
        sb_printf(&p->knobs, "{\"n\":%ld}", n);
    } else if (strcmp(p->task, "compare") == 0) {
        long q = (long)rng_range(rng, 2, 9), num = (long)rng_range(rng, 1, 2 * q - 1);
        mpq_set_si(a, num, (unsigned long)q);
        mpq_canonicalize(a);
        do {
            random_decimal(rng, 1, (int)rng_range(rng, 1, 2), b);
        } while (mpq_equal(a, b) || mpq_cmp_ui(b, 2, 1) > 0);
        strbuf *fa = problem_fact(p, "a"), *fb = problem_fact(p, "b");
        rat_put(fa, a);
        put_decimal(fb, b);
        int swap = (int)rng_range(rng, 0, 1);
        if (swap) { /* the decimal first */
            strbuf t = *fa; *fa = *fb; *fb = t;
        }
        int a_larger = mpq_cmp(a, b) > 0;
        mpq_set(p->truth, a_larger ? a : b);
        if (a_larger) rat_put(&p->display, a); else put_decimal(&p->display, b);
        rat_put(&p->answer, p->truth);
        sb_printf(&p->knobs, "{\"a\":\"%s\",\"b\":\"%s\"}", fa->s, fb->s);
    } else if (strcmp(p->task, "convert") == 0) {
        const cJSON *units = cJSON_GetObjectItem(g, "units");
        const cJSON *u = cJSON_GetArrayItem(units, (int)rng_range(rng, 0, cJSON_GetArraySize(units) - 1));
        long factor = (long)cJSON_GetArrayItem(u, 3)->valuedouble;
        random_decimal(rng, (int)rng_range(rng, 1, 2), (int)rng_range(rng, 0, 2), a);
        sb_puts(problem_fact(p, "from"), cJSON_GetArrayItem(u, 0)->valuestring);
        sb_puts(problem_fact(p, "from1"), cJSON_GetArrayItem(u, 1)->valuestring);
        sb_puts(problem_fact(p, "to"), cJSON_GetArrayItem(u, 2)->valuestring);
        sb_printf(problem_fact(p, "factor"), "%ld", factor);
        put_decimal(problem_fact(p, "x"), a);
        mpq_set_si(b, factor, 1);
        mpq_mul(p->truth, a, b);
        rat_put(&p->answer, p->truth);
        put_decimal(&p->display, p->truth);
        sb_printf(&p->knobs, "{\"x\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"factor\":%ld}",
                  problem_fact_get(p, "x"), problem_fact_get(p, "from"), problem_fact_get(p, "to"), factor);
    } else {
        int places = (int)rng_range(rng, 3, 5), d = (int)rng_range(rng, 0, 2);
        random_decimal(rng, (int)rng_range(rng, 1, 3), places, a);
        if (mpz_cmp_ui(mpq_denref(a), 1) == 0) { /* keep a fractional part to round */
            mpq_set_ui(b, 1, 10);
            mpq_add(a, a, b);
        }
        put_decimal(problem_fact(p, "x"), a);
        sb_printf(problem_fact(p, "d"), "%d", d);
        rat_put_fixed(&p->display, a, d);
        rat_parse(p->truth, p->display.s);
        rat_put(&p->answer, p->truth);
        sb_printf(&p->knobs, "{\"x\":\"%s\",\"decimals\":%d}", problem_fact_get(p, "x"), d);
    }
    phrase_fill(&p->prompt, tpl, p, NULL);
    mpq_clears(a, b, NULL);
    return 0;
}

int family_make(problem_t *p, const family_opts *o, rng_t *rng) {
    if (family_load()) return -1;
    problem_reset(p);
    p->family = o->family;
    p->lang = strcmp(o->lang, "zh") == 0 ? "zh" : "en";
    if (strcmp(o->family, "arith") == 0) return make_arith(p, o, rng);
    if (strcmp(o->family, "word") == 0) return make_word(p, o, rng);
    if (strcmp(o->family, "general") == 0) return make_general(p, o, rng);
    err_set("unknown family '%s' (arith, word, general)", o->family);
    return -1;
}
