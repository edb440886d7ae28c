#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "core/hash.h"
#include "core/utf8.h"
#include "filter/judge.h"
#include "filter/words.h"

const char *const reason_names[R_COUNT] = {
    [R_EMPTY] = "empty", [R_NUL_BYTE] = "nul_byte", [R_INVALID_UTF8] = "invalid_utf8",
    [R_TOO_LONG] = "too_long", [R_TOO_SHORT] = "too_short", [R_TOO_MANY_TOKENS] = "too_many_tokens",
    [R_TOO_FEW_TOKENS] = "too_few_tokens", [R_FINISH_LENGTH] = "finish_length", [R_FINISH_ERROR] = "finish_error",
    [R_FORMAT] = "format", [R_NO_ANSWER] = "no_answer", [R_AMBIGUOUS] = "ambiguous_answer",
    [R_BAD_ANSWER] = "bad_answer", [R_WRONG_ANSWER] = "wrong_answer", [R_LANG_MIX] = "lang_mix",
    [R_DUP_NGRAM] = "dup_ngram", [R_TOP_NGRAM] = "top_ngram", [R_LOOP] = "loop", [R_DUPLICATE] = "duplicate",
};

void reasons_put(strbuf *b, uint32_t mask) {
    int first = 1;
    for (int r = 0; r < R_COUNT; r++) {
        if (!(mask & (1u << r))) continue;
        if (!first) sb_putc(b, ',');
        sb_puts(b, reason_names[r]);
        first = 0;
    }
}

const char *policy_name(keep_policy p) { return p == POLICY_SHORTEST ? "shortest" : p == POLICY_RANDOM ? "random" : "all"; }

void filter_config_default(filter_config *c) {
    *c = (filter_config){
        .min_chars = 16, .max_chars = 131072,
        .min_tokens = 0, .max_tokens = 32768,
        .lang_min_ratio = 0.9,
        .dup_ngram = {0.15, 0.14, 0.13, 0.12, 0.11, 0.10},
        .top_ngram = {0.20, 0.18, 0.16},
        .rep_min_words = 100,
        .loop_min_chars = 200, .loop_min_repeats = 4, .loop_window = 8192,
        .reject_finish_length = 1,
        .per_problem = 0, .policy = POLICY_ALL, .seed = 0,
    };
}

/* Shortest text that reads back as the same double. */
static void put_num(strbuf *b, double v) {
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v) snprintf(tmp, sizeof tmp, "%.17g", v);
    sb_puts(b, tmp);
}

char *filter_config_json(const filter_config *c) {
    strbuf b;
    sb_init(&b);
    sb_puts(&b, "{\"dup_ngram\":[");
    for (int k = 0; k < REP_DUP_NN; k++) { if (k) sb_putc(&b, ','); put_num(&b, c->dup_ngram[k]); }
    sb_printf(&b, "],\"finish_length\":%s,\"lang_min_ratio\":", c->reject_finish_length ? "true" : "false");
    put_num(&b, c->lang_min_ratio);
    sb_printf(&b, ",\"loop_min_chars\":%lld,\"loop_min_repeats\":%lld,\"loop_window\":%lld",
              (long long)c->loop_min_chars, (long long)c->loop_min_repeats, (long long)c->loop_window);
    sb_printf(&b, ",\"max_chars\":%lld,\"max_tokens\":%lld,\"min_chars\":%lld,\"min_tokens\":%lld",
              (long long)c->max_chars, (long long)c->max_tokens, (long long)c->min_chars, (long long)c->min_tokens);
    sb_printf(&b, ",\"per_problem\":%lld,\"policy\":\"%s\",\"rep_min_words\":%lld,\"seed\":%llu,\"top_ngram\":[",
              (long long)c->per_problem, policy_name(c->policy), (long long)c->rep_min_words, (unsigned long long)c->seed);
    for (int k = 0; k < REP_TOP_NN; k++) { if (k) sb_putc(&b, ','); put_num(&b, c->top_ngram[k]); }
    sb_puts(&b, "],\"version\":1}");
    return sb_steal(&b);
}

static int get_int(const cJSON *it, int64_t *out) {
    if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || fabs(it->valuedouble) > 9e15) {
        err_set("config key '%s': expected an integer", it->string);
        return -1;
    }
    *out = (int64_t)it->valuedouble;
    return 0;
}

static int get_list(const cJSON *it, double *out, int n) {
    if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != n) {
        err_set("config key '%s': expected an array of %d numbers", it->string, n);
        return -1;
    }
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, it) {
        if (!cJSON_IsNumber(e)) { err_set("config key '%s': element %d is not a number", it->string, k); return -1; }
        out[k++] = e->valuedouble;
    }
    return 0;
}

