#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ctype.h>
#include <gmp.h>
#include <cjson/cJSON.h>
#include "generate/import.h"
#include "filter/export.h"
#include "core/db.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/rational.h"
#include "core/strbuf.h"
#include "core/utf8.h"

int import_format_parse(const char *s, import_format *f) {
    if (!strcmp(s, "messages")) *f = IMPORT_MESSAGES;
    else if (!strcmp(s, "reasoning")) *f = IMPORT_REASONING;
    else if (!strcmp(s, "problems")) *f = IMPORT_PROBLEMS;
    else return -1;
    return 0;
}

void import_stats_free(import_stats *s) {
    free(s->bad_report);
    s->bad_report = NULL;
}

/* ---- answers --------------------------------------------------------------- */

static int try_rational(const char *s, strbuf *out) {
    mpq_t q;
    mpq_init(q);
    int ok = rat_parse(q, s) == 0;
    if (ok) rat_put(out, q);
    mpq_clear(q);
    return ok;
}

/* "-?\d{1,3}(,\d{3})+(\.\d+)?" without the commas; 0 if s is not of that form */
static int strip_thousands(const char *s, char *out) {
    const char *p = s;
    char *o = out;
    if (*p == '-') *o++ = *p++;
    int lead = 0;
    while (isdigit((unsigned char)*p)) { *o++ = *p++; lead++; }
    if (lead < 1 || lead > 3 || *p != ',') return 0;
    while (*p == ',') {
        p++;
        for (int i = 0; i < 3; i++) {
            if (!isdigit((unsigned char)*p)) return 0;
            *o++ = *p++;
        }
    }
    if (*p == '.') {
        *o++ = *p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) *o++ = *p++;
    }
    *o = 0;
    return *p == 0;
}

/* "-?\frac{A}{B}" (also \dfrac, \tfrac) -> "A/B" with the sign folded in */
static int frac_to_slash(const char *s, char *out, size_t cap) {
    int neg = 0;
    if (*s == '-') { neg = 1; s++; }
    if (!strncmp(s, "\\frac", 5)) s += 5;
    else if (!strncmp(s, "\\dfrac", 6) || !strncmp(s, "\\tfrac", 6)) s += 6;
    else return 0;
    if (*s != '{') return 0;
    const char *a = ++s;
    while (*s && *s != '}') s++;
    if (*s != '}' || s[1] != '{') return 0;
    size_t al = (size_t)(s - a);
    const char *b = s + 2;
    s = b;
    while (*s && *s != '}') s++;
    if (*s != '}' || s[1]) return 0;
    size_t bl = (size_t)(s - b);
    if (al + bl + 4 > cap) return 0;
    const char *an = a;
    if (neg && *an == '-') { neg = 0; an++; al--; }    /* -\frac{-7}{3} = 7/3 */
    snprintf(out, cap, "%s%.*s/%.*s", neg ? "-" : "", (int)al, an, (int)bl, b);
    return 1;
}

int import_canon_answer(const char *in, char **out) {
    size_t n = strlen(in);
    char *s = xmalloc(n + 1), *t = xmalloc(n + 16);
    /* drop whitespace, $, thin spaces; \left \right are not expected in answers */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '$') continue;
        if (ch == '\\' && (in[i + 1] == ',' || in[i + 1] == '!' || in[i + 1] == ';')) { i++; continue; }
        s[k++] = ch;
    }
    s[k] = 0;
    /* a trailing percent sign: 25% and 25\% are the number 25 */
    if (k >= 2 && !strcmp(s + k - 2, "\\%")) s[k -= 2] = 0;
    else if (k >= 1 && s[k - 1] == '%') s[--k] = 0;
    strbuf b;
    sb_init(&b);
    int num = 0;
    if (k && (try_rational(s, &b) || (strip_thousands(s, t) && try_rational(t, &b)) ||
              (frac_to_slash(s, t, n + 16) && try_rational(t, &b))))
        num = 1;
    if (!num) {
        /* text: trimmed, runs of whitespace collapsed, ASCII lowercased */
        sb_reset(&b);
        int sp = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)in[i];
            if (isspace(ch)) { sp = b.len > 0; continue; }
            if (sp) { sb_putc(&b, ' '); sp = 0; }
            sb_putc(&b, (char)tolower(ch));
        }
        if (!b.s) sb_puts(&b, "");
    }
    free(s);
    free(t);
    *out = sb_steal(&b);
    return num;
}

