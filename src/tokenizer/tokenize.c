#include <string.h>
#include "core/db.h"
#include "core/err.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenize.h"

int tokenize_mix(sqlite3 *db, const char *mix, tokenizer_t *t, const char *template_name, const char *system,
                 tokset_t *out) {
    int tmpl = chat_template_parse(template_name);
    if (tmpl < 0) { err_set("unknown chat template '%s' (%s)", template_name ? template_name : "", CHAT_TEMPLATE_CHOICES); return -1; }
    const char *bos = chat_template_bos(tmpl), *eos = chat_template_eos(tmpl);
    int64_t bos_id = bos ? tokenizer_token_to_id(t, bos) : -1, eos_id = tokenizer_token_to_id(t, eos);
    if (eos_id < 0) { err_set("tokenizer has no token '%s', which chat template %s needs", eos, template_name); return -1; }
    out->vocab_size = tokenizer_vocab_size(t);
    out->bos_id = bos_id >= 0 ? (uint32_t)bos_id : TOKSET_NONE;
    out->eos_id = (uint32_t)eos_id;
    out->pad_id = tokenizer_pad_id(t);

    sqlite3_stmt *sel = NULL, *ins = NULL, *upd = NULL;
    if (db_prepare(db, "SELECT trace_id, split, user_text, assistant_text FROM v_mix_samples "
                       "WHERE mix = ?1 ORDER BY position", &sel) ||
        db_prepare(db, "INSERT OR REPLACE INTO token_counts(trace_id, tokenizer, template, n_tokens, n_target) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)", &ins) ||
        db_prepare(db, "UPDATE traces SET n_tokens = ?2 WHERE id = ?1", &upd)) {
        sqlite3_finalize(sel);
        sqlite3_finalize(ins);
        return -1;
    }
    if (db_begin(db)) { sqlite3_finalize(sel); sqlite3_finalize(ins); sqlite3_finalize(upd); return -1; }
    sqlite3_bind_text(sel, 1, mix, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 2, tokenizer_hash(t), -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, chat_template_name(tmpl), -1, SQLITE_STATIC);
    chat_out co = {0};
    int rc, fail = 0;
    uint64_t n = 0;
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        int64_t trace = sqlite3_column_int64(sel, 0);
        const char *split = (const char *)sqlite3_column_text(sel, 1);
        const char *user = (const char *)sqlite3_column_text(sel, 2);
        const char *asst = (const char *)sqlite3_column_text(sel, 3);
        co.ids.n = 0;
        if (chat_render(t, tmpl, system, user ? user : "", asst ? asst : "", &co)) {
            err_prefix("mix '%s', trace %lld", mix, (long long)trace);
            fail = 1;
            break;
        }
        uint64_t target = 0;
        for (size_t i = 0; i < co.ids.n; i++) target += co.mask[i];
        tokset_push(out, trace, (uint8_t)(split && strcmp(split, "val") == 0), co.ids.v, co.mask, co.ids.n);
        sqlite3_bind_int64(ins, 1, trace);
        sqlite3_bind_int64(ins, 4, (int64_t)co.ids.n);
        sqlite3_bind_int64(ins, 5, (int64_t)target);
        sqlite3_bind_int64(upd, 1, trace);
        sqlite3_bind_int64(upd, 2, target ? (int64_t)target - 1 : 0);
        if (sqlite3_step(ins) != SQLITE_DONE || sqlite3_step(upd) != SQLITE_DONE) {
            err_set("writing token counts: %s", sqlite3_errmsg(db));
            fail = 1;
            break;
        }
        sqlite3_reset(ins);
        sqlite3_reset(upd);
        n++;
    }
    if (!fail && rc != SQLITE_DONE) { err_set("reading mix '%s': %s", mix, sqlite3_errmsg(db)); fail = 1; }
    if (!fail && n == 0) { err_set("mix '%s' has no samples (or does not exist)", mix); fail = 1; }
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    sqlite3_finalize(upd);
    chat_out_free(&co);
    if (fail) { db_rollback(db); return -1; }
    return db_commit(db);
}
