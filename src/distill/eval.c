/* Students that generate (load, prompt, decode) and `retort eval`: greedy
 * pass@1, unbiased pass@k, maj@k, well-formed and language-consistent rates
 * and output lengths, judged by the filter's verifier and stored in SQL. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include <cjson/cJSON.h>
#include "distill/eval.h"
#include "distill/ckpt.h"
#include "core/db.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/strbuf.h"
#include "tokenizer/chat.h"
#include "filter/judge.h"
#include "filter/words.h"
#include "generate/teacher.h"
#include "core/sys.h"

/* ---- student ---- */
static int detect_template(const char *dir, tokenizer_t *tok) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    char *txt = read_file_text(path, NULL);
    int found = -1;
    if (txt) {
        cJSON *j = cJSON_Parse(txt);
        const cJSON *ct = j ? cJSON_GetObjectItemCaseSensitive(j, "chat_template") : NULL;
        if (cJSON_IsString(ct))
            for (int t = 0; t < CHAT_N_TEMPLATES && found < 0; t++)
                if (strcmp(ct->valuestring, chat_template_jinja(t)) == 0) found = t;
        cJSON_Delete(j);
        free(txt);
    }
    err_clear();
    for (int t = 0; t < CHAT_N_TEMPLATES && found < 0; t++)
        if (tokenizer_token_to_id(tok, chat_template_eos(t)) >= 0) found = t;
    return found;
}

int student_load(student_t *s, const char *dir, const char *template_name) {
    memset(s, 0, sizeof *s);
    if (ckpt_load(dir, &s->m)) return -1;
    s->tok = tokenizer_load(dir);
    if (!s->tok) { model_free(&s->m); return -1; }
    if (tokenizer_vocab_size(s->tok) > (uint32_t)s->m.c.V) {
        err_set("%s: tokenizer has %u tokens but the model's vocabulary is %d", dir, tokenizer_vocab_size(s->tok), s->m.c.V);
        goto fail;
    }
    if (template_name && *template_name) {
        s->tmpl = chat_template_parse(template_name);
        if (s->tmpl < 0) { err_set("unknown chat template '%s' (%s)", template_name, CHAT_TEMPLATE_CHOICES); goto fail; }
    } else if ((s->tmpl = detect_template(dir, s->tok)) < 0) {
        err_set("%s: cannot tell the chat template (no known template's end token in the tokenizer); pass --template", dir);
        goto fail;
    }
    strbuf pre;
    sb_init(&pre);
    chat_render_text(s->tmpl, NULL, "x", NULL, &pre);
    s->think_prefill = pre.len >= 8 && memcmp(pre.s + pre.len - 8, "<think>\n", 8) == 0;
    sb_free(&pre);
    int64_t e = tokenizer_token_to_id(s->tok, chat_template_eos(s->tmpl));
    if (e < 0) { err_set("%s: tokenizer lacks '%s', the end of turn of template %s", dir, chat_template_eos(s->tmpl), chat_template_name(s->tmpl)); goto fail; }
    s->stop[s->nstop++] = (uint32_t)e;
    uint32_t eos = tokenizer_eos_id(s->tok);
    if (eos != UINT32_MAX && eos != (uint32_t)e) s->stop[s->nstop++] = eos;
    /* identity: config, weights as fp32 (whatever the file dtype), tokenizer */
    sha256_ctx c;
    unsigned char d[32];
    sha256_init(&c);
    char *cfg = model_config_json(&s->m.c, "float32");
    sha256_update(&c, cfg, strlen(cfg));
    free(cfg);
    sha256_update(&c, s->m.params, s->m.nparams * sizeof(float));
    const char *th = tokenizer_hash(s->tok);
    sha256_update(&c, th, strlen(th));
    sha256_final(&c, d);
    for (int i = 0; i < 16; i++) snprintf(s->hash + 2 * i, 3, "%02x", d[i]);
    return 0;
fail:
    tokenizer_free(s->tok);
    model_free(&s->m);
    return -1;
}

