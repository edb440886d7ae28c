#include <string.h>
#include <assert.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "generate/teacher.h"
#include "core/rational.h"
#include "core/err.h"
#include "core/hash.h"
#include "generate/numwords.h"
#include "generate/written.h"

#define MAX_LINES 128

void synth_trace_init(synth_trace *t) {
    sb_init(&t->text);
    sb_init(&t->injected);
    t->finish_reason = "stop";
}
void synth_trace_free(synth_trace *t) { sb_free(&t->text); sb_free(&t->injected); }

const char *synth_template(const char *format, const char *lang) {
    int zh = strcmp(lang, "zh") == 0;
    if (strcmp(format, "tagged") == 0)
        return zh ? "请解答下面的问题。先在 <think> 和 </think> 之间逐步思考，然后在 <answer> 和 </answer> 之间给出答案，"
                    "并在答案末尾用 <verifier_answer></verifier_answer> 写出最终结果。\n\n问题：{prompt}"
                  : "Solve the problem below. Think step by step between <think> and </think>, then give the answer "
                    "between <answer> and </answer>, ending it with the bare final value inside "
                    "<verifier_answer></verifier_answer>.\n\nProblem: {prompt}";
    /* DeepSeek-R1's published math prompt, with no system prompt. */
    return "{prompt}\nPlease reason step by step, and put your final answer within \\boxed{}.";
}

/* The chain of thought as lines, so faults can work line by line. */
typedef struct {
    strbuf buf;
    size_t start[MAX_LINES + 1];
    int n;
} lines_t;

static void lines_add(lines_t *L, const char *s) {
    if (L->n >= MAX_LINES) return;
    L->start[L->n++] = L->buf.len;
    sb_puts(&L->buf, s);
    sb_putc(&L->buf, 0); /* separator; lines are NUL-terminated inside buf */
}
static const char *line_at(const lines_t *L, int i) { return L->buf.s + L->start[i]; }

static const char *pick(const cJSON *arr, rng_t *r) {
    int n = cJSON_GetArraySize(arr);
    return n ? cJSON_GetStringValue(cJSON_GetArrayItem(arr, (int)rng_range(r, 0, n - 1))) : "";
}

/* How a person might write value q: canonical, fraction in LaTeX, mixed number,
 * decimal, thousands separators, percent. Every form is exact. */
