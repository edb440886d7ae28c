#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <utf8proc.h>
#include "filter/decontam.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/strbuf.h"
#include "core/utf8.h"

/* Open addressing, linear probing, power-of-two capacity. Key 0 marks an empty
 * slot, so a hash that happens to be 0 is stored as 1 (on both sides). */
struct decontam {
    int n;
    uint64_t *keys;
    int64_t *refs, *last;
    uint32_t *df;          /* distinct references holding the n-gram */
    size_t cap, used;
    uint32_t common;       /* ignore n-grams with df >= common; 0: none */
    /* word buffers, reused */
    uint64_t *wh;
    size_t *ws, *we, wcap;
};

decontam_t *decontam_new(int ngram) {
    decontam_t *d = xcalloc(1, sizeof *d);
    d->n = ngram < 1 ? 1 : ngram;
    d->cap = 1024;
    d->keys = xcalloc(d->cap, sizeof *d->keys);
    d->refs = xcalloc(d->cap, sizeof *d->refs);
    d->last = xcalloc(d->cap, sizeof *d->last);
    d->df = xcalloc(d->cap, sizeof *d->df);
    return d;
}

void decontam_free(decontam_t *d) {
    if (!d) return;
    free(d->keys); free(d->refs); free(d->last); free(d->df); free(d->wh); free(d->ws); free(d->we);
    free(d);
}

int decontam_ngram(const decontam_t *d) { return d->n; }

void decontam_set_common(decontam_t *d, uint32_t common) { d->common = common; }

size_t decontam_common_count(const decontam_t *d) {
    size_t n = 0;
    if (!d->common) return 0;
    for (size_t i = 0; i < d->cap; i++) n += d->keys[i] && d->df[i] >= d->common;
    return n;
}
size_t decontam_size(const decontam_t *d) { return d->used; }

/* Han ideographs (unified, extensions, compatibility) and kana: one word each. */
static int is_cjk_char(uint32_t c) {
    return (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x20000 && c <= 0x3134F) || (c >= 0x3040 && c <= 0x30FF) || c == 0x3007;
}

static int is_word_char(uint32_t c) {
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    switch (k) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

#define FNV_OFF 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static void push_word(decontam_t *d, size_t *nw, uint64_t h, size_t s, size_t e) {
    if (*nw == d->wcap) {
        d->wcap = d->wcap ? d->wcap * 2 : 256;
        d->wh = xrealloc(d->wh, d->wcap * sizeof *d->wh);
        d->ws = xrealloc(d->ws, d->wcap * sizeof *d->ws);
        d->we = xrealloc(d->we, d->wcap * sizeof *d->we);
    }
    d->wh[*nw] = mix64(h);
    d->ws[*nw] = s;
    d->we[*nw] = e;
    (*nw)++;
}

size_t decontam_words(decontam_t *d, const char *text, size_t n, const uint64_t **hashes,
                      const size_t **starts, const size_t **ends) {
    const unsigned char *p = (const unsigned char *)text;
    size_t nw = 0, i = 0, ws = 0;
    int in_word = 0;
    uint64_t h = FNV_OFF;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            int wc = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
            if (wc) {
                if (!in_word) { in_word = 1; ws = i; h = FNV_OFF; }
                if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
                h = (h ^ c) * FNV_PRIME;
            } else if (in_word) {
                push_word(d, &nw, h, ws, i);
                in_word = 0;
            }
            i++;
            continue;
        }
        uint32_t cp;
        int k = utf8_decode(p + i, n - i, &cp);
        if (!k) {   /* invalid byte: a separator */
            if (in_word) { push_word(d, &nw, h, ws, i); in_word = 0; }
            i++;
            continue;
        }
        if (is_cjk_char(cp)) {
            if (in_word) { push_word(d, &nw, h, ws, i); in_word = 0; }
            uint64_t hc = FNV_OFF;
            for (int j = 0; j < k; j++) hc = (hc ^ p[i + (size_t)j]) * FNV_PRIME;
            push_word(d, &nw, hc, i, i + (size_t)k);
        } else if (is_word_char(cp)) {
            if (!in_word) { in_word = 1; ws = i; h = FNV_OFF; }
            char lo[4];
            int m = utf8_encode((uint32_t)utf8proc_tolower((utf8proc_int32_t)cp), lo);
            for (int j = 0; j < m; j++) h = (h ^ (unsigned char)lo[j]) * FNV_PRIME;
        } else if (in_word) {
            push_word(d, &nw, h, ws, i);
            in_word = 0;
        }
        i += (size_t)k;
    }
    if (in_word) push_word(d, &nw, h, ws, n);
    *hashes = d->wh; *starts = d->ws; *ends = d->we;
    return nw;
}

static inline uint64_t gram_hash(const uint64_t *w, int n) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int k = 0; k < n; k++) h = mix64(h ^ w[k]) + (uint64_t)k;
    return h ? h : 1;
}

