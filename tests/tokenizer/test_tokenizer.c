/* Tokenizer library tests on a tokenizer trained here from a generated mix:
 * training, round trips, chat templates and their loss masks, tokenize_mix
 * with the token file and the counts in the database.
 *   test_tokenizer              run the tests (in a temp directory)
 *   test_tokenizer --make-db P  only write the fixture database to P (the
 *                               CLI test uses it) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/db.h"
#include "core/err.h"
#include "core/rng.h"
#include "core/strbuf.h"
#include "core/tokset.h"
#include "test.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/train.h"

static const char *words[] = {"the", "number", "of", "apples", "is", "total", "each", "box", "holds", "we",
                              "multiply", "add", "so", "answer", "first", "then", "Let", "me", "check",
                              "苹果", "一共", "多少", "答案", "是", "每个", "盒子", "mod", "prime"};

static void sentence(rng_t *r, strbuf *b, int n) {
    for (int i = 0; i < n; i++) {
        int k = (int)rng_range(r, 0, 9);
        if (k == 0) sb_printf(b, " %lld", (long long)rng_range(r, 0, 100000));
        else if (k == 1) sb_printf(b, " \\frac{%lld}{%lld}", (long long)rng_range(r, 1, 99), (long long)rng_range(r, 2, 99));
        else sb_printf(b, "%s%s", i ? " " : "", words[rng_range(r, 0, sizeof words / sizeof *words - 1)]);
        if (rng_chance(r, 0.1)) sb_puts(b, rng_chance(r, 0.5) ? "." : ",");
        if (rng_chance(r, 0.05)) sb_puts(b, "\n");
    }
}

/* problems, one teacher (with a '{prompt}' template, think prefilled), traces,
 * a filter and a mix of n items, every 5th in val. */