static void write_answer(strbuf *b, const problem_t *p, const mpq_t q, rng_t *r) {
    if (p->percent) {
        if (rat_is_terminating(q) && mpz_cmp_ui(mpq_denref(q), 1) != 0) {
            int places = 0;
            mpz_t t; mpz_init_set_ui(t, 1);
            while (!mpz_divisible_p(t, mpq_denref(q))) { mpz_mul_ui(t, t, 10); places++; }
            mpz_clear(t);
            rat_put_fixed(b, q, places);
        } else {
            rat_put(b, q);
        }
        int f = (int)rng_range(r, 0, 2);
        sb_puts(b, f == 0 ? "\\%" : f == 1 ? "%" : "");
        return;
    }
    int integer = mpz_cmp_ui(mpq_denref(q), 1) == 0;
    if (integer) {
        if (mpz_cmpabs_ui(mpq_numref(q), 1000) >= 0 && rng_chance(r, 0.2)) {
            char *s = mpz_get_str(NULL, 10, mpq_numref(q));
            const char *d = s;
            if (*d == '-') { sb_putc(b, '-'); d++; }
            size_t n = strlen(d);
            for (size_t i = 0; i < n; i++) {
                if (i && (n - i) % 3 == 0) sb_putc(b, ',');
                sb_putc(b, d[i]);
            }
            free(s);
        } else {
            rat_put(b, q);
        }
        return;
    }
    int neg = mpq_sgn(q) < 0;
    int form = (int)rng_range(r, 0, 5);
    if (form == 4 && !rat_is_terminating(q)) form = 0;
    if (form == 5 && (neg || mpz_cmpabs(mpq_numref(q), mpq_denref(q)) < 0)) form = 0;
    mpz_t a;
    mpz_init(a);
    switch (form) {
    case 1: /* \frac{-7}{3} */
        sb_puts(b, "\\frac{");
        { char *s = mpz_get_str(NULL, 10, mpq_numref(q)); sb_puts(b, s); free(s); }
        sb_puts(b, "}{");
        { char *s = mpz_get_str(NULL, 10, mpq_denref(q)); sb_puts(b, s); free(s); }
        sb_putc(b, '}');
        break;
    case 2: /* -\frac{7}{3} */
    case 3: /* -\dfrac{7}{3} */
        if (neg) sb_putc(b, '-');
        sb_puts(b, form == 2 ? "\\frac{" : "\\dfrac{");
        mpz_abs(a, mpq_numref(q));
        { char *s = mpz_get_str(NULL, 10, a); sb_puts(b, s); free(s); }
        sb_puts(b, "}{");
        { char *s = mpz_get_str(NULL, 10, mpq_denref(q)); sb_puts(b, s); free(s); }
        sb_putc(b, '}');
        break;
    case 4: { /* decimal */
        int places = 0;
        mpz_t t; mpz_init_set_ui(t, 1);
        while (!mpz_divisible_p(t, mpq_denref(q))) { mpz_mul_ui(t, t, 10); places++; }
        mpz_clear(t);
        rat_put_fixed(b, q, places);
        break;
    }
    case 5: { /* mixed number 2 1/3 */
        mpz_t w, rem;
        mpz_inits(w, rem, NULL);
        mpz_tdiv_qr(w, rem, mpq_numref(q), mpq_denref(q));
        char *s1 = mpz_get_str(NULL, 10, w), *s2 = mpz_get_str(NULL, 10, rem), *s3 = mpz_get_str(NULL, 10, mpq_denref(q));
        sb_printf(b, "%s %s/%s", s1, s2, s3);
        free(s1); free(s2); free(s3);
        mpz_clears(w, rem, NULL);
        break;
    }
    default: rat_put(b, q);
    }
    mpz_clear(a);
}

/* The answer as text for text answers (number words), possibly wrong. */
static void wrong_number_words(strbuf *b, const problem_t *p, rng_t *r) {
    const char *n = problem_fact_get(p, "n");
    long v = n ? atol(n) : 0;
    long w = v + (long)rng_range(r, 1, 9) * (rng_chance(r, 0.5) && v > 10 ? -1 : 1);
    if (strcmp(p->lang, "zh") == 0) numwords_zh(w, b); else numwords_en(w, b);
}

static void put_value(strbuf *b, const mpq_t v) {
    int simple = mpq_sgn(v) >= 0 && mpz_cmp_ui(mpq_denref(v), 1) == 0;
    if (!simple) sb_putc(b, '(');
    rat_put(b, v);
    if (!simple) sb_putc(b, ')');
}

static _Thread_local expr_t p_scratch_trial;
static _Thread_local int p_scratch_ready;

/* Work the expression step by step into L; the final value lands in `final`.
 * wrong_at >= 0 plants an error in that step. */