/* The contents of the last \boxed{...} (balanced braces), or NULL. */
static char *last_boxed(const char *t) {
    const char *p = NULL, *q = t;
    while ((q = strstr(q, "\\boxed{"))) { p = q; q += 7; }
    if (!p) return NULL;
    p += 7;
    int depth = 1;
    const char *e = p;
    while (*e && depth) {
        if (*e == '{') depth++;
        else if (*e == '}') depth--;
        if (depth) e++;
    }
    if (depth) return NULL;
    char *r = xmalloc((size_t)(e - p) + 1);
    memcpy(r, p, (size_t)(e - p));
    r[e - p] = 0;
    return r;
}

/* zh when Han characters (a word each) are at least as many as Latin words,
 * counted over the prompt and the response together: an English instruction
 * appended to a Chinese question must not make it English. */
static void count_script(const char *s, size_t *han, size_t *latin_words) {
    size_t n = strlen(s);
    const unsigned char *p = (const unsigned char *)s;
    int in_word = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            int a = isalpha(p[i]) != 0;
            if (a && !in_word) (*latin_words)++;
            in_word = a;
            i++;
            continue;
        }
        in_word = 0;
        uint32_t cp;
        int k = utf8_decode(p + i, n - i, &cp);
        if (!k) { i++; continue; }
        *han += (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF);
        i += (size_t)k;
    }
}

static const char *detect_lang(const char *prompt, const char *response) {
    size_t han = 0, words = 0;
    count_script(prompt, &han, &words);
    if (response) count_script(response, &han, &words);
    return han && han >= words ? "zh" : "en";
}

/* ---- lines ----------------------------------------------------------------- */

