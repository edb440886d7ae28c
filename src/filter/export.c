#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include "filter/export.h"
#include "core/err.h"
#include "core/utf8.h"

/* 0: copy as is; 1: escape (control, quote, backslash); 2: non-ASCII, validate */
static const unsigned char json_class[256] = {
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2, 2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2, 2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2, 2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2, 2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
};

void json_put_string(strbuf *b, const char *s, size_t n, uint64_t *n_invalid) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    /* worst case: every byte becomes \u00XX (6 bytes) or U+FFFD (3 bytes) */
    sb_grow(b, 6 * n + 2);
    char *o = b->s + b->len;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !json_class[p[j]]) j++;
        if (j > i) { memcpy(o, p + i, j - i); o += j - i; i = j; }
        if (i >= n) break;
        unsigned char ch = p[i];
        if (json_class[ch] == 1) {
            *o++ = '\\';
            switch (ch) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default:
                *o++ = 'u'; *o++ = '0'; *o++ = '0';
                *o++ = hex[ch >> 4]; *o++ = hex[ch & 15];
            }
            i++;
        } else {
            uint32_t cp;
            int k = utf8_decode(p + i, n - i, &cp);
            if (k) {
                memcpy(o, p + i, (size_t)k);
                o += k;
                i += (size_t)k;
            } else {
                *o++ = (char)0xEF; *o++ = (char)0xBF; *o++ = (char)0xBD;
                if (n_invalid) (*n_invalid)++;
                i++;
            }
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->s);
    b->s[b->len] = 0;
}

void reasoning_split(const char *t, size_t n, size_t *r_at, size_t *r_len, size_t *c_at, size_t *c_len) {
    static const char open[] = "<think>", close[] = "</think>";
    *r_at = *r_len = 0;
    *c_at = 0; *c_len = n;
    if (n < 7 || memcmp(t, open, 7) != 0) return;
    const char *e = memmem(t + 7, n - 7, close, 8);
    if (!e) return;
    size_t rs = 7, re = (size_t)(e - t);
    if (rs < re && t[rs] == '\n') rs++;
    if (re > rs && t[re - 1] == '\n') re--;
    size_t cs = (size_t)(e - t) + 8;
    while (cs < n && (t[cs] == ' ' || t[cs] == '\n' || t[cs] == '\r' || t[cs] == '\t')) cs++;
    *r_at = rs; *r_len = re - rs;
    *c_at = cs; *c_len = n - cs;
}

void reasoning_join(strbuf *b, const char *r, size_t rn, const char *c, size_t cn) {
    if (rn) {
        sb_puts(b, "<think>\n");
        sb_putn(b, r, rn);
        sb_puts(b, "\n</think>\n\n");
    }
    sb_putn(b, c, cn);
}

int export_format_parse(const char *s, export_format *f) {
    if (!strcmp(s, "messages")) *f = EXPORT_MESSAGES;
    else if (!strcmp(s, "sharegpt")) *f = EXPORT_SHAREGPT;
    else if (!strcmp(s, "reasoning")) *f = EXPORT_REASONING;
    else if (!strcmp(s, "prompt-completion")) *f = EXPORT_PROMPT_COMPLETION;
    else return -1;
    return 0;
}

#define FLUSH_AT (1u << 20)