void student_free(student_t *s) {
    tokenizer_free(s->tok);
    model_free(&s->m);
    memset(s, 0, sizeof *s);
}

int student_prompt(student_t *s, const char *system, const char *user, tok_ids *out) {
    chat_out co = {0};
    if (chat_render_prompt(s->tok, s->tmpl, system, user, &co)) { chat_out_free(&co); return -1; }
    out->n = 0;
    for (size_t i = 0; i < co.ids.n; i++) tok_ids_push(out, co.ids.v[i]);
    chat_out_free(&co);
    return 0;
}

char *student_decode(student_t *s, const uint32_t *ids, int n) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (tokenizer_decode(s->tok, ids, (size_t)n, 0, &buf, &len, &cap)) { free(buf); return NULL; }
    if (!buf) buf = xstrdup("");
    return buf;
}

/* ---- metrics ---- */
double pass_at_k(int n, int c, int k) {
    if (k <= 0 || k > n) return NAN;
    if (n - c < k) return 1.0;
    /* 1 - prod_{i=n-c+1}^{n} (1 - k/i), the numerically stable product form */
    double prod = 1.0;
    for (int i = n - c + 1; i <= n; i++) prod *= 1.0 - (double)k / i;
    return 1.0 - prod;
}

int majority_vote(const char *const *answers, int n) {
    int best = -1, best_n = 0;
    for (int i = 0; i < n; i++) {
        if (!answers[i]) continue;
        int seen = 0, cnt = 0;
        for (int j = 0; j < i && !seen; j++) seen = answers[j] && strcmp(answers[j], answers[i]) == 0;
        if (seen) continue;
        for (int j = i; j < n; j++) cnt += answers[j] && strcmp(answers[j], answers[i]) == 0;
        if (cnt > best_n) { best = i; best_n = cnt; }
    }
    return best;
}

/* ---- eval ---- */
void eval_opts_default(eval_opts *o) {
    *o = (eval_opts){.split = "eval", .family = NULL, .limit = 0, .samples = 0, .k = 0,
                     .sample = {.temperature = 0.6, .top_k = 0, .top_p = 0.95}, .max_new = 256, .batch = 16,
                     .seed = 1, .user_template = NULL, .model_dir = "", .quiet = 0};
}

typedef struct {
    int64_t id;
    char *prompt, *answer, *family, *lang, *knobs;
    int difficulty, text_answer;
} eval_problem;

static void put_user(strbuf *b, const char *tpl, const char *prompt) {
    const char *at = strstr(tpl, "{prompt}");
    if (!at) { sb_puts(b, tpl); sb_puts(b, "\n\n"); sb_puts(b, prompt); return; }
    sb_putn(b, tpl, (size_t)(at - tpl));
    sb_puts(b, prompt);
    sb_puts(b, at + 8);
}