static const char *str_field(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

typedef struct {
    const char *prompt;     /* points into the parsed JSON */
    strbuf text;            /* the trace */
    char *answer;           /* canonical, owned */
    int answer_num;
    int system;             /* a system turn was dropped */
} parsed;

/* Fill p from one JSON object; returns NULL or a static-ish reason (in why). */
static int parse_line(const import_opts *o, const cJSON *j, parsed *p, strbuf *why) {
    sb_reset(&p->text);
    p->prompt = NULL;
    p->system = 0;
    if (!cJSON_IsObject(j)) { sb_puts(why, "not a JSON object"); return -1; }
    const char *response = NULL, *reasoning = NULL;
    const cJSON *assistant = NULL;
    const char *rfield = o->reasoning_field ? o->reasoning_field : "reasoning_content";
    if (o->prompt_field) {
        p->prompt = str_field(j, o->prompt_field);
        if (!p->prompt) { sb_printf(why, "no string field '%s' for the prompt", o->prompt_field); return -1; }
    }
    if (o->format == IMPORT_PROBLEMS) {
        if (!p->prompt) {
            static const char *f[] = {"prompt", "problem", "question"};
            for (int i = 0; i < 3 && !p->prompt; i++) p->prompt = str_field(j, f[i]);
            if (!p->prompt) { sb_puts(why, "no string field 'prompt', 'problem' or 'question' (name it with --prompt-field)"); return -1; }
        }
    } else {
        if (o->response_field) {
            response = str_field(j, o->response_field);
            if (!response) { sb_printf(why, "no string field '%s' for the response", o->response_field); return -1; }
        }
        if (!p->prompt || !response) {
            const char *mf = o->messages_field ? o->messages_field : "messages";
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, mf);
            if (!m && !o->messages_field) { mf = "conversations"; m = cJSON_GetObjectItemCaseSensitive(j, mf); }
            if (!cJSON_IsArray(m)) {
                sb_printf(why, "no array '%s' of turns%s", o->messages_field ? o->messages_field : "messages",
                          o->messages_field ? "" : " (or 'conversations')");
                return -1;
            }
            const cJSON *turn, *user = NULL;
            int idx = 0;
            cJSON_ArrayForEach(turn, m) {
                idx++;
                const char *role = str_field(turn, "role");
                const char *ckey = "content";
                if (!role) { role = str_field(turn, "from"); ckey = "value"; }
                if (!role) { sb_printf(why, "turn %d has no 'role' (or 'from')", idx); return -1; }
                if (!strcmp(role, "system")) { p->system = 1; continue; }
                const cJSON *content = cJSON_GetObjectItemCaseSensitive(turn, ckey);
                if (!strcmp(role, "user") || !strcmp(role, "human")) {
                    if (user) { sb_puts(why, "more than one user turn (multi-turn chats are not imported)"); return -1; }
                    if (assistant) { sb_printf(why, "turn %d: a user turn after the assistant turn", idx); return -1; }
                    if (!cJSON_IsString(content)) { sb_printf(why, "turn %d: '%s' is not a string", idx, ckey); return -1; }
                    user = content;
                } else if (!strcmp(role, "assistant") || !strcmp(role, "gpt")) {
                    if (assistant) { sb_puts(why, "more than one assistant turn (multi-turn chats are not imported)"); return -1; }
                    if (!user) { sb_printf(why, "turn %d: an assistant turn before any user turn", idx); return -1; }
                    assistant = turn;
                    if (!cJSON_IsString(content)) { sb_printf(why, "turn %d: '%s' is not a string", idx, ckey); return -1; }
                    if (!response) response = content->valuestring;
                } else {
                    sb_printf(why, "turn %d: unknown role '%s'", idx, role);
                    return -1;
                }
            }
            if (!p->prompt) {
                if (!user) { sb_puts(why, "no user turn"); return -1; }
                p->prompt = user->valuestring;
            }
            if (!response) { sb_puts(why, "no assistant turn"); return -1; }
        }
        if (o->format == IMPORT_REASONING) {
            reasoning = assistant ? str_field(assistant, rfield) : NULL;
            if (!reasoning) reasoning = str_field(j, rfield);
            if (!reasoning) { sb_printf(why, "no string '%s' in the assistant turn or the line", rfield); return -1; }
            reasoning_join(&p->text, reasoning, strlen(reasoning), response, strlen(response));
        } else {
            sb_puts(&p->text, response);
        }
        if (!p->text.len) { sb_puts(why, "empty response"); return -1; }
    }
    if (!*p->prompt) { sb_puts(why, "empty prompt"); return -1; }
    /* ground truth */
    const char *af = o->answer_field ? o->answer_field : "answer";
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, af);
    free(p->answer);
    p->answer = NULL;
    if (cJSON_IsString(a)) {
        p->answer_num = import_canon_answer(a->valuestring, &p->answer);
    } else if (cJSON_IsNumber(a)) {
        char num[64];
        if (a->valuedouble == (double)(long long)a->valuedouble && a->valuedouble > -9e15 && a->valuedouble < 9e15)
            snprintf(num, sizeof num, "%lld", (long long)a->valuedouble);
        else
            snprintf(num, sizeof num, "%.17g", a->valuedouble);
        p->answer_num = import_canon_answer(num, &p->answer);
    } else if (a && !cJSON_IsNull(a)) {
        sb_printf(why, "field '%s' is neither a string nor a number", af);
        return -1;
    } else if (o->answer_from_boxed && o->format != IMPORT_PROBLEMS) {
        char *bx = last_boxed(p->text.s);
        if (!bx) { sb_printf(why, "no field '%s' and no \\boxed{} in the response", af); return -1; }
        p->answer_num = import_canon_answer(bx, &p->answer);
        free(bx);
    } else {
        sb_printf(why, "no answer: field '%s' is missing (name it with --answer-field%s)", af,
                  o->format == IMPORT_PROBLEMS ? "" : ", or pass --answer-from-boxed to take the response's last \\boxed{}");
        return -1;
    }
    if (!*p->answer) { free(p->answer); p->answer = NULL; sb_printf(why, "empty answer"); return -1; }
    return 0;
}

/* ---- the database ---------------------------------------------------------- */

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *ins_p, *get_p, *ins_t, *get_t, *ins_teacher;
    int64_t teacher[2];    /* r1, tagged; 0 until needed */
} importer;

static int64_t teacher_id(importer *im, const import_opts *o, int tagged) {
    if (im->teacher[tagged]) return im->teacher[tagged];
    const char *tpl = tagged ? "tagged" : "r1";
    strbuf k, name, params;
    sb_init(&k); sb_init(&name); sb_init(&params);
    sb_printf(&k, "import\n%s\n%s", o->source, tpl);
    char key[65];
    sha256_hex(k.s, k.len, key, 32);
    sb_printf(&name, "import:%s", o->source);
    cJSON *pj = cJSON_CreateObject();
    cJSON_AddStringToObject(pj, "source", o->source);
    char *ps = cJSON_PrintUnformatted(pj);
    cJSON_Delete(pj);
    sqlite3_stmt *st = im->ins_teacher;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name.s, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, ps, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, tpl, -1, SQLITE_STATIC);
    int64_t id = -1;
    if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
    else err_set("recording teacher: %s", sqlite3_errmsg(im->db));
    sqlite3_reset(st);
    free(ps);
    sb_free(&k); sb_free(&name); sb_free(&params);
    if (id > 0) im->teacher[tagged] = id;
    return id;
}