static void grow(decontam_t *d) {
    size_t ncap = d->cap * 2;
    uint64_t *nk = xcalloc(ncap, sizeof *nk);
    int64_t *nr = xcalloc(ncap, sizeof *nr), *nl = xcalloc(ncap, sizeof *nl);
    uint32_t *nd = xcalloc(ncap, sizeof *nd);
    for (size_t i = 0; i < d->cap; i++) {
        if (!d->keys[i]) continue;
        size_t j = d->keys[i] & (ncap - 1);
        while (nk[j]) j = (j + 1) & (ncap - 1);
        nk[j] = d->keys[i];
        nr[j] = d->refs[i];
        nl[j] = d->last[i];
        nd[j] = d->df[i];
    }
    free(d->keys); free(d->refs); free(d->last); free(d->df);
    d->keys = nk; d->refs = nr; d->last = nl; d->df = nd; d->cap = ncap;
}

void decontam_add(decontam_t *d, const char *text, size_t n, int64_t ref) {
    const uint64_t *w; const size_t *s, *e;
    size_t nw = decontam_words(d, text, n, &w, &s, &e);
    for (size_t i = 0; i + (size_t)d->n <= nw; i++) {
        if (2 * (d->used + 1) > d->cap) grow(d);
        uint64_t h = gram_hash(w + i, d->n);
        size_t j = h & (d->cap - 1);
        while (d->keys[j] && d->keys[j] != h) j = (j + 1) & (d->cap - 1);
        if (!d->keys[j]) {
            d->keys[j] = h; d->refs[j] = ref; d->last[j] = ref; d->df[j] = 1; d->used++;
        } else if (d->last[j] != ref) {   /* references arrive one by one: this counts distinct ones */
            d->last[j] = ref;
            if (d->df[j] < UINT32_MAX) d->df[j]++;
        }
    }
}

int decontam_find(decontam_t *d, const char *text, size_t n, int64_t *ref, size_t *at, size_t *len) {
    if (!d->used) return 0;
    const uint64_t *w; const size_t *s, *e;
    size_t nw = decontam_words(d, text, n, &w, &s, &e);
    for (size_t i = 0; i + (size_t)d->n <= nw; i++) {
        uint64_t h = gram_hash(w + i, d->n);
        size_t j = h & (d->cap - 1);
        while (d->keys[j]) {
            if (d->keys[j] == h) {
                if (d->common && d->df[j] >= d->common) break;   /* template text */
                if (ref) *ref = d->refs[j];
                if (at) *at = s[i];
                if (len) *len = e[i + (size_t)d->n - 1] - s[i];
                return 1;
            }
            j = (j + 1) & (d->cap - 1);
        }
    }
    return 0;
}

static const char *str_field(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *jsonl_prompt(const cJSON *obj) {
    static const char *fields[] = {"prompt", "problem", "question"};
    if (!cJSON_IsObject(obj)) return NULL;
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const char *s = str_field(obj, fields[i]);
        if (s) return s;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "messages");
    if (!cJSON_IsArray(m)) m = cJSON_GetObjectItemCaseSensitive(obj, "conversations");
    if (!cJSON_IsArray(m)) return NULL;
    const cJSON *turn;
    cJSON_ArrayForEach(turn, m) {
        const char *role = str_field(turn, "role");
        if (!role) role = str_field(turn, "from");
        if (role && (!strcmp(role, "user") || !strcmp(role, "human"))) {
            const char *c = str_field(turn, "content");
            return c ? c : str_field(turn, "value");
        }
    }
    return NULL;
}

int decontam_add_jsonl(decontam_t *d, const char *path, size_t *n_prompts) {
    FILE *f = fopen(path, "rb");
    if (!f) { err_set("%s: %s", path, strerror(errno)); return -1; }
    char *line = NULL;
    size_t cap = 0, lineno = 0, nbad = 0, np = 0;
    ssize_t len;
    strbuf bad;
    sb_init(&bad);
    while ((len = getline(&line, &cap, f)) != -1) {
        lineno++;
        size_t k = 0;
        while (k < (size_t)len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r' || line[k] == '\n')) k++;
        if (k == (size_t)len) continue;
        const char *why = NULL;
        cJSON *o = cJSON_ParseWithLength(line, (size_t)len);
        const char *pr = NULL;
        if (!o) why = "not valid JSON";
        else if (!cJSON_IsObject(o)) why = "not a JSON object";
        else if (!(pr = jsonl_prompt(o))) why = "no prompt (a string 'prompt', 'problem' or 'question', or a user turn in 'messages'/'conversations')";
        if (why) {
            if (nbad < 5) sb_printf(&bad, "%s%s:%zu: %s", nbad ? "; " : "", path, lineno, why);
            nbad++;
        } else {
            decontam_add(d, pr, strlen(pr), -(int64_t)lineno);
            np++;
        }
        cJSON_Delete(o);
    }
    int rd_err = ferror(f);
    free(line);
    fclose(f);
    if (rd_err) { sb_free(&bad); err_set("%s: read error", path); return -1; }
    if (nbad) {
        err_set("%zu bad line%s in the decontamination file: %s%s", nbad, nbad == 1 ? "" : "s", bad.s,
                nbad > 5 ? "; ..." : "");
        sb_free(&bad);
        return -1;
    }
    sb_free(&bad);
    if (n_prompts) *n_prompts = np;
    return 0;
}
