#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "filter/format.h"

/* Byte-wise (no PCRE2_UTF): the tags are ASCII and the text was validated
 * before, so UTF checks would only cost time. */
static const char TAG_PATTERN[] = "<(/?)(think|answer|verifier_answer)>";

static pcre2_code *tag_re;
static pthread_once_t tag_once = PTHREAD_ONCE_INIT;
static char tag_err[256];

static void compile_tags(void) {
    int ec;
    PCRE2_SIZE eo;
    tag_re = pcre2_compile((PCRE2_SPTR)TAG_PATTERN, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
    if (!tag_re) {
        pcre2_get_error_message(ec, (PCRE2_UCHAR *)tag_err, sizeof tag_err);
        return;
    }
    if (pcre2_jit_compile(tag_re, PCRE2_JIT_COMPLETE) != 0) {
        snprintf(tag_err, sizeof tag_err, "PCRE2 JIT is not available");
        pcre2_code_free(tag_re);
        tag_re = NULL;
    }
}

struct fmt_scratch {
    pcre2_match_data *md;
};

fmt_scratch *fmt_scratch_new(void) {
    pthread_once(&tag_once, compile_tags);
    if (!tag_re) { err_set("compiling the tag pattern: %s", tag_err); return NULL; }
    fmt_scratch *s = xcalloc(1, sizeof *s);
    s->md = pcre2_match_data_create_from_pattern(tag_re, NULL);
    return s;
}

void fmt_scratch_free(fmt_scratch *s) {
    if (!s) return;
    pcre2_match_data_free(s->md);
    free(s);
}

enum { T_THINK = 0, T_ANSWER = 1, T_VERIFIER = 2 };
typedef struct { unsigned char kind, close; size_t start, end; } tag;

static int all_ws(const char *s, size_t a, size_t b) {
    for (size_t i = a; i < b; i++) {
        char c = s[i];
        if (!(c == ' ' || c == '\n' || c == '\t' || c == '\r')) return 0;
    }
    return 1;
}

int fmt_check(fmt_scratch *S, fmt_kind kind, int prefilled, const char *text, size_t n, fmt_result *r) {
    tag tags[FMT_MAX_TAGS];
    int nt = 0;
    r->status = "ok";
    r->cot = text;
    r->cot_len = n;
    r->answer = text;
    r->answer_len = n;
    r->answer_is_tag = 0;

    PCRE2_SIZE off = 0;
    while (off < n) {
        int rc = pcre2_jit_match(tag_re, (PCRE2_SPTR)text, n, off, 0, S->md, NULL);
        if (rc < 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(S->md);
        if (nt == FMT_MAX_TAGS) { r->status = "too_many_tags"; return 0; }
        tag *t = &tags[nt++];
        t->close = ov[3] > ov[2];
        t->kind = text[ov[4]] == 't' ? T_THINK : text[ov[4]] == 'a' ? T_ANSWER : T_VERIFIER;
        t->start = ov[0];
        t->end = ov[1];
        off = ov[1];
    }

    int i = 0;
    size_t think_start = 0;
    if (!prefilled) {
        if (nt == 0 || tags[0].kind != T_THINK || tags[0].close) {
            r->status = "missing_think_open";
            /* measure the CoT up to a closing tag if there is one */
            for (int k = 0; k < nt; k++)
                if (tags[k].kind == T_THINK && tags[k].close) { r->cot_len = tags[k].start; break; }
            return 0;
        }
        if (!all_ws(text, 0, tags[0].start)) r->status = "text_before_think";
        think_start = tags[0].end;
        i = 1;
    }
    for (; i < nt; i++) {
        if (tags[i].kind == T_THINK && tags[i].close) break;
        if (r->status[0] == 'o') {
            if (tags[i].kind == T_THINK) r->status = prefilled ? "think_in_prefilled" : "nested_think";
            else if (tags[i].close) r->status = "stray_close";
            else r->status = "tag_in_think";
        }
    }
    if (i == nt) {
        r->cot = text + think_start;
        r->cot_len = n - think_start;
        r->answer_len = 0;
        if (r->status[0] == 'o') r->status = "missing_think_close";
        return 0;
    }
    r->cot = text + think_start;
    r->cot_len = tags[i].start - think_start;
    if (all_ws(text, think_start, tags[i].start) && r->status[0] == 'o') r->status = "empty_think";
    size_t rest = tags[i].end;
    r->answer = text + rest;
    r->answer_len = n - rest;
    i++;

    int in_answer = 0, in_ver = 0, n_answer = 0, n_ver = 0;
    size_t ans_open = 0, ans_close = 0, first_answer_tag = n;
    for (; i < nt && r->status[0] == 'o'; i++) {
        tag *t = &tags[i];
        switch (t->kind) {
        case T_THINK:
            r->status = t->close ? "stray_close" : "duplicate_think";
            break;
        case T_ANSWER:
            if (!t->close) {
                if (in_answer) r->status = "nested_tag";
                else if (n_answer) r->status = "duplicate_answer";
                else { in_answer = 1; ans_open = t->end; if (first_answer_tag == n) first_answer_tag = t->start; }
            } else {
                if (!in_answer) r->status = "stray_close";
                else if (in_ver) r->status = "unclosed_tag";
                else { in_answer = 0; n_answer++; ans_close = t->start; }
            }
            break;
        case T_VERIFIER:
            if (!t->close) {
                if (in_ver) r->status = "nested_tag";
                else if (n_ver) r->status = "duplicate_answer";
                else if (kind == FMT_TAGGED && !in_answer) r->status = "verifier_outside_answer";
                else { in_ver = 1; if (first_answer_tag == n) first_answer_tag = t->start; }
            } else {
                if (!in_ver) r->status = "stray_close";
                else { in_ver = 0; n_ver++; }
            }
            break;
        }
    }
    if (r->status[0] != 'o') return 0;
    if (in_answer || in_ver) { r->status = in_answer && kind == FMT_TAGGED ? "unclosed_answer" : "unclosed_tag"; return 0; }
    if (n_answer) {
        r->answer = text + ans_open;
        r->answer_len = ans_close - ans_open;
        r->answer_is_tag = 1;
    }
    if (kind == FMT_TAGGED) {
        if (!n_answer) { r->status = "missing_answer"; return 0; }
        if (!all_ws(text, rest, first_answer_tag)) { r->status = "text_outside"; return 0; }
        /* after </answer>: the closing tag is 9 bytes */
        if (!all_ws(text, ans_close + 9, n)) { r->status = "text_outside"; return 0; }
    }
    if (all_ws(r->answer, 0, r->answer_len)) { r->status = "empty_answer"; return 0; }
    return 1;
}
