/* The model teacher: a student checkpoint (a directory written by distill, or
 * any Hugging Face Qwen2/Llama checkpoint with tokenizer.json) samples traces
 * into the same traces table as the synthetic teacher. This closes R1's
 * rejection-sampling loop: a trained student makes the next round's data.
 *
 * Problems: with make_problems (the CLI's --count) they are made exactly as the
 * synthetic path makes them (same seed, same knobs, same problems), without
 * synthetic traces; otherwise the stored problems of a split (and family) are
 * used, by id, up to a limit.
 *
 * Resume is per sample: (problem, teacher, sample_index) that already exist are
 * skipped; the rest are decoded in chunks with continuous batching and each
 * chunk is committed in one transaction, so a kill loses at most one chunk.
 * A sample's seed depends on the problem, the teacher key and its index only,
 * so a resumed run writes what an uninterrupted one would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "generate/generate.h"
#include "core/db.h"
#include "core/err.h"
#include "core/hash.h"
#include "distill/eval.h"
#include "tokenizer/chat.h"
#include "core/sys.h"

#define CHUNK 256

int teacher_model_run(sqlite3 *db, const generate_opts *o, int64_t run_id, generate_result *res) {
    memset(res, 0, sizeof *res);
    double t0 = clock_now();
    const char *dir = o->teacher + 6;
    if (!*dir) { err_set("teacher 'model:' needs a directory: model:DIR"); return -1; }
    if (o->samples < 1 || o->samples > 4096) { err_set("--samples must be 1..4096"); return -1; }

    int64_t *ids = NULL;
    long nids = 0;
    if (teacher_problem_ids(db, o, run_id, res, &ids, &nids)) return -1;

    student_t s;
    if (student_load(&s, dir, o->model.chat_template)) { free(ids); return -1; }
    /* the teacher's identity: model content, sampling, templates */
    const char *user_tpl = synth_template("r1", "en");
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "generator", "retort-model-1");
    cJSON_AddStringToObject(params, "model_dir", dir);
    cJSON_AddStringToObject(params, "model_hash", s.hash);
    cJSON_AddNumberToObject(params, "temperature", o->model.temperature);
    cJSON_AddNumberToObject(params, "top_p", o->model.top_p);
    cJSON_AddNumberToObject(params, "top_k", o->model.top_k);
    cJSON_AddNumberToObject(params, "max_new_tokens", o->model.max_new);
    /* the seed is not identity (as for the synthetic teacher): another --seed adds
     * samples from the same teacher, and resume skips what exists */
    char *pj = cJSON_PrintUnformatted(params);
    cJSON_Delete(params);
    const char *tname = chat_template_name(s.tmpl);
    char tkey[65];

    int rc = -1;
    teacher_work w = {0};
    tok_ids *prompts = NULL;
    sqlite3_stmt *ins = NULL;
    int64_t teacher_id = teacher_record(db, o->teacher, pj, tname, user_tpl, s.think_prefill, tkey);
    if (teacher_id < 0) goto out;
    long existing = 0;
    if (teacher_work_scan(db, ids, nids, teacher_id, tkey, o->seed, o->samples, user_tpl, &w, &existing)) goto out;
    res->traces_existing += existing;
    if (db_prepare(db, "INSERT OR IGNORE INTO traces(problem_id, teacher_id, sample_index, text, finish_reason, "
                       "think_prefilled, n_tokens, latency_ms, injected, run_id) VALUES (?,?,?,?,?,?,?,?,'',?)", &ins))
        goto out;
    prompts = xcalloc((size_t)w.nprompts + 1, sizeof *prompts);
    for (long i = 0; i < w.nprompts; i++)
        if (student_prompt(&s, NULL, w.prompts[i], &prompts[i])) goto out;
    long ntodo = w.ntodo;
    teacher_todo *todo = w.todo;

    gen_opts go = {.sample = {.temperature = o->model.temperature, .top_k = o->model.top_k, .top_p = o->model.top_p},
                   .max_new = o->model.max_new, .stop = s.stop, .nstop = s.nstop, .batch = o->model.decode_batch};
    gen_seq q[CHUNK];
    long tokens = 0;
    double tgen = clock_now();
    for (long c0 = 0; c0 < ntodo; c0 += CHUNK) {
        int n = ntodo - c0 < CHUNK ? (int)(ntodo - c0) : CHUNK;
        for (int i = 0; i < n; i++) {
            teacher_todo *p = &todo[c0 + i];
            q[i] = (gen_seq){.prompt = prompts[p->prompt].v, .prompt_len = (int)prompts[p->prompt].n, .seed = p->seed};
        }
        long nt = 0;
        if (infer_generate(&s.m, q, n, &go, &nt)) goto out;
        tokens += nt;
        if (db_begin(db)) goto out;
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            teacher_todo *p = &todo[c0 + i];
            char *text = student_decode(&s, q[i].out, q[i].n_out);
            if (!text) { ok = 0; break; }
            sqlite3_bind_int64(ins, 1, p->pid);
            sqlite3_bind_int64(ins, 2, teacher_id);
            sqlite3_bind_int(ins, 3, p->sample);
            sqlite3_bind_text(ins, 4, text, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(ins, 5, q[i].finish == GEN_STOP ? "stop" : "length", -1, SQLITE_STATIC);
            sqlite3_bind_int(ins, 6, s.think_prefill);
            sqlite3_bind_int(ins, 7, q[i].n_out);
            sqlite3_bind_double(ins, 8, q[i].seconds * 1000.0);
            if (run_id > 0) sqlite3_bind_int64(ins, 9, run_id); else sqlite3_bind_null(ins, 9);
            if (sqlite3_step(ins) != SQLITE_DONE) { err_set("inserting trace: %s", sqlite3_errmsg(db)); ok = 0; }
            else res->traces_new += sqlite3_changes(db);
            sqlite3_reset(ins);
            free(text);
        }
        for (int i = 0; i < n; i++) gen_seq_free(&q[i]);
        if (!ok || db_commit(db)) { db_rollback(db); goto out; }
        if (!o->quiet) {
            double el = clock_now() - tgen;
            fprintf(stderr, "\rretort: generate: %s: %ld/%ld samples, %.0f tokens/s", o->teacher, c0 + n, ntodo,
                    el > 0 ? tokens / el : 0.0);
        }
    }
    if (!o->quiet && ntodo) fputc('\n', stderr);
    rc = 0;
out:
    sqlite3_finalize(ins);
    for (long i = 0; prompts && i < w.nprompts; i++) tok_ids_free(&prompts[i]);
    free(prompts);
    teacher_work_free(&w);
    free(pj);
    free(ids);
    student_free(&s);
    res->seconds = clock_now() - t0;
    return rc;
}