static int make_db(const char *path, int n) {
    sqlite3 *db;
    if (db_open(path, DB_CREATE, &db)) return -1;
    db_exec(db, "BEGIN");
    db_exec(db, "INSERT INTO teachers(key, name, template, template_text, think_prefill) VALUES "
                "('k1', 'synthetic', 'r1', '{prompt}\nPlease reason step by step, and put your final answer within \\boxed{}.', 1)");
    db_exec(db, "INSERT INTO mixes(name) VALUES ('m')");
    sqlite3_stmt *p, *t, *m;
    db_prepare(db, "INSERT INTO problems(hash, family, task, lang, prompt, answer) VALUES (?1, 'arith', 'expr', 'en', ?2, ?3)", &p);
    db_prepare(db, "INSERT INTO traces(problem_id, teacher_id, sample_index, text, finish_reason, think_prefilled) "
                   "VALUES (?1, 1, 0, ?2, 'stop', 1)", &t);
    db_prepare(db, "INSERT INTO mix_items(mix_id, position, trace_id, split) VALUES (1, ?1, ?2, ?3)", &m);
    rng_t r;
    rng_seed(&r, 7);
    strbuf a, b;
    sb_init(&a);
    sb_init(&b);
    for (int i = 0; i < n; i++) {
        long long x = rng_range(&r, 2, 999), y = rng_range(&r, 2, 999);
        sb_reset(&a);
        sb_printf(&a, "What is %lld * %lld?", x, y);
        if (i % 7 == 0) sb_puts(&a, " 请计算。");
        char h[32];
        snprintf(h, sizeof h, "h%d", i);
        sqlite3_bind_text(p, 1, h, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(p, 2, a.s, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(p, 3, x * y);
        sqlite3_step(p); sqlite3_reset(p);
        sb_reset(&b);
        sentence(&r, &b, 20 + (int)rng_range(&r, 0, 60));
        sb_printf(&b, "\n</think>\n\n%lld * %lld = %lld. The answer is \\boxed{%lld}.", x, y, x * y, x * y);
        if (i % 11 == 0) sb_puts(&b, " 😀");
        sqlite3_bind_int64(t, 1, i + 1);
        sqlite3_bind_text(t, 2, b.s, -1, SQLITE_TRANSIENT);
        sqlite3_step(t); sqlite3_reset(t);
        sqlite3_bind_int(m, 1, n - 1 - i);  /* positions reversed against ids: order must follow position */
        sqlite3_bind_int64(m, 2, i + 1);
        sqlite3_bind_text(m, 3, i % 5 == 4 ? "val" : "train", -1, SQLITE_STATIC);
        sqlite3_step(m); sqlite3_reset(m);
    }
    sqlite3_finalize(p); sqlite3_finalize(t); sqlite3_finalize(m);
    sb_free(&a); sb_free(&b);
    int rc = db_exec(db, "COMMIT");
    db_close(db);
    return rc;
}

static char *decode_str(tokenizer_t *t, const uint32_t *ids, size_t n) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (tokenizer_decode(t, ids, n, 0, &buf, &len, &cap)) return NULL;
    return buf;
}

static void test_chat(tokenizer_t *t) {
    const char *user = "What is 2 + 3?\nPlease reason step by step.";
    const char *asst = "<think>\nTwo plus three is five.\n</think>\n\nThe answer is \\boxed{5}.";
    for (int tm = 0; tm < CHAT_N_TEMPLATES; tm++) {
        for (int with_sys = 0; with_sys < 2; with_sys++) {
            const char *sys = with_sys ? "You are a careful solver." : NULL;
            chat_out o = {0};
            CHECK(chat_render(t, tm, sys, user, asst, &o) == 0);
            /* the ids decode to the rendered text */
            strbuf txt;
            sb_init(&txt);
            chat_render_text(tm, sys, user, asst, &txt);
            char *d = decode_str(t, o.ids.v, o.ids.n);
            CHECK_STR(d, txt.s);
            free(d);
            /* masked tokens are exactly the assistant's content plus the end token */
            uint32_t *m = malloc(o.ids.n * sizeof *m);
            size_t nm = 0, first = o.ids.n, last = 0;
            for (size_t i = 0; i < o.ids.n; i++)
                if (o.mask[i]) { m[nm++] = o.ids.v[i]; if (first == o.ids.n) first = i; last = i; }
            CHECKF(nm > 0 && last - first + 1 == nm, "template %s: mask not one contiguous span", chat_template_name(tm));
            int64_t eos = tokenizer_token_to_id(t, chat_template_eos(tm));
            CHECK(nm > 0 && m[nm - 1] == (uint32_t)eos);
            d = decode_str(t, m, nm ? nm - 1 : 0);
            CHECK_STR(d, asst);
            free(d);
            /* exactly one BOS, first, where the template has one */
            const char *bos = chat_template_bos(tm);
            if (bos) {
                int64_t b = tokenizer_token_to_id(t, bos);
                size_t nb = 0;
                for (size_t i = 0; i < o.ids.n; i++) nb += o.ids.v[i] == (uint32_t)b;
                CHECK(nb == 1 && o.ids.v[0] == (uint32_t)b);
            }
            /* r1: spans meet at special tokens, so the ids equal encoding the text */
            if (tm == CHAT_R1) {
                tok_ids whole = {0};
                tokenizer_encode(t, txt.s, txt.len, &whole);
                CHECK(whole.n == o.ids.n && memcmp(whole.v, o.ids.v, whole.n * 4) == 0);
                tok_ids_free(&whole);
            }
            /* generation form: a prefix of the training form ending with the assistant header
             * (for r1, with "<think>\n" prefilled) */
            chat_out g = {0};
            CHECK(chat_render_prompt(t, tm, sys, user, &g) == 0);
            CHECK(g.ids.n < o.ids.n && memcmp(g.ids.v, o.ids.v, g.ids.n * 4) == 0);
            for (size_t i = 0; i < g.ids.n; i++) CHECK(g.mask[i] == 0);
            strbuf gt;
            sb_init(&gt);
            chat_render_text(tm, sys, user, NULL, &gt);
            d = decode_str(t, g.ids.v, g.ids.n);
            CHECK_STR(d, gt.s);
            if (tm == CHAT_R1) CHECK(gt.len > 8 && strcmp(gt.s + gt.len - 8, "<think>\n") == 0);
            free(d);
            sb_free(&gt);
            chat_out_free(&g);
            free(m);
            sb_free(&txt);
            chat_out_free(&o);
        }
        CHECK(strstr(chat_template_jinja(tm), "add_generation_prompt") != NULL);
    }
    CHECK(chat_template_parse("chatml") == CHAT_CHATML);
    CHECK(chat_template_parse("nope") == -1);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--make-db") == 0) {
        if (make_db(argv[2], 300)) { err_print(); return 1; }
        return 0;
    }
    char dir[] = "/tmp/retort-tok-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char dbp[256], tokdir[256], tokfile[256];
    snprintf(dbp, sizeof dbp, "%s/t.db", dir);
    snprintf(tokdir, sizeof tokdir, "%s/tok", dir);
    snprintf(tokfile, sizeof tokfile, "%s/train.tok", dir);
    CHECK(make_db(dbp, 300) == 0);
    sqlite3 *db;
    CHECK(db_open(dbp, 0, &db) == 0);

    /* train */
    bpe_train_opts o = {.vocab_size = 400, .template_name = "r1", .verbose = 1};
    CHECK(bpe_train_mix(db, "m", &o, tokdir) == 0);
    CHECK(bpe_train_mix(db, "nosuchmix", &o, tokdir) != 0);
    tokenizer_t *t = tokenizer_load(tokdir);
    CHECKF(t != NULL, "%s", err_msg());
    if (!t) return test_report("tokenizer");
    CHECK(tokenizer_vocab_size(t) == 400);
    CHECK(tokenizer_bos_id(t) == (uint32_t)tokenizer_token_to_id(t, "<｜begin▁of▁sentence｜>"));
    CHECK(tokenizer_eos_id(t) == (uint32_t)tokenizer_token_to_id(t, "<｜end▁of▁sentence｜>"));
    CHECK(tokenizer_pad_id(t) != UINT32_MAX);
    /* special tokens are single ids; frequent words became single tokens */
    tok_ids ids = {0};
    tokenizer_encode(t, "<think>\n</think><answer>", 24, &ids);
    CHECK(ids.n == 4 && tokenizer_is_special(t, ids.v[0]) && tokenizer_is_special(t, ids.v[3]));
    ids.n = 0;
    tokenizer_encode(t, " multiply", 9, &ids);
    CHECKF(ids.n == 1, "' multiply' took %zu tokens", ids.n);
    /* round trips, invalid UTF-8 included */
    const char *texts[] = {"The answer is \\boxed{42}.", "苹果一共有多少？ 😀", "  spaces\t\ttabs\r\n", "",
                           "e\xcc\x81 is NFC-composed"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        ids.n = 0;
        tokenizer_encode(t, texts[i], strlen(texts[i]), &ids);
        char *d = decode_str(t, ids.v, ids.n);
        if (i == 4) CHECK_STR(d, "\xc3\xa9 is NFC-composed");
        else CHECK_STR(d, texts[i]);
        free(d);
    }
    ids.n = 0;
    tokenizer_encode(t, "a\xff" "b\xe2\x82", 5, &ids);
    char *d = decode_str(t, ids.v, ids.n);
    CHECK_STR(d, "a\xef\xbf\xbd" "b\xef\xbf\xbd");
    free(d);
    char *clean;
    CHECK(utf8_sanitize("\xf0\x9f\x98\x41\xed\xa0\x80", 7, &clean) == 3 + 1 + 9);
    free(clean);
    uint32_t bad = 99999;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    CHECK(tokenizer_decode(t, &bad, 1, 0, &buf, &len, &cap) == -1);
    free(buf);
    tok_ids_free(&ids);

    test_chat(t);

    /* tokenize the mix */
    tokset_t ts;
    tokset_init(&ts);
    CHECK(tokenize_mix(db, "m", t, "r1", NULL, &ts) == 0);
    CHECK(ts.n_samples == 300);
    CHECK(ts.vocab_size == 400 && ts.bos_id == tokenizer_bos_id(t) && ts.eos_id == tokenizer_eos_id(t));
    int nval = 0;
    for (uint64_t i = 0; i < ts.n_samples; i++) nval += ts.splits[i];
    CHECK(nval == 60);
    /* position order: position 0 holds trace 300 */
    CHECK(ts.trace_ids[0] == 300 && ts.trace_ids[299] == 1);
    CHECK(tokset_write(&ts, tokfile) == 0);
    tokset_t back;
    CHECK(tokset_read(tokfile, &back) == 0);
    CHECK(back.n_tokens == ts.n_tokens && memcmp(back.ids, ts.ids, ts.n_tokens * 4) == 0 &&
          memcmp(back.mask, ts.mask, ts.n_tokens) == 0);
    tokset_free(&back);
    /* counts in the database agree with the file */
    CHECK(db_int(db, "SELECT count(*) FROM token_counts", 0) == 300);
    CHECK((uint64_t)db_int(db, "SELECT sum(n_tokens) FROM token_counts", 0) == ts.n_tokens);
    uint64_t target = 0;
    for (uint64_t i = 0; i < ts.n_tokens; i++) target += ts.mask[i];
    CHECK((uint64_t)db_int(db, "SELECT sum(n_target) FROM token_counts", 0) == target);
    CHECK(db_int(db, "SELECT count(*) FROM traces WHERE n_tokens IS NULL OR n_tokens < 5", -1) == 0);
    /* a template whose special tokens the tokenizer lacks is refused, not guessed */
    CHECK(tokenize_mix(db, "m", t, "nope", NULL, &ts) != 0);
    tokset_free(&ts);

    tokenizer_free(t);
    db_close(db);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return test_report("tokenizer");
}