int filter_config_from_json(filter_config *c, const cJSON *j) {
    if (!cJSON_IsObject(j)) { err_set("config: expected a JSON object"); return -1; }
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        const char *k = it->string;
        int64_t v;
        int rc = 0;
        if (!strcmp(k, "dup_ngram")) rc = get_list(it, c->dup_ngram, REP_DUP_NN);
        else if (!strcmp(k, "top_ngram")) rc = get_list(it, c->top_ngram, REP_TOP_NN);
        else if (!strcmp(k, "finish_length")) {
            if (!cJSON_IsBool(it)) { err_set("config key 'finish_length': expected true or false"); return -1; }
            c->reject_finish_length = cJSON_IsTrue(it);
        } else if (!strcmp(k, "lang_min_ratio")) {
            if (!cJSON_IsNumber(it)) { err_set("config key 'lang_min_ratio': expected a number"); return -1; }
            c->lang_min_ratio = it->valuedouble;
        } else if (!strcmp(k, "policy")) {
            const char *s = cJSON_GetStringValue(it);
            if (s && !strcmp(s, "all")) c->policy = POLICY_ALL;
            else if (s && !strcmp(s, "shortest")) c->policy = POLICY_SHORTEST;
            else if (s && !strcmp(s, "random")) c->policy = POLICY_RANDOM;
            else { err_set("config key 'policy': expected \"all\", \"shortest\" or \"random\""); return -1; }
        } else if (!strcmp(k, "version")) {
            if (get_int(it, &v)) return -1;
            if (v != 1) { err_set("config key 'version': this retort reads version 1"); return -1; }
        } else {
            struct { const char *name; int64_t *p; } ints[] = {
                {"min_chars", &c->min_chars}, {"max_chars", &c->max_chars}, {"min_tokens", &c->min_tokens},
                {"max_tokens", &c->max_tokens}, {"rep_min_words", &c->rep_min_words},
                {"loop_min_chars", &c->loop_min_chars}, {"loop_min_repeats", &c->loop_min_repeats},
                {"loop_window", &c->loop_window}, {"per_problem", &c->per_problem}, {NULL, NULL}};
            int found = 0;
            for (int i = 0; ints[i].name; i++)
                if (!strcmp(k, ints[i].name)) { found = 1; rc = get_int(it, ints[i].p); break; }
            if (!found && !strcmp(k, "seed")) {
                found = 1;
                if (!(rc = get_int(it, &v))) c->seed = (uint64_t)v;
            }
            if (!found) { err_set("config: unknown key '%s'", k); return -1; }
        }
        if (rc) return -1;
    }
    return filter_config_validate(c);
}

int filter_config_validate(const filter_config *c) {
    if (c->min_chars < 0 || c->max_chars < c->min_chars) { err_set("config: need 0 <= min_chars <= max_chars"); return -1; }
    if (c->min_tokens < 0 || c->max_tokens < c->min_tokens) { err_set("config: need 0 <= min_tokens <= max_tokens"); return -1; }
    if (!(c->lang_min_ratio >= 0 && c->lang_min_ratio <= 1)) { err_set("config: lang_min_ratio must be in [0,1]"); return -1; }
    for (int k = 0; k < REP_DUP_NN; k++)
        if (!(c->dup_ngram[k] >= 0 && c->dup_ngram[k] <= 1)) { err_set("config: dup_ngram values must be in [0,1]"); return -1; }
    for (int k = 0; k < REP_TOP_NN; k++)
        if (!(c->top_ngram[k] >= 0 && c->top_ngram[k] <= 1)) { err_set("config: top_ngram values must be in [0,1]"); return -1; }
    if (c->rep_min_words < 0 || c->loop_min_chars < 33 || c->loop_min_repeats < 2 || c->loop_window < 64) {
        err_set("config: need rep_min_words >= 0, loop_min_chars >= 33, loop_min_repeats >= 2, loop_window >= 64");
        return -1;
    }
    if (c->per_problem < 0) { err_set("config: per_problem must be >= 0"); return -1; }
    return 0;
}

struct judge_ctx {
    filter_config cfg;
    fmt_scratch *fmt;
    ans_scratch *ans;
    rep_scratch *rep;
    cot_words words;
};

judge_ctx *judge_new(const filter_config *cfg) {
    judge_ctx *j = xcalloc(1, sizeof *j);
    j->cfg = *cfg;
    j->fmt = fmt_scratch_new();
    if (!j->fmt) { free(j); return NULL; }
    j->ans = ans_scratch_new();
    j->rep = rep_scratch_new();
    return j;
}