/* Same layout as generated problems: SHA-256 over family, lang, prompt,
 * answer, each NUL-terminated; the first 16 bytes in hex. */
static void problem_hash(const char *family, const char *lang, const char *prompt, const char *answer, char out[33]) {
    sha256_ctx c;
    unsigned char d[32];
    sha256_init(&c);
    sha256_update(&c, family, strlen(family) + 1);
    sha256_update(&c, lang, strlen(lang) + 1);
    sha256_update(&c, prompt, strlen(prompt) + 1);
    sha256_update(&c, answer, strlen(answer) + 1);
    sha256_final(&c, d);
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) { out[2 * i] = hx[d[i] >> 4]; out[2 * i + 1] = hx[d[i] & 15]; }
    out[32] = 0;
}

static int mix_items_equal(sqlite3 *db, int64_t mix_id, const int64_t *ids, size_t n) {
    sqlite3_stmt *st;
    if (db_prepare(db, "SELECT trace_id, split FROM mix_items WHERE mix_id = ? ORDER BY position", &st)) return 0;
    sqlite3_bind_int64(st, 1, mix_id);
    size_t i = 0;
    int eq = 1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (i >= n || sqlite3_column_int64(st, 0) != ids[i] || strcmp((const char *)sqlite3_column_text(st, 1), "train")) { eq = 0; break; }
        i++;
    }
    sqlite3_finalize(st);
    return eq && i == n;
}

static int write_mix(sqlite3 *db, const import_opts *o, const int64_t *ids, size_t n, int *unchanged) {
    sqlite3_stmt *st;
    *unchanged = 0;
    if (db_prepare(db, "SELECT id FROM mixes WHERE name = ?", &st)) return -1;
    sqlite3_bind_text(st, 1, o->mix, -1, SQLITE_STATIC);
    int64_t old = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (old) {
        if (mix_items_equal(db, old, ids, n)) { *unchanged = 1; return 0; }
        if (!o->replace) {
            err_set("--mix: mix '%s' already exists with other items; mixes are immutable: pass --replace to rebuild it", o->mix);
            return -1;
        }
        if (db_prepare(db, "DELETE FROM mix_items WHERE mix_id = ?1", &st)) return -1;
        sqlite3_bind_int64(st, 1, old);
        sqlite3_step(st);
        sqlite3_finalize(st);
        if (db_prepare(db, "DELETE FROM mixes WHERE id = ?1", &st)) return -1;
        sqlite3_bind_int64(st, 1, old);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    cJSON *spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "import", o->path);
    cJSON_AddStringToObject(spec, "source", o->source);
    char *sj = cJSON_PrintUnformatted(spec);
    cJSON_Delete(spec);
    char rep[128];
    snprintf(rep, sizeof rep, "{\"imported_items\":%zu}", n);
    if (db_prepare(db, "INSERT INTO mixes(name, filter_id, spec, report, n_train, n_val, run_id) VALUES (?,NULL,?,?,?,0,?)", &st)) {
        free(sj);
        return -1;
    }
    sqlite3_bind_text(st, 1, o->mix, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sj, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, rep, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (int64_t)n);
    if (o->run_id > 0) sqlite3_bind_int64(st, 5, o->run_id); else sqlite3_bind_null(st, 5);
    free(sj);
    if (sqlite3_step(st) != SQLITE_DONE) { err_set("--mix: %s", sqlite3_errmsg(db)); sqlite3_finalize(st); return -1; }
    sqlite3_finalize(st);
    int64_t mix_id = sqlite3_last_insert_rowid(db);
    if (db_prepare(db, "INSERT INTO mix_items(mix_id, position, trace_id, split) VALUES (?,?,?,'train')", &st)) return -1;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, mix_id);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_int64(st, 3, ids[i]);
        if (sqlite3_step(st) != SQLITE_DONE) { err_set("--mix: %s", sqlite3_errmsg(db)); sqlite3_finalize(st); return -1; }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return 0;
}