static void work_expression(const problem_t *p, const cJSON *ph, rng_t *r, int wrong_at, lines_t *L, mpq_t final,
                            expr_t *work, strbuf *tmp, strbuf *line, const written_words *ww) {
    if (!p_scratch_ready) { expr_init(&p_scratch_trial); p_scratch_ready = 1; }
    expr_copy(work, &p->expr);
    static _Thread_local mpq_t bad, delta;
    static _Thread_local int nums_ready;
    if (!nums_ready) { mpq_inits(bad, delta, NULL); nums_ready = 1; }
    int step = 0;
    for (;;) {
        int i = expr_next_step(work);
        if (i < 0) break;
        expr_node *n = &work->n[i];
        sb_reset(tmp);
        put_value(tmp, work->n[n->l].v);
        size_t a_end = tmp->len;
        sb_putc(tmp, 0);
        put_value(tmp, work->n[n->r].v);
        const char *a = tmp->s, *bv = tmp->s + a_end + 1;
        static _Thread_local strbuf av, bvb;
        sb_reset(&av); sb_reset(&bvb);
        sb_puts(&av, a); sb_puts(&bvb, bv);
        const char *op = expr_op_symbol(n->op);
        if (step == wrong_at) {
            expr_t *trial = &p_scratch_trial;
            expr_copy(trial, work);
            expr_reduce(trial, i, NULL);
            mpq_set(bad, trial->n[i].v);
            /* Slip by a few units; redraw a slip that would later divide by zero. */
            for (int tries = 0; tries < 32; tries++) {
                long d = (long)rng_range(r, 1, 9 + tries) * (rng_chance(r, 0.5) ? -1 : 1);
                mpq_set_si(delta, d, 1);
                expr_copy(trial, work);
                expr_reduce(trial, i, NULL);
                mpq_add(bad, trial->n[i].v, delta);
                mpq_set(trial->n[i].v, bad);
                if (expr_eval(trial) == 0) break;
            }
            expr_reduce(work, i, bad);
        } else if (ww) {
            /* written arithmetic: the operation done digit by digit; a step it
             * does not apply to (a fraction) is stated as in the brief style */
            static _Thread_local mpq_t got;
            static _Thread_local int got_ready;
            if (!got_ready) { mpq_init(got); got_ready = 1; }
            sb_reset(line);
            int brief = written_step(line, n->op, work->n[n->l].v, work->n[n->r].v, ww, got);
            if (expr_reduce(work, i, NULL)) { assert(!"division by zero while working a checked expression"); break; }
            if (!brief) {
                assert(mpq_equal(got, work->n[i].v));
                lines_add(L, line->s);
                goto now;
            }
        } else if (expr_reduce(work, i, NULL)) {
            /* cannot happen for a generated problem (checked when made); stop rather than spin */
            assert(!"division by zero while working a checked expression");
            break;
        }
        sb_reset(tmp);
        rat_put(tmp, work->n[i].v);
        const char *kv[] = {"a", av.s, "op", op, "b", bvb.s, "r", tmp->s, NULL};
        sb_reset(line);
        phrase_fill(line, pick(cJSON_GetObjectItem(ph, "step"), r), p, kv);
        lines_add(L, line->s);
    now:
        /* written: always restate, so the next operation reads its operands nearby */
        if (work->n[work->root].op != EXPR_NUM && (ww || rng_chance(r, 0.7))) {
            sb_reset(tmp);
            expr_render(work, tmp);
            const char *kv2[] = {"expr", tmp->s, NULL};
            sb_reset(line);
            phrase_fill(line, pick(cJSON_GetObjectItem(ph, "now"), r), p, kv2);
            lines_add(L, line->s);
        }
        step++;
    }
    mpq_set(final, work->n[work->root].v);
}

static void cut_utf8(strbuf *b, size_t at) {
    if (at >= b->len) return;
    while (at > 0 && ((unsigned char)b->s[at] & 0xC0) == 0x80) at--;
    sb_truncate(b, at);
}

static void add_fault(synth_trace *out, const char *name) {
    if (out->injected.len) sb_putc(&out->injected, ',');
    sb_puts(&out->injected, name);
}

