#include <stdio.h>
#include <string.h>
#include "core/db.h"
#include "core/rng.h"
#include "core/strbuf.h"
#include "fixture.h"

static const char *EN_STEPS[] = {"We multiply %lld by %lld to get %lld.", "Next, %lld times %lld gives %lld.",
                                 "Then the product of %lld and %lld is %lld.", "Computing %lld × %lld = %lld."};
static const char *ZH_STEPS[] = {"先计算 %lld × %lld = %lld。", "接着，%lld 乘以 %lld 得到 %lld。",
                                 "然后 %lld 与 %lld 的积是 %lld。", "计算 %lld × %lld = %lld。"};
static const char *EN_OTHER = "这一步我们再检查一下结果是否正确。";
static const char *ZH_OTHER = "Let us double check this step carefully before moving on.";

int fixture_fill(sqlite3 *db, int n_problems, int samples, double rate, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed);
    if (db_begin(db)) return -1;
    db_exec(db, "INSERT OR IGNORE INTO teachers(id, key, name, template, template_text, think_prefill) VALUES"
                " (1, 'fx-r1', 'synthetic', 'r1', '{prompt}', 0),"
                " (2, 'fx-tagged', 'synthetic', 'tagged', '{prompt}', 0),"
                " (3, 'fx-r1-pre', 'synthetic', 'r1', '{prompt}<think>\n', 1)");
    sqlite3_stmt *pi, *ti;
    db_prepare(db, "INSERT INTO problems(hash, family, task, lang, prompt, answer, answer_type, knobs) VALUES (?,?,?,?,?,?,?,?)", &pi);
    db_prepare(db, "INSERT INTO traces(problem_id, teacher_id, sample_index, text, finish_reason, think_prefilled, injected)"
                   " VALUES (?,?,?,?,?,?,?)", &ti);
    strbuf t, inj, cot, ans;
    sb_init(&t); sb_init(&inj); sb_init(&cot); sb_init(&ans);
    int64_t base = db_int(db, "SELECT coalesce(max(id), 0) FROM problems", 0);
    for (int p = 0; p < n_problems; p++) {
        int zh = p % 2, nsteps = 2 + (int)rng_range(&r, 0, 4);
        int pct = p % 7 == 3;
        long long x[8];
        x[0] = rng_range(&r, 2, 40);
        for (int s = 1; s <= nsteps; s++) x[s] = rng_range(&r, 2, 9);
        char hash[64], prompt[128], answer[64];
        long long v = x[0];
        for (int s = 1; s <= nsteps; s++) v *= x[s];
        snprintf(hash, sizeof hash, "fx-%llu-%lld", (unsigned long long)seed, (long long)(base + p));
        snprintf(prompt, sizeof prompt, "Compute the product (problem %d).", p);
        snprintf(answer, sizeof answer, "%lld", v);
        sqlite3_bind_text(pi, 1, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(pi, 2, "arith", -1, SQLITE_STATIC);
        sqlite3_bind_text(pi, 3, "expr", -1, SQLITE_STATIC);
        sqlite3_bind_text(pi, 4, zh ? "zh" : "en", -1, SQLITE_STATIC);
        sqlite3_bind_text(pi, 5, prompt, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(pi, 6, answer, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(pi, 7, "number", -1, SQLITE_STATIC);
        sqlite3_bind_text(pi, 8, pct ? "{\"percent\":true}" : "{}", -1, SQLITE_STATIC);
        if (sqlite3_step(pi) != SQLITE_DONE) return -1;
        sqlite3_reset(pi);
        int64_t pid = sqlite3_last_insert_rowid(db);
        for (int k = 0; k < samples; k++) {
            int teacher = 1 + (int)rng_range(&r, 0, 2), tagged = teacher == 2, pre = teacher == 3;
            int f_wrong = rng_chance(&r, rate), f_mix = rng_chance(&r, rate), f_tags = rng_chance(&r, rate);
            int f_loop = rng_chance(&r, rate), f_trunc = !f_loop && rng_chance(&r, rate);
            sb_reset(&inj);
            sb_reset(&cot);
            long long acc = x[0];
            int bad_at = f_wrong ? (int)rng_range(&r, 1, nsteps) : -1;
            sb_printf(&cot, zh ? "题目要求计算 %lld 与其余各数的乘积。\n" : "We need the product of %lld and the other factors.\n", x[0]);
            int nlines = nsteps + 2, mixed = 0;
            for (int s = 1; s <= nsteps; s++) {
                long long nv = acc * x[s];
                if (s == bad_at) nv += rng_range(&r, 1, 9);
                int other = f_mix && (s % 2 == 1 || s == nsteps);
                if (other) { sb_puts(&cot, zh ? ZH_OTHER : EN_OTHER); sb_putc(&cot, '\n'); mixed++; }
                else { sb_printf(&cot, (zh ? ZH_STEPS : EN_STEPS)[rng_range(&r, 0, 3)], acc, x[s], nv); sb_putc(&cot, '\n'); }
                acc = nv;
            }
            (void)nlines;
            sb_puts(&cot, zh ? "验算一遍，结果没有问题。\n" : "Checking again, the result holds.\n");
            sb_reset(&ans);
            int form = (int)rng_range(&r, 0, 4);
            char num[64];
            snprintf(num, sizeof num, "%lld", acc);
            if (pct && form == 4) sb_printf(&ans, "\\boxed{%s\\%%}", num);
            else if (form == 0) sb_printf(&ans, "\\boxed{%s}", num);
            else if (form == 1) sb_printf(&ans, zh ? "最终答案是 \\boxed{%s}。" : "The final answer is \\boxed{%s}.", num);
            else if (form == 2) sb_printf(&ans, zh ? "最终答案是 %s。" : "The final answer is %s.", num);
            else if (form == 3) sb_printf(&ans, "The result is **%s**, so \\boxed{%s}.", num, num);
            else {
                /* thousands separators */
                char sep[96];
                int len = (int)strlen(num), o = 0;
                for (int i = 0; i < len; i++) { sep[o++] = num[i]; if ((len - i - 1) % 3 == 0 && i < len - 1) sep[o++] = ','; }
                sep[o] = 0;
                sb_printf(&ans, "\\boxed{%s}", sep);
            }
            sb_reset(&t);
            const char *summary = zh ? "所以乘积已经求出。" : "So the product is found. ";
            if (!pre) sb_puts(&t, "<think>\n");
            sb_puts(&t, cot.s);
            sb_puts(&t, "</think>\n");
            if (tagged) sb_printf(&t, "<answer>\n%s%s\n</answer>", summary, ans.s);
            else sb_printf(&t, "\n%s%s", summary, ans.s);
            const char *finish = "stop";
            if (f_tags) {
                int kind = (int)rng_range(&r, 0, 4);
                char *c = strstr(t.s, "</think>");
                if (kind == 0 && c) { memmove(c, c + 8, strlen(c + 8) + 1); t.len -= 8; }  /* missing </think> */
                else if (kind == 1) sb_puts(&t, "\n</think>");                               /* stray close */
                else if (kind == 2) sb_puts(&t, tagged ? "\nDone." : "\n<think>\nmore\n</think>\n");
                else if (kind == 3 && !pre) {                                                /* empty think */
                    sb_reset(&t);
                    sb_puts(&t, "<think>\n\n</think>\n");
                    if (tagged) sb_printf(&t, "<answer>\n%s%s\n</answer>", summary, ans.s);
                    else sb_printf(&t, "\n%s%s", summary, ans.s);
                } else sb_puts(&t, "\n</answer>");
            }
            if (f_loop) {
                char *c = strstr(t.s, "</think>");
                size_t cut = c ? (size_t)(c - t.s) : t.len;
                sb_truncate(&t, cut);
                const char *blk = zh ? "等等，让我再算一遍这个乘积。\n" : "Wait, let me recompute this product once more.\n";
                while (t.len < 3000) sb_puts(&t, blk);
                finish = "length";
            }
            if (f_trunc) {
                char *c = strstr(t.s, "</think>");
                size_t lim = c ? (size_t)(c - t.s) : t.len;
                size_t at = 10 + (size_t)rng_range(&r, 0, (int64_t)(lim > 20 ? lim - 20 : 1));
                while (at > 0 && ((unsigned char)t.s[at] & 0xC0) == 0x80) at--;
                sb_truncate(&t, at);
                finish = "length";
            }
            if (f_wrong && acc != v) sb_puts(&inj, "wrong_step,");
            if (f_mix) sb_puts(&inj, "lang_mix,");
            if (f_tags) sb_puts(&inj, "bad_tags,");
            if (f_loop) sb_puts(&inj, "loop,");
            if (f_trunc) sb_puts(&inj, "truncate,");
            if (inj.len) sb_truncate(&inj, inj.len - 1);
            sqlite3_bind_int64(ti, 1, pid);
            sqlite3_bind_int(ti, 2, teacher);
            sqlite3_bind_int(ti, 3, k);
            sqlite3_bind_text(ti, 4, t.s, (int)t.len, SQLITE_TRANSIENT);
            sqlite3_bind_text(ti, 5, finish, -1, SQLITE_STATIC);
            sqlite3_bind_int(ti, 6, pre);
            sqlite3_bind_text(ti, 7, inj.s ? inj.s : "", -1, SQLITE_TRANSIENT);
            if (sqlite3_step(ti) != SQLITE_DONE) return -1;
            sqlite3_reset(ti);
        }
    }
    sqlite3_finalize(pi);
    sqlite3_finalize(ti);
    sb_free(&t); sb_free(&inj); sb_free(&cot); sb_free(&ans);
    return db_commit(db);
}