int import_jsonl(sqlite3 *db, const import_opts *o, import_stats *s) {
    memset(s, 0, sizeof *s);
    if (!o->source || !*o->source) { err_set("--source: an import needs a source name"); return -1; }
    const char *split = o->split ? o->split : "train";
    if (strcmp(split, "train") && strcmp(split, "eval")) { err_set("--split: '%s' is not train or eval", split); return -1; }
    if (o->mix && !strcmp(split, "eval")) { err_set("--mix: eval-split problems never enter a mix"); return -1; }
    if (o->mix && o->format == IMPORT_PROBLEMS) { err_set("--mix: the problems format imports no traces"); return -1; }
    FILE *f = fopen(o->path, "rb");
    if (!f) { err_set("%s: %s", o->path, strerror(errno)); return -1; }
    const char *family = o->family ? o->family : "import";
    const char *task = o->task ? o->task : "import";

    importer im = {.db = db};
    int rc = -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    strbuf bad, why;
    sb_init(&bad); sb_init(&why);
    parsed p = {0};
    sb_init(&p.text);
    int64_t *mix_ids = NULL;
    size_t n_mix = 0, cap_mix = 0;
    uint64_t eval_skipped = 0;

    if (db_begin(db)) { fclose(f); return -1; }
    if (db_prepare(db, "INSERT INTO problems(hash, family, task, lang, prompt, answer, answer_type, reasoning, split, source, run_id) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(hash) DO NOTHING", &im.ins_p) ||
        db_prepare(db, "SELECT id, split FROM problems WHERE hash = ?", &im.get_p) ||
        db_prepare(db, "SELECT id, sample_index, text = ?3 FROM traces WHERE problem_id = ?1 AND teacher_id = ?2", &im.get_t) ||
        db_prepare(db, "INSERT INTO traces(problem_id, teacher_id, sample_index, text, finish_reason, think_prefilled, run_id) "
                       "VALUES (?,?,?,?,'stop',0,?)", &im.ins_t) ||
        db_prepare(db, "INSERT INTO teachers(key, name, params, template, template_text, think_prefill) "
                       "VALUES (?,?,?,?,'{prompt}',0) ON CONFLICT(key) DO UPDATE SET key = excluded.key RETURNING id",
                   &im.ins_teacher))
        goto out;

    while ((len = getline(&line, &cap, f)) != -1) {
        s->lines++;
        size_t k = 0;
        while (k < (size_t)len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r' || line[k] == '\n')) k++;
        if (k == (size_t)len) { s->blank++; continue; }
        sb_reset(&why);
        size_t inv = utf8_invalid_at(line, (size_t)len);
        cJSON *j = NULL;
        if (inv != (size_t)-1) {
            sb_printf(&why, "invalid UTF-8 at byte %zu", inv + 1);
        } else if (memchr(line, 0, (size_t)len)) {
            sb_puts(&why, "a NUL byte in the line");
        } else if (!(j = cJSON_ParseWithLength(line, (size_t)len))) {
            const char *e = cJSON_GetErrorPtr();
            sb_printf(&why, "not valid JSON (near byte %zu)", e && e >= line && e <= line + len ? (size_t)(e - line) + 1 : (size_t)0);
        } else {
            parse_line(o, j, &p, &why);
        }
        if (why.len) {
            if (s->bad < 20) sb_printf(&bad, "%s%s:%llu: %s", bad.len ? "\n" : "", o->path, (unsigned long long)s->lines, why.s);
            s->bad++;
            cJSON_Delete(j);
            continue;
        }
        s->system_dropped += (uint64_t)p.system;
        const char *lang = o->lang ? o->lang : detect_lang(p.prompt, p.text.len ? p.text.s : NULL);
        char hash[33];
        problem_hash(family, lang, p.prompt, p.answer, hash);
        sqlite3_stmt *st = im.ins_p;
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, family, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, task, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, lang, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, p.prompt, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, p.answer, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, p.answer_num ? "number" : "text", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 8, o->reasoning ? 1 : 0);
        sqlite3_bind_text(st, 9, split, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, o->source, -1, SQLITE_STATIC);
        if (o->run_id > 0) sqlite3_bind_int64(st, 11, o->run_id); else sqlite3_bind_null(st, 11);
        if (sqlite3_step(st) != SQLITE_DONE) {
            err_set("%s:%llu: inserting the problem: %s", o->path, (unsigned long long)s->lines, sqlite3_errmsg(db));
            sqlite3_reset(st);
            cJSON_Delete(j);
            goto out;
        }
        sqlite3_reset(st);
        if (sqlite3_changes(db)) s->problems_new++; else s->problems_seen++;
        sqlite3_bind_text(im.get_p, 1, hash, -1, SQLITE_STATIC);
        int64_t pid = -1;
        int is_eval = 0;
        if (sqlite3_step(im.get_p) == SQLITE_ROW) {
            pid = sqlite3_column_int64(im.get_p, 0);
            is_eval = !strcmp((const char *)sqlite3_column_text(im.get_p, 1), "eval");
        }
        sqlite3_reset(im.get_p);
        if (pid < 0) { err_set("%s:%llu: problem vanished", o->path, (unsigned long long)s->lines); cJSON_Delete(j); goto out; }
        if (o->format != IMPORT_PROBLEMS) {
            int tagged = strstr(p.text.s, "</think>\n<answer>") != NULL;
            int64_t tid = teacher_id(&im, o, tagged);
            if (tid < 0) { cJSON_Delete(j); goto out; }
            st = im.get_t;
            sqlite3_bind_int64(st, 1, pid);
            sqlite3_bind_int64(st, 2, tid);
            sqlite3_bind_text(st, 3, p.text.s, (int)p.text.len, SQLITE_STATIC);
            int64_t next = 0, trace = -1;
            while (sqlite3_step(st) == SQLITE_ROW) {
                int64_t si = sqlite3_column_int64(st, 1);
                if (si >= next) next = si + 1;
                if (sqlite3_column_int(st, 2)) trace = sqlite3_column_int64(st, 0);
            }
            sqlite3_reset(st);
            if (trace < 0) {
                st = im.ins_t;
                sqlite3_bind_int64(st, 1, pid);
                sqlite3_bind_int64(st, 2, tid);
                sqlite3_bind_int64(st, 3, next);
                sqlite3_bind_text(st, 4, p.text.s, (int)p.text.len, SQLITE_STATIC);
                if (o->run_id > 0) sqlite3_bind_int64(st, 5, o->run_id); else sqlite3_bind_null(st, 5);
                if (sqlite3_step(st) != SQLITE_DONE) {
                    err_set("%s:%llu: inserting the trace: %s", o->path, (unsigned long long)s->lines, sqlite3_errmsg(db));
                    sqlite3_reset(st);
                    cJSON_Delete(j);
                    goto out;
                }
                sqlite3_reset(st);
                trace = sqlite3_last_insert_rowid(db);
                s->traces_new++;
            } else {
                s->traces_seen++;
            }
            if (o->mix) {
                if (is_eval) eval_skipped++;
                else {
                    if (n_mix == cap_mix) mix_ids = xrealloc(mix_ids, (cap_mix = cap_mix ? 2 * cap_mix : 4096) * sizeof *mix_ids);
                    mix_ids[n_mix++] = trace;
                }
            }
        }
        cJSON_Delete(j);
    }
    if (ferror(f)) { err_set("%s: read error", o->path); goto out; }
    if (s->bad && !o->skip_bad) {
        err_set("%llu bad line%s, nothing imported (pass --skip-bad to import the rest):\n%s%s",
                (unsigned long long)s->bad, s->bad == 1 ? "" : "s", bad.s, s->bad > 20 ? "\n..." : "");
        goto out;
    }
    if (eval_skipped) msg("warning: %llu traces belong to eval-split problems and were left out of mix '%s'",
                          (unsigned long long)eval_skipped, o->mix);
    if (o->mix) {
        int unchanged;
        if (write_mix(db, o, mix_ids, n_mix, &unchanged)) goto out;
        s->mix_items = unchanged ? 0 : n_mix;
    }
    if (db_commit(db)) goto out;
    rc = 0;
out:
    if (bad.len) s->bad_report = sb_steal(&bad);
    sb_free(&bad); sb_free(&why); sb_free(&p.text);
    free(p.answer);
    free(line);
    free(mix_ids);
    fclose(f);
    sqlite3_finalize(im.ins_p); sqlite3_finalize(im.get_p); sqlite3_finalize(im.ins_t);
    sqlite3_finalize(im.get_t); sqlite3_finalize(im.ins_teacher);
    if (rc) db_rollback(db);
    return rc;
}