int export_mix(sqlite3 *db, const export_opts *o, export_stats *stats) {
    memset(stats, 0, sizeof *stats);
    if (o->system && o->format == EXPORT_PROMPT_COMPLETION) {
        err_set("--system: the prompt-completion format has no place for a system prompt");
        return -1;
    }
    const char *split = o->split ? o->split : "train";
    if (strcmp(split, "train") && strcmp(split, "val") && strcmp(split, "all")) {
        err_set("--split: '%s' is not train, val or all", split);
        return -1;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id, n_train, n_val FROM mixes WHERE name = ?", -1, &st, NULL) != SQLITE_OK) {
        err_set("%s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(st, 1, o->mix, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        err_set("--mix: no mix named '%s' (see SELECT name, n_train, n_val FROM mixes)", o->mix);
        return -1;
    }
    int64_t mix_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);

    /* Mix order visits traces in shuffled order: a large page cache keeps
     * re-visited pages of traces/problems in memory. */
    sqlite3_exec(db, "PRAGMA cache_size = -262144", NULL, NULL, NULL);
    /* Mix order: the primary key (mix_id, position) walks it without a sort. */
    const char *sql =
        "SELECT replace(tc.template_text, '{prompt}', p.prompt), "
        "       CASE WHEN t.think_prefilled THEN '<think>' || char(10) || t.text ELSE t.text END "
        "FROM mix_items mi JOIN traces t ON t.id = mi.trace_id JOIN teachers tc ON tc.id = t.teacher_id "
        "JOIN problems p ON p.id = t.problem_id "
        "WHERE mi.mix_id = ?1 AND (?2 = 'all' OR mi.split = ?2) ORDER BY mi.position";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        err_set("%s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, mix_id);
    sqlite3_bind_text(st, 2, split, -1, SQLITE_STATIC);

    int to_stdout = !strcmp(o->out, "-");
    char *tmp = NULL;
    FILE *f;
    if (to_stdout) {
        f = stdout;
    } else {
        size_t L = strlen(o->out);
        tmp = xmalloc(L + 5);
        memcpy(tmp, o->out, L);
        memcpy(tmp + L, ".tmp", 5);
        f = fopen(tmp, "wb");
        if (!f) {
            err_set("%s: %s", tmp, strerror(errno));
            free(tmp);
            sqlite3_finalize(st);
            return -1;
        }
    }
    strbuf b;
    sb_init(&b);
    sb_grow(&b, FLUSH_AT * 2);
    strbuf sys;
    sb_init(&sys);
    if (o->system) json_put_string(&sys, o->system, strlen(o->system), &stats->invalid_bytes);
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *u = (const char *)sqlite3_column_text(st, 0);
        size_t un = (size_t)sqlite3_column_bytes(st, 0);
        const char *a = (const char *)sqlite3_column_text(st, 1);
        size_t an = (size_t)sqlite3_column_bytes(st, 1);
        if (!u) u = "";
        if (!a) a = "";
        switch (o->format) {
        case EXPORT_MESSAGES:
        case EXPORT_REASONING:
            sb_puts(&b, "{\"messages\":[");
            if (o->system) { sb_puts(&b, "{\"role\":\"system\",\"content\":"); sb_putn(&b, sys.s, sys.len); sb_puts(&b, "},"); }
            sb_puts(&b, "{\"role\":\"user\",\"content\":");
            json_put_string(&b, u, un, &stats->invalid_bytes);
            if (o->format == EXPORT_MESSAGES) {
                sb_puts(&b, "},{\"role\":\"assistant\",\"content\":");
                json_put_string(&b, a, an, &stats->invalid_bytes);
            } else {
                size_t ra, rl, ca, cl;
                reasoning_split(a, an, &ra, &rl, &ca, &cl);
                sb_puts(&b, "},{\"role\":\"assistant\",\"reasoning_content\":");
                json_put_string(&b, a + ra, rl, &stats->invalid_bytes);
                sb_puts(&b, ",\"content\":");
                json_put_string(&b, a + ca, cl, &stats->invalid_bytes);
            }
            sb_puts(&b, "}]}\n");
            break;
        case EXPORT_SHAREGPT:
            sb_puts(&b, "{\"conversations\":[");
            if (o->system) { sb_puts(&b, "{\"from\":\"system\",\"value\":"); sb_putn(&b, sys.s, sys.len); sb_puts(&b, "},"); }
            sb_puts(&b, "{\"from\":\"human\",\"value\":");
            json_put_string(&b, u, un, &stats->invalid_bytes);
            sb_puts(&b, "},{\"from\":\"gpt\",\"value\":");
            json_put_string(&b, a, an, &stats->invalid_bytes);
            sb_puts(&b, "}]}\n");
            break;
        case EXPORT_PROMPT_COMPLETION:
            sb_puts(&b, "{\"prompt\":");
            json_put_string(&b, u, un, &stats->invalid_bytes);
            sb_puts(&b, ",\"completion\":");
            json_put_string(&b, a, an, &stats->invalid_bytes);
            sb_puts(&b, "}\n");
            break;
        }
        stats->lines++;
        if (b.len >= FLUSH_AT) {
            if (fwrite(b.s, 1, b.len, f) != b.len) { err_set("%s: %s", to_stdout ? "stdout" : tmp, strerror(errno)); rc = -1; break; }
            stats->bytes += b.len;
            sb_reset(&b);
        }
    }
    if (!rc && step != SQLITE_DONE) { err_set("reading mix '%s': %s", o->mix, sqlite3_errmsg(db)); rc = -1; }
    if (!rc && b.len) {
        if (fwrite(b.s, 1, b.len, f) != b.len) { err_set("%s: %s", to_stdout ? "stdout" : tmp, strerror(errno)); rc = -1; }
        stats->bytes += b.len;
    }
    sqlite3_finalize(st);
    sb_free(&b);
    sb_free(&sys);
    if (to_stdout) {
        if (fflush(stdout) && !rc) { err_set("stdout: %s", strerror(errno)); rc = -1; }
        return rc;
    }
    if (fclose(f) && !rc) { err_set("%s: %s", tmp, strerror(errno)); rc = -1; }
    if (!rc && rename(tmp, o->out)) { err_set("renaming %s to %s: %s", tmp, o->out, strerror(errno)); rc = -1; }
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}