void judge_free(judge_ctx *j) {
    if (!j) return;
    fmt_scratch_free(j->fmt);
    ans_scratch_free(j->ans);
    rep_scratch_free(j->rep);
    cot_words_free(&j->words);
    free(j);
}

ans_scratch *judge_ans_scratch(judge_ctx *j) { return j->ans; }

void verdict_init(verdict_t *v) {
    memset(v, 0, sizeof *v);
    sb_init(&v->answer_norm);
}

void verdict_free(verdict_t *v) { sb_free(&v->answer_norm); }

/* One pass: NULs, UTF-8 validity, character count, and the hash of the text
 * with whitespace runs collapsed (exact-duplicate detection). Returns the
 * reason bit for the first problem, 0 when clean. */
#define LANE(b) do { lanes[pos & 3] = (lanes[pos & 3] ^ (b)) * 1099511628211ULL; pos++; } while (0)
static uint32_t scan_bytes(const unsigned char *s, size_t n, int64_t *nchars, uint64_t *hash) {
    /* four independent FNV lanes over the normalized stream (byte k goes to
     * lane k % 4): the same normalized text gives the same hash, and the
     * multiplies do not wait on each other */
    uint64_t lanes[4] = {1469598103934665603ULL, 2, 3, 4};
    size_t pos = 0;
    int64_t chars = 0;
    int in_ws = 1;   /* leading whitespace is dropped too */
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == 0) return 1u << R_NUL_BYTE;
            if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
                if (!in_ws) { LANE(' '); in_ws = 1; }
            } else {
                LANE(c);
                in_ws = 0;
            }
            chars++;
            i++;
            continue;
        }
        uint32_t cp;
        int k = utf8_decode(s + i, n - i, &cp);
        if (!k) return 1u << R_INVALID_UTF8;
        for (int t = 0; t < k; t++) LANE(s[i + t]);
        in_ws = 0;
        chars++;
        i += (size_t)k;
    }
    *nchars = chars;
    *hash = mix64(lanes[0] ^ mix64(lanes[1] ^ mix64(lanes[2] ^ mix64(lanes[3] ^ pos))));
    return 0;
}