int eval_run(sqlite3 *db, student_t *s, const eval_opts *o, int64_t run_id, eval_result *res) {
    memset(res, 0, sizeof *res);
    double t0 = clock_now();
    int K = o->samples;
    int k = o->k > 0 ? o->k : K;
    if (K < 0 || k > K) { err_set("eval: --k %d must not exceed --samples %d", k, K); return -1; }
    const char *utpl = o->user_template ? o->user_template : synth_template("r1", "en");

    /* the problems */
    sqlite3_stmt *st;
    if (db_prepare(db, "SELECT id, prompt, answer, family, lang, knobs, difficulty, answer_type = 'text' FROM problems "
                       "WHERE split = ?1 AND (?2 IS NULL OR family = ?2) ORDER BY id LIMIT ?3", &st))
        return -1;
    sqlite3_bind_text(st, 1, o->split, -1, SQLITE_STATIC);
    if (o->family) sqlite3_bind_text(st, 2, o->family, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, o->limit > 0 ? o->limit : -1);
    eval_problem *P = NULL;
    long np = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (np == cap) { cap = cap ? 2 * cap : 256; P = xrealloc(P, sizeof *P * cap); }
        eval_problem *p = &P[np++];
        p->id = sqlite3_column_int64(st, 0);
        p->prompt = xstrdup((const char *)sqlite3_column_text(st, 1));
        p->answer = xstrdup((const char *)sqlite3_column_text(st, 2));
        p->family = xstrdup((const char *)sqlite3_column_text(st, 3));
        p->lang = xstrdup((const char *)sqlite3_column_text(st, 4));
        p->knobs = xstrdup((const char *)sqlite3_column_text(st, 5));
        p->difficulty = sqlite3_column_int(st, 6);
        p->text_answer = sqlite3_column_int(st, 7);
    }
    sqlite3_finalize(st);
    int rc = -1;
    int per = 1 + K;                       /* outputs per problem: greedy + samples */
    gen_seq *seqs = NULL;
    tok_ids *prompts = NULL;
    if (np == 0) {
        err_set("eval: no problems in split '%s'%s%s", o->split, o->family ? " of family " : "", o->family ? o->family : "");
        goto out;
    }

    /* prompts, then greedy and sampled generation (two passes: different decoding) */
    prompts = xcalloc(np, sizeof *prompts);
    for (long i = 0; i < np; i++) {
        strbuf u;
        sb_init(&u);
        put_user(&u, utpl, P[i].prompt);
        int e = student_prompt(s, NULL, u.s, &prompts[i]);
        sb_free(&u);
        if (e) goto out;
    }
    seqs = xcalloc((size_t)np * per, sizeof *seqs);
    for (long i = 0; i < np; i++)
        for (int j = 0; j < per; j++) {
            gen_seq *q = &seqs[i * per + j];
            q->prompt = prompts[i].v;
            q->prompt_len = (int)prompts[i].n;
            q->seed = mix64(o->seed ^ mix64((uint64_t)P[i].id * 0x9e3779b97f4a7c15ULL + (uint64_t)j));
        }
    gen_opts go = {.sample = {.temperature = 0, .top_k = 0, .top_p = 1}, .max_new = o->max_new, .stop = s->stop,
                   .nstop = s->nstop, .batch = o->batch};
    long toks = 0, t2 = 0;
    /* greedy: the first output of each problem */
    gen_seq *greedy = xcalloc(np, sizeof *greedy);
    for (long i = 0; i < np; i++) greedy[i] = seqs[i * per];
    if (!o->quiet) fprintf(stderr, "retort: eval: %ld problems, greedy%s\n", np, K ? " then samples" : "");
    int g = infer_generate(&s->m, greedy, (int)np, &go, &toks);
    for (long i = 0; i < np; i++) seqs[i * per] = greedy[i];
    free(greedy);
    if (g) goto out;
    if (K > 0) {
        gen_seq *smp = xcalloc((size_t)np * K, sizeof *smp);
        for (long i = 0; i < np; i++)
            for (int j = 0; j < K; j++) smp[i * K + j] = seqs[i * per + 1 + j];
        go.sample = o->sample;
        g = infer_generate(&s->m, smp, (int)(np * K), &go, &t2);
        for (long i = 0; i < np; i++)
            for (int j = 0; j < K; j++) seqs[i * per + 1 + j] = smp[i * K + j];
        free(smp);
        if (g) goto out;
        toks += t2;
    }
    double gen_s = clock_now() - t0;

    /* judge and store */
    filter_config fc;
    filter_config_default(&fc);
    judge_ctx *J = judge_new(&fc);
    if (!J) goto out;
    ans_truth truth;
    ans_truth_init(&truth);
    verdict_t v;
    verdict_init(&v);
    cJSON *params = cJSON_CreateObject();
    cJSON_AddNumberToObject(params, "temperature", o->sample.temperature);
    cJSON_AddNumberToObject(params, "top_p", o->sample.top_p);
    cJSON_AddNumberToObject(params, "top_k", o->sample.top_k);
    cJSON_AddNumberToObject(params, "max_new_tokens", o->max_new);
    cJSON_AddNumberToObject(params, "seed", (double)o->seed);
    cJSON_AddStringToObject(params, "verifier", "filter default config");
    char *pj = cJSON_PrintUnformatted(params);
    cJSON_Delete(params);
    sqlite3_stmt *ins_r = NULL, *ins_i = NULL, *ins_p = NULL;
    int ok = db_begin(db) == 0;
    ok = ok && db_prepare(db, "INSERT INTO eval_runs(model, model_hash, template, user_template, split, family, n_problems, "
                              "samples, k, params, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)", &ins_r) == 0;
    ok = ok && db_prepare(db, "INSERT INTO eval_items(eval_run_id, problem_id, sample_index, text, finish_reason, n_tokens, "
                              "answer_norm, correct, well_formed, lang_ratio, lang_ok, reasons) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                          &ins_i) == 0;
    ok = ok && db_prepare(db, "INSERT INTO eval_problems(eval_run_id, problem_id, family, difficulty, greedy_correct, n, c, "
                              "pass_at_k, maj_answer, maj_correct) VALUES (?,?,?,?,?,?,?,?,?,?)", &ins_p) == 0;
    if (ok) {
        sqlite3_bind_text(ins_r, 1, o->model_dir ? o->model_dir : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins_r, 2, s->hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins_r, 3, chat_template_name(s->tmpl), -1, SQLITE_STATIC);
        sqlite3_bind_text(ins_r, 4, utpl, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins_r, 5, o->split, -1, SQLITE_STATIC);
        if (o->family) sqlite3_bind_text(ins_r, 6, o->family, -1, SQLITE_STATIC); else sqlite3_bind_null(ins_r, 6);
        sqlite3_bind_int64(ins_r, 7, np);
        sqlite3_bind_int(ins_r, 8, K);
        sqlite3_bind_int(ins_r, 9, k);
        sqlite3_bind_text(ins_r, 10, pj, -1, SQLITE_STATIC);
        if (run_id > 0) sqlite3_bind_int64(ins_r, 11, run_id); else sqlite3_bind_null(ins_r, 11);
        ok = sqlite3_step(ins_r) == SQLITE_DONE;
        if (!ok) err_set("eval: recording the run: %s", sqlite3_errmsg(db));
    }
    int64_t erid = sqlite3_last_insert_rowid(db);
    char **answers = xcalloc(per, sizeof *answers);
    int *correct = xcalloc(per, sizeof *correct);
    double sum_wf = 0, sum_lang = 0, sum_tok = 0, sum_p1 = 0, sum_pk = 0, sum_maj = 0;
    long nout = 0;
    for (long i = 0; i < np && ok; i++) {
        ans_truth_set(judge_ans_scratch(J), &truth, P[i].answer, P[i].text_answer);
        int percent = knobs_percent(P[i].knobs);
        int c = 0;
        for (int j = 0; j < per && ok; j++) {
            gen_seq *q = &seqs[i * per + j];
            char *text = student_decode(s, q->out, q->n_out);
            if (!text) { ok = 0; break; }
            judge_input in = {.text = text, .len = strlen(text), .format = FMT_R1, .prefilled = s->think_prefill,
                              .finish = q->finish == GEN_STOP ? FINISH_STOP : FINISH_LENGTH, .n_tokens = q->n_out,
                              .lang_scripts = lang_scripts(P[i].lang), .truth = &truth, .percent = percent};
            judge_trace(J, &in, &v);
            int corr = v.correct == 1 && q->finish == GEN_STOP;
            int wf = strcmp(v.format_status, "ok") == 0;
            int lok = v.lang_ratio < 0 || v.lang_ratio >= fc.lang_min_ratio;
            correct[j] = corr;
            free(answers[j]);
            answers[j] = v.answer_norm.len ? xstrdup(v.answer_norm.s) : NULL;
            if (j > 0) c += corr;
            strbuf rs;
            sb_init(&rs);
            reasons_put(&rs, v.reasons);
            sqlite3_bind_int64(ins_i, 1, erid);
            sqlite3_bind_int64(ins_i, 2, P[i].id);
            sqlite3_bind_int(ins_i, 3, j - 1);
            sqlite3_bind_text(ins_i, 4, text, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(ins_i, 5, q->finish == GEN_STOP ? "stop" : "length", -1, SQLITE_STATIC);
            sqlite3_bind_int(ins_i, 6, q->n_out);
            if (answers[j]) sqlite3_bind_text(ins_i, 7, answers[j], -1, SQLITE_STATIC); else sqlite3_bind_null(ins_i, 7);
            sqlite3_bind_int(ins_i, 8, corr);
            sqlite3_bind_int(ins_i, 9, wf);
            if (v.lang_ratio >= 0) sqlite3_bind_double(ins_i, 10, v.lang_ratio); else sqlite3_bind_null(ins_i, 10);
            sqlite3_bind_int(ins_i, 11, lok);
            sqlite3_bind_text(ins_i, 12, rs.s ? rs.s : "", -1, SQLITE_TRANSIENT);
            sb_free(&rs);
            free(text);
            if (sqlite3_step(ins_i) != SQLITE_DONE) { err_set("eval: storing an item: %s", sqlite3_errmsg(db)); ok = 0; }
            sqlite3_reset(ins_i);
            sum_wf += wf; sum_lang += lok; sum_tok += q->n_out; nout++;
        }
        if (!ok) break;
        double pk = K ? pass_at_k(K, c, k) : NAN;
        int mj = K ? majority_vote((const char *const *)answers + 1, K) : -1;
        int mjc = mj >= 0 && correct[1 + mj];
        sum_p1 += correct[0];
        if (K) { sum_pk += pk; sum_maj += mjc; }
        sqlite3_bind_int64(ins_p, 1, erid);
        sqlite3_bind_int64(ins_p, 2, P[i].id);
        sqlite3_bind_text(ins_p, 3, P[i].family, -1, SQLITE_STATIC);
        sqlite3_bind_int(ins_p, 4, P[i].difficulty);
        sqlite3_bind_int(ins_p, 5, correct[0]);
        sqlite3_bind_int(ins_p, 6, K);
        sqlite3_bind_int(ins_p, 7, c);
        if (K) sqlite3_bind_double(ins_p, 8, pk); else sqlite3_bind_null(ins_p, 8);
        if (mj >= 0) sqlite3_bind_text(ins_p, 9, answers[1 + mj], -1, SQLITE_TRANSIENT); else sqlite3_bind_null(ins_p, 9);
        if (K) sqlite3_bind_int(ins_p, 10, mjc); else sqlite3_bind_null(ins_p, 10);
        if (sqlite3_step(ins_p) != SQLITE_DONE) { err_set("eval: storing a problem: %s", sqlite3_errmsg(db)); ok = 0; }
        sqlite3_reset(ins_p);
    }
    for (int j = 0; j < per; j++) free(answers[j]);
    free(answers);
    free(correct);
    res->eval_run_id = erid;
    res->problems = np;
    res->outputs = nout;
    res->pass1 = sum_p1 / np;
    res->pass_k = K ? sum_pk / np : NAN;
    res->maj_k = K ? sum_maj / np : NAN;
    res->well_formed = nout ? sum_wf / nout : 0;
    res->lang_ok = nout ? sum_lang / nout : 0;
    res->mean_tokens = nout ? sum_tok / nout : 0;
    res->seconds = clock_now() - t0;
    res->tokens_per_s = gen_s > 0 ? toks / gen_s : 0;
    if (ok) {
        cJSON *mt = cJSON_CreateObject();
        cJSON_AddNumberToObject(mt, "pass1", res->pass1);
        if (K) {
            cJSON_AddNumberToObject(mt, "pass_k", res->pass_k);
            cJSON_AddNumberToObject(mt, "maj_k", res->maj_k);
        }
        cJSON_AddNumberToObject(mt, "well_formed", res->well_formed);
        cJSON_AddNumberToObject(mt, "lang_ok", res->lang_ok);
        cJSON_AddNumberToObject(mt, "mean_tokens", res->mean_tokens);
        cJSON_AddNumberToObject(mt, "decode_tokens_per_s", res->tokens_per_s);
        char *mj = cJSON_PrintUnformatted(mt);
        cJSON_Delete(mt);
        sqlite3_stmt *up;
        if (db_prepare(db, "UPDATE eval_runs SET metrics = ?, seconds = ? WHERE id = ?", &up) == 0) {
            sqlite3_bind_text(up, 1, mj, -1, SQLITE_STATIC);
            sqlite3_bind_double(up, 2, res->seconds);
            sqlite3_bind_int64(up, 3, erid);
            ok = sqlite3_step(up) == SQLITE_DONE;
            sqlite3_finalize(up);
        } else ok = 0;
        free(mj);
    }
    sqlite3_finalize(ins_r); sqlite3_finalize(ins_i); sqlite3_finalize(ins_p);
    if (ok && db_commit(db) == 0) rc = 0;
    else db_rollback(db);
    free(pj);
    verdict_free(&v);
    ans_truth_free(&truth);
    judge_free(J);
out:
    if (seqs)
        for (long i = 0; i < np * per; i++) gen_seq_free(&seqs[i]);
    free(seqs);
    if (prompts)
        for (long i = 0; i < np; i++) tok_ids_free(&prompts[i]);
    free(prompts);
    for (long i = 0; i < np; i++) {
        free(P[i].prompt); free(P[i].answer); free(P[i].family); free(P[i].lang); free(P[i].knobs);
    }
    free(P);
    return rc;
}

static void pct(FILE *out, double x) {
    if (isnan(x)) fprintf(out, "  %6s", "-");
    else fprintf(out, "  %5.1f%%", 100 * x);
}

int eval_print(sqlite3 *db, int64_t id, FILE *out) {
    sqlite3_stmt *st;
    int K = 0;
    if (db_prepare(db, "SELECT samples, k, n_problems, model FROM eval_runs WHERE id = ?", &st)) return -1;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) { sqlite3_finalize(st); err_set("no eval run %lld", (long long)id); return -1; }
    K = sqlite3_column_int(st, 1);
    fprintf(out, "eval run %lld: %s, %d problems%s\n", (long long)id, sqlite3_column_text(st, 3), sqlite3_column_int(st, 2),
            K ? "" : " (greedy only)");
    sqlite3_finalize(st);
    char pk[16], mk[16];
    snprintf(pk, sizeof pk, "pass@%d", K);
    snprintf(mk, sizeof mk, "maj@%d", K);
    fprintf(out, "%-10s %4s %6s  %6s  %6s  %6s  %6s  %6s  %7s\n", "family", "diff", "n", "pass@1", K ? pk : "pass@k",
            K ? mk : "maj@k", "format", "lang", "tokens");
    const char *sql =
        "SELECT family, difficulty, problems, pass1, pass_k, maj_k, well_formed, lang_ok, mean_tokens FROM v_eval_summary "
        "WHERE eval_run_id = ?1 "
        "UNION ALL "
        "SELECT 'all', NULL, count(*), avg(greedy_correct), avg(pass_at_k), avg(maj_correct), "
        " (SELECT avg(well_formed) FROM eval_items WHERE eval_run_id = ?1), (SELECT avg(lang_ok) FROM eval_items WHERE eval_run_id = ?1),"
        " (SELECT avg(n_tokens) FROM eval_items WHERE eval_run_id = ?1) FROM eval_problems WHERE eval_run_id = ?1";
    if (db_prepare(db, sql, &st)) return -1;
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char diff[16] = "";
        if (sqlite3_column_type(st, 1) != SQLITE_NULL) snprintf(diff, sizeof diff, "%d", sqlite3_column_int(st, 1));
        fprintf(out, "%-10s %4s %6d", sqlite3_column_text(st, 0), diff, sqlite3_column_int(st, 2));
        for (int c = 3; c <= 7; c++) pct(out, sqlite3_column_type(st, c) == SQLITE_NULL ? NAN : sqlite3_column_double(st, c));
        fprintf(out, "  %7.1f\n", sqlite3_column_double(st, 8));
    }
    sqlite3_finalize(st);
    return 0;
}