int synth_sample(const problem_t *p, const synth_opts *o, uint64_t seed, synth_trace *out) {
    rng_t r;
    rng_seed(&r, seed);
    sb_reset(&out->text);
    sb_reset(&out->injected);
    out->finish_reason = "stop";
    int zh = strcmp(p->lang, "zh") == 0, tagged = strcmp(o->format, "tagged") == 0;
    const cJSON *ph = family_phrases(p->lang), *other = family_phrases(zh ? "en" : "zh");
    if (!ph || !other) { err_set("phrases for '%s' missing", p->lang); return -1; }

    /* Decide the faults first so the choice does not depend on the wording. */
    int f_wrong = rng_chance(&r, o->faults.wrong_step), f_mix = rng_chance(&r, o->faults.lang_mix);
    int f_tags = rng_chance(&r, o->faults.bad_tags), f_loop = rng_chance(&r, o->faults.loop);
    int f_trunc = !f_loop && rng_chance(&r, o->faults.truncate);

    /* Per-thread scratch: the hot path allocates nothing once warm. */
    static _Thread_local struct {
        int ready;
        lines_t L;
        strbuf tmp, line, ans;
        mpq_t final;
        expr_t work;
    } sc;
    if (!sc.ready) {
        sb_init(&sc.L.buf); sb_init(&sc.tmp); sb_init(&sc.line); sb_init(&sc.ans);
        mpq_init(sc.final);
        expr_init(&sc.work);
        sc.ready = 1;
    }
    sc.L.n = 0;
    sb_reset(&sc.L.buf);
    int loop_from = -1;

    if (p->has_expr) {
        sb_reset(&sc.tmp);
        expr_render(&p->expr, &sc.tmp);
        const char *kv[] = {"expr", sc.tmp.s, NULL};
        if (strcmp(p->family, "word") == 0) {
            sb_reset(&sc.line);
            phrase_fill(&sc.line, pick(cJSON_GetObjectItem(ph, "restate_word"), &r), p, kv);
            lines_add(&sc.L, sc.line.s);
            sb_reset(&sc.line);
            phrase_fill(&sc.line, p->plan.s, p, kv);
            lines_add(&sc.L, sc.line.s);
        } else {
            sb_reset(&sc.line);
            phrase_fill(&sc.line, pick(cJSON_GetObjectItem(ph, "restate_arith"), &r), p, kv);
            lines_add(&sc.L, sc.line.s);
        }
        int nsteps = expr_ops(&p->expr);
        int wrong_at = f_wrong ? (int)rng_range(&r, 0, nsteps - 1) : -1;
        written_words ww;
        const cJSON *wj = cJSON_GetObjectItem(ph, "written");
        if (o->written) {
            ww = (written_words){cJSON_GetStringValue(cJSON_GetObjectItem(wj, "carry")),
                                 cJSON_GetStringValue(cJSON_GetObjectItem(wj, "borrow")),
                                 cJSON_GetStringValue(cJSON_GetObjectItem(wj, "down")),
                                 cJSON_GetStringValue(cJSON_GetObjectItem(wj, "quotient")),
                                 cJSON_GetStringValue(cJSON_GetObjectItem(wj, "so")),
                                 cJSON_GetStringValue(cJSON_GetObjectItem(wj, "end"))};
            if (!ww.carry || !ww.borrow || !ww.down || !ww.quotient || !ww.so || !ww.end) {
                err_set("phrases for '%s' lack the \"written\" words", p->lang);
                return -1;
            }
        }
        work_expression(p, ph, &r, wrong_at, &sc.L, sc.final, &sc.work, &sc.tmp, &sc.line, o->written ? &ww : NULL);
        if (f_wrong && mpq_equal(sc.final, p->truth)) {
            /* the slip cancelled out (a later × 0, say): make the last step wrong instead */
            mpq_t one; mpq_init(one); mpq_set_ui(one, 1, 1);
            mpq_add(sc.final, sc.final, one);
            mpq_clear(one);
            sc.L.n--;
            sb_truncate(&sc.L.buf, sc.L.start[sc.L.n]);
            sb_reset(&sc.line);
            sb_reset(&sc.tmp);
            rat_put(&sc.tmp, sc.final);
            const char *kv3[] = {"expr", "", "r", sc.tmp.s, NULL};
            phrase_fill(&sc.line, zh ? "所以结果是 {r}。" : "So the result is {r}.", p, kv3);
            lines_add(&sc.L, sc.line.s);
        }
        loop_from = (int)rng_range(&r, 1, sc.L.n);
        sb_reset(&sc.ans);
        write_answer(&sc.ans, p, sc.final, &r);
        sb_reset(&sc.tmp);
        expr_render(&p->expr, &sc.tmp);
        const char *kv4[] = {"expr", sc.tmp.s, "ans", sc.ans.s, NULL};
        sb_reset(&sc.line);
        phrase_fill(&sc.line, pick(cJSON_GetObjectItem(ph, "recheck"), &r), p, kv4);
        lines_add(&sc.L, sc.line.s);
    } else {
        const cJSON *gt = cJSON_GetObjectItem(cJSON_GetObjectItem(ph, "general_think"), p->task);
        sb_reset(&sc.line);
        phrase_fill(&sc.line, pick(gt, &r), p, NULL);
        lines_add(&sc.L, sc.line.s);
        sb_reset(&sc.ans);
        if (p->answer_is_text) {
            if (f_wrong) wrong_number_words(&sc.ans, p, &r);
            else sb_puts(&sc.ans, p->display.s);
        } else if (f_wrong) {
            mpq_t d; mpq_init(d);
            mpq_set_si(d, rng_range(&r, 1, 9), rng_chance(&r, 0.5) ? 1 : 10);
            if (rng_chance(&r, 0.5)) mpq_neg(d, d);
            mpq_add(sc.final, p->truth, d);
            mpq_clear(d);
            write_answer(&sc.ans, p, sc.final, &r);
        } else {
            sb_puts(&sc.ans, p->display.s);
        }
        loop_from = 1;
    }

    if (f_mix) {
        /* At least 2 lines, and 30% of them, get a sentence of the other language after them. */
        int k = sc.L.n * 3 / 10 + (sc.L.n * 3 % 10 != 0);
        if (k < 2) k = 2;
        lines_t M = {.n = 0};
        sb_init(&M.buf);
        /* insert after lines spread evenly through the chain of thought */
        int j = 0;
        for (int i = 0; i < sc.L.n; i++) {
            lines_add(&M, line_at(&sc.L, i));
            while (j < k && (j + 1) * sc.L.n / k - 1 <= i) {
                lines_add(&M, pick(cJSON_GetObjectItem(other, "mix"), &r));
                j++;
            }
        }
        sb_free(&sc.L.buf);
        sc.L = M; /* M's buffer becomes the scratch buffer */
        add_fault(out, "lang_mix");
    }
    if (f_wrong) add_fault(out, "wrong_step");

    /* Assemble. */
    strbuf *t = &out->text;
    if (!o->think_prefill) sb_puts(t, "<think>\n");
    size_t cot_start = t->len;
    for (int i = 0; i < sc.L.n; i++) {
        if (i) sb_putc(t, '\n');
        sb_puts(t, line_at(&sc.L, i));
    }
    size_t cot_end = t->len;
    const char *kva[] = {"ans", sc.ans.s, NULL};
    sb_puts(t, tagged ? "\n</think>\n<answer>\n" : "\n</think>\n\n");
    sb_reset(&sc.line);
    phrase_fill(&sc.line, pick(cJSON_GetObjectItem(ph, p->has_expr ? "summary" : "general_answer"), &r), p, kva);
    sb_puts(t, sc.line.s);
    sb_putc(t, ' ');
    const cJSON *clauses = cJSON_GetObjectItem(ph, "final_clause");
    sb_reset(&sc.line);
    phrase_fill(&sc.line, pick(clauses, &r), p, kva);
    sb_puts(t, sc.line.s);
    if (tagged) {
        if (rng_chance(&r, 0.7)) sb_printf(t, "\n<verifier_answer>%s</verifier_answer>", sc.ans.s);
        sb_puts(t, "\n</answer>");
    }

    if (f_tags) {
        /* One structural break, chosen among those that apply to this format. */
        int variants = tagged ? 11 : 6;
        int v = (int)rng_range(&r, 0, variants - 1);
        /* a prefilled trace has no opening tag to drop, and text "before" it is inside the block */
        if ((v == 5 || v == 9) && o->think_prefill) v = 0;
        strbuf nt;
        sb_init(&nt);
        const char *s = t->s;
        const char *close = strstr(s, "</think>");
        switch (v) {
        case 0: /* missing </think> */
            sb_putn(&nt, s, (size_t)(close - s));
            sb_puts(&nt, close + strlen("</think>"));
            break;
        case 1: /* a duplicated think block after the first */
            sb_putn(&nt, s, (size_t)(close - s) + strlen("</think>"));
            sb_puts(&nt, "\n<think>\n");
            sb_putn(&nt, s + cot_start, cot_end - cot_start);
            sb_puts(&nt, "\n</think>");
            sb_puts(&nt, close + strlen("</think>"));
            break;
        case 2: /* a think block nested inside the think block */
            sb_putn(&nt, s, cot_end);
            sb_puts(&nt, "\n<think>\n");
            sb_puts(&nt, line_at(&sc.L, 0));
            sb_puts(&nt, "\n</think>");
            sb_puts(&nt, s + cot_end);
            break;
        case 3: /* a stray </think> at the end */
            sb_puts(&nt, s);
            sb_puts(&nt, "\n</think>");
            break;
        case 4: /* an empty think block */
            sb_putn(&nt, s, cot_start);
            sb_puts(&nt, s + cot_end);
            break;
        case 5: /* missing opening <think> */
            sb_puts(&nt, s + strlen("<think>\n"));
            break;
        case 6: { /* missing <answer> tags */
            const char *a = strstr(s, "<answer>\n");
            const char *e = strstr(s, "\n</answer>");
            sb_putn(&nt, s, (size_t)(a - s));
            sb_putn(&nt, a + 9, (size_t)(e - a - 9));
            break;
        }
        case 7: /* unclosed <answer> */
            sb_putn(&nt, s, t->len - strlen("\n</answer>"));
            break;
        case 8: /* text after </answer> */
            sb_puts(&nt, s);
            sb_puts(&nt, zh ? "\n希望这个回答对你有帮助。" : "\nI hope this helps.");
            break;
        case 9: /* text before <think> */
            sb_puts(&nt, zh ? "好的。\n" : "Sure.\n");
            sb_puts(&nt, s);
            break;
        default: /* a stray </answer> inside the think block */
            sb_putn(&nt, s, cot_end);
            sb_puts(&nt, "\n</answer>");
            sb_puts(&nt, s + cot_end);
            break;
        }
        sb_free(t);
        *t = nt;
        add_fault(out, "bad_tags");
    }

    if (f_loop) {
        /* Keep the opening and the first loop_from lines, then repeat a block
         * until the length limit cuts it, like a teacher stuck in a loop. */
        strbuf nt;
        sb_init(&nt);
        if (!o->think_prefill) sb_puts(&nt, "<think>\n");
        for (int i = 0; i < loop_from && i < sc.L.n; i++) { sb_puts(&nt, line_at(&sc.L, i)); sb_putc(&nt, '\n'); }
        strbuf block;
        sb_init(&block);
        int nb = (int)rng_range(&r, 1, 3);
        const char *kvl[] = {"a", "2", "op", "×", "b", "3", "r", "6", NULL};
        for (int j = 0; j < nb; j++) {
            phrase_fill(&block, pick(cJSON_GetObjectItem(ph, "loop"), &r), p, kvl);
            sb_putc(&block, '\n');
            if (sc.L.n) { sb_puts(&block, line_at(&sc.L, (loop_from - 1 + j) % sc.L.n)); sb_putc(&block, '\n'); }
        }
        long limit = o->max_chars > 0 ? o->max_chars : 4000;
        while ((long)nt.len < limit) sb_putn(&nt, block.s, block.len);
        cut_utf8(&nt, (size_t)limit);
        sb_free(&block);
        sb_free(t);
        *t = nt;
        out->finish_reason = "length";
        add_fault(out, "loop");
    } else if (f_trunc) {
        size_t lo = cot_start + (cot_end - cot_start) / 4, hi = cot_end;
        size_t at = lo < hi ? (size_t)rng_range(&r, (int64_t)lo, (int64_t)hi - 1) : cot_start;
        if (at > t->len) at = t->len;
        cut_utf8(t, at);
        out->finish_reason = "length";
        add_fault(out, "truncate");
    }

    return 0;
}