void judge_trace(judge_ctx *j, const judge_input *in, verdict_t *v) {
    const filter_config *cfg = &j->cfg;
    v->pass = 0;
    v->reasons = 0;
    v->format_status = "ok";
    v->answer = NULL;
    v->answer_len = 0;
    sb_reset(&v->answer_norm);
    v->correct = -1;
    v->lang_ratio = -1;
    v->dup_excess = v->top_excess = NAN;
    v->rep_measured = 0;
    for (int k = 0; k < REP_DUP_NN; k++) v->dup[k] = 0;
    for (int k = 0; k < REP_TOP_NN; k++) v->top[k] = 0;
    v->loop_period = 0;
    v->n_chars = (int64_t)in->len;
    v->n_words = 0;
    v->text_hash = 0;

    /* Input that cannot be judged further: rejected with its reason, cheaply. */
    if (in->len == 0 || !in->text) { v->reasons = 1u << R_EMPTY; v->n_chars = 0; return; }
    if ((int64_t)in->len > 4 * cfg->max_chars) {   /* more bytes than max_chars could ever need */
        v->reasons = 1u << R_TOO_LONG;
        v->format_status = "not_checked";
        return;
    }
    uint32_t bad = scan_bytes((const unsigned char *)in->text, in->len, &v->n_chars, &v->text_hash);
    if (bad) { v->reasons = bad; v->format_status = "not_checked"; return; }
    if (v->n_chars > cfg->max_chars) { v->reasons = 1u << R_TOO_LONG; v->format_status = "not_checked"; return; }

    uint32_t r = 0;
    if (v->n_chars < cfg->min_chars) r |= 1u << R_TOO_SHORT;
    if (in->n_tokens >= 0) {
        if (in->n_tokens > cfg->max_tokens) r |= 1u << R_TOO_MANY_TOKENS;
        if (in->n_tokens < cfg->min_tokens) r |= 1u << R_TOO_FEW_TOKENS;
    }
    if (in->finish == FINISH_LENGTH && cfg->reject_finish_length) r |= 1u << R_FINISH_LENGTH;
    if (in->finish == FINISH_ERROR) r |= 1u << R_FINISH_ERROR;

    fmt_result f;
    if (!fmt_check(j->fmt, in->format, in->prefilled, in->text, in->len, &f)) r |= 1u << R_FORMAT;
    v->format_status = f.status;

    ans_extract_t ax;
    ans_extract(j->ans, f.answer, f.answer_len, f.answer_is_tag, in->percent, &ax);
    if (ax.ans) {
        v->answer = ax.ans;
        v->answer_len = ax.ans_len > ANS_MAX_LEN ? ANS_MAX_LEN : ax.ans_len;
    }
    switch (ax.status) {
    case ANS_NONE: r |= 1u << R_NO_ANSWER; break;
    case ANS_AMBIGUOUS: r |= 1u << R_AMBIGUOUS; v->correct = 0; break;
    case ANS_MALFORMED: r |= 1u << R_BAD_ANSWER; v->correct = 0; break;
    case ANS_FOUND: {
        int ok = ans_compare(j->ans, in->truth, ax.ans, ax.ans_len, in->percent, &v->answer_norm);
        v->correct = ok;
        if (!ok) r |= 1u << (v->answer_norm.len ? R_WRONG_ANSWER : R_BAD_ANSWER);
        break;
    }
    }

    cot_scan(f.cot, f.cot_len, in->lang_scripts, &j->words);
    v->n_words = (int64_t)j->words.n;
    if (in->lang_scripts) {
        v->lang_ratio = lang_ratio(&j->words);
        if (v->lang_ratio >= 0 && v->lang_ratio < cfg->lang_min_ratio) r |= 1u << R_LANG_MIX;
    }

    /* The n-gram statistics mean little on short texts (one repeated bigram in
     * 20 words is already 0.2 of the characters), so they are measured and
     * applied from rep_min_words words on; below that they are stored NULL. */
    if ((int64_t)j->words.n >= cfg->rep_min_words) {
        rep_measure(j->rep, j->words.w, j->words.n, v->dup, v->top);
        v->rep_measured = 1;
        double dx = -1, tx = -1;
        for (int k = 0; k < REP_DUP_NN; k++) if (v->dup[k] - cfg->dup_ngram[k] > dx) dx = v->dup[k] - cfg->dup_ngram[k];
        for (int k = 0; k < REP_TOP_NN; k++) if (v->top[k] - cfg->top_ngram[k] > tx) tx = v->top[k] - cfg->top_ngram[k];
        v->dup_excess = dx;
        v->top_excess = tx;
        if (dx > 0) r |= 1u << R_DUP_NGRAM;
        if (tx > 0) r |= 1u << R_TOP_NGRAM;
    }

    v->loop_period = (int64_t)loop_period(in->text, in->len, (size_t)cfg->loop_window, (size_t)cfg->loop_min_chars,
                                          (int)cfg->loop_min_repeats);
    if (v->loop_period) r |= 1u << R_LOOP;

    v->reasons = r;
    v->pass = r == 0;
}

static void put_int(strbuf *b, int64_t x) {
    char tmp[24];
    int n = 0;
    uint64_t u = x < 0 ? -(uint64_t)x : (uint64_t)x;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (x < 0) sb_putc(b, '-');
    while (n) sb_putc(b, tmp[--n]);
}

/* Fixed three decimals without printf: this runs once per trace. */
static void put_milli(strbuf *b, double x) {
    if (!(x == x)) { sb_puts(b, "null"); return; }
    if (x < 0) { sb_putc(b, '-'); x = -x; }
    long m = lround(x * 1000);
    char tmp[24];
    int n = 0;
    long ip = m / 1000, fp = m % 1000;
    do { tmp[n++] = (char)('0' + ip % 10); ip /= 10; } while (ip);
    while (n) sb_putc(b, tmp[--n]);
    sb_putc(b, '.');
    sb_putc(b, (char)('0' + fp / 100));
    sb_putc(b, (char)('0' + fp / 10 % 10));
    sb_putc(b, (char)('0' + fp % 10));
}

void verdict_measures(const verdict_t *v, strbuf *b) {
    if (!v->rep_measured) {
        sb_puts(b, "{\"words\":");
        put_int(b, v->n_words);
        sb_putc(b, '}');
        return;
    }
    sb_puts(b, "{\"dup\":[");
    for (int k = 0; k < REP_DUP_NN; k++) { if (k) sb_putc(b, ','); put_milli(b, v->dup[k]); }
    sb_puts(b, "],\"top\":[");
    for (int k = 0; k < REP_TOP_NN; k++) { if (k) sb_putc(b, ','); put_milli(b, v->top[k]); }
    sb_puts(b, "],\"words\":");
    put_int(b, v->n_words);
    sb_putc(b, '}');
}

int knobs_percent(const char *knobs) {
    /* the knobs JSON is tiny; look before parsing */
    if (!knobs || !strstr(knobs, "\"percent\"")) return 0;
    cJSON *j = cJSON_Parse(knobs);
    int p = j && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "percent"));
    cJSON_Delete(j);
    return p;
}
