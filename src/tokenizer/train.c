/* Byte-level BPE training.
 *
 * 1. Every text goes through the same pipeline the encoder uses (U+FFFD for
 *    invalid UTF-8, special tokens split out and not learned from, NFC, the
 *    Qwen2 Split regex); each distinct pre-token ("word") is counted once.
 * 2. Words become arrays of byte symbols. Pair counts (weighted by word
 *    count) and, per pair, the list of words containing it are built once.
 * 3. Repeatedly take the most frequent pair (ties: lowest (left, right) ids),
 *    make it a token, and rewrite only the words on its list, adjusting the
 *    counts of the neighbouring pairs as each occurrence is merged. A lazy
 *    max-heap keeps the counts ordered: every count change pushes a fresh
 *    entry and stale entries are dropped when popped.
 * Output: tokenizer.json (vocab, merges in rank order, special tokens as
 * added tokens) and tokenizer_config.json with the chat template. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "core/db.h"
#include "core/err.h"
#include "core/utf8.h"
#include "tokenizer/chat.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/train.h"

#define PAD_TOKEN "<｜▁pad▁｜>"

/* Special tokens of every trained tokenizer: the BOS/EOS/PAD and role
 * markers of all built-in templates, and the reasoning tags. */
static const char *const train_specials[] = {
    "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", PAD_TOKEN, "<｜User｜>", "<｜Assistant｜>",
    "<|im_start|>", "<|im_end|>",
    "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<think>", "</think>", "<answer>", "</answer>",
};
enum { N_SPECIALS = sizeof train_specials / sizeof train_specials[0] };

typedef struct { uint32_t *v; uint32_t n, cap; } u32vec;
static void u32vec_push(u32vec *a, uint32_t x) {
    if (a->n == a->cap) { a->cap = a->cap ? a->cap * 2 : 4; a->v = xrealloc(a->v, a->cap * sizeof *a->v); }
    a->v[a->n++] = x;
}

struct bpe_trainer {
    tokenizer_t *pre;        /* pipeline only: specials, NFC, Qwen2 split, bytes */
    u64map word_map;         /* hash of word bytes -> word index */
    char *wbytes; size_t wbytes_len, wbytes_cap;
    uint64_t *woff;          /* [n_words] offset into wbytes */
    uint32_t *wlen;
    uint64_t *wcount;
    size_t n_words, words_cap;
    uint64_t n_bytes;
};

/* The JSON of a tokenizer: specials first, then the 256 byte symbols, then
 * one token per merge. merges[i] = (left, right) ids; strs[id] = vocab form. */
static cJSON *tokenizer_json(char **strs, uint32_t n_tokens, const uint32_t (*merges)[2], uint32_t n_merges) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    for (int i = 0; i < N_SPECIALS; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", i);
        cJSON_AddStringToObject(a, "content", train_specials[i]);
        cJSON_AddBoolToObject(a, "single_word", 0);
        cJSON_AddBoolToObject(a, "lstrip", 0);
        cJSON_AddBoolToObject(a, "rstrip", 0);
        cJSON_AddBoolToObject(a, "normalized", 0);
        cJSON_AddBoolToObject(a, "special", 1);
        cJSON_AddItemToArray(added, a);
    }
    cJSON *norm = cJSON_AddObjectToObject(root, "normalizer");
    cJSON_AddStringToObject(norm, "type", "NFC");
    cJSON *pre = cJSON_AddObjectToObject(root, "pre_tokenizer");
    cJSON_AddStringToObject(pre, "type", "Sequence");
    cJSON *pl = cJSON_AddArrayToObject(pre, "pretokenizers");
    cJSON *split = cJSON_CreateObject();
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON *pat = cJSON_AddObjectToObject(split, "pattern");
    cJSON_AddStringToObject(pat, "Regex", QWEN2_SPLIT_REGEX);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", 0);
    cJSON_AddItemToArray(pl, split);
    for (int k = 0; k < 3; k++) {
        cJSON *bl = cJSON_CreateObject();
        cJSON_AddStringToObject(bl, "type", "ByteLevel");
        cJSON_AddBoolToObject(bl, "add_prefix_space", 0);
        cJSON_AddBoolToObject(bl, "trim_offsets", 0);
        cJSON_AddBoolToObject(bl, "use_regex", 0);
        if (k == 0) cJSON_AddItemToArray(pl, bl);
        else cJSON_AddItemToObject(root, k == 1 ? "post_processor" : "decoder", bl);
    }
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddStringToObject(model, "continuing_subword_prefix", "");
    cJSON_AddStringToObject(model, "end_of_word_suffix", "");
    cJSON_AddBoolToObject(model, "fuse_unk", 0);
    cJSON_AddBoolToObject(model, "byte_fallback", 0);
    cJSON_AddBoolToObject(model, "ignore_merges", 0);
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    for (uint32_t i = 0; i < n_tokens; i++) cJSON_AddNumberToObject(vocab, strs[i], i);
    cJSON *ml = cJSON_AddArrayToObject(model, "merges");
    for (uint32_t i = 0; i < n_merges; i++) {
        const char *pair[2] = {strs[merges[i][0]], strs[merges[i][1]]};
        cJSON_AddItemToArray(ml, cJSON_CreateStringArray(pair, 2));
    }
    return root;
}

/* Vocab forms of the specials and the 256 bytes. */
static char **base_strings(uint32_t *n) {
    char **strs = xmalloc((N_SPECIALS + 256) * sizeof *strs);
    uint32_t k = 0;
    for (int i = 0; i < N_SPECIALS; i++) strs[k++] = xstrdup(train_specials[i]);
    for (int b = 0; b < 256; b++) {
        char u[5] = {0};
        u[utf8_encode(bytelevel_cp((uint8_t)b), u)] = 0;
        strs[k++] = xstrdup(u);
    }
    *n = k;
    return strs;
}

bpe_trainer *bpe_trainer_new(void) {
    uint32_t n;
    char **strs = base_strings(&n);
    cJSON *j = tokenizer_json(strs, n, NULL, 0);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    for (uint32_t i = 0; i < n; i++) free(strs[i]);
    free(strs);
    bpe_trainer *tr = xcalloc(1, sizeof *tr);
    tr->pre = tokenizer_from_json(s, strlen(s), "trainer pre-tokenizer");
    free(s);
    if (!tr->pre) die("trainer: %s", err_msg());
    u64map_init(&tr->word_map, 1 << 16);
    return tr;
}

void bpe_trainer_free(bpe_trainer *tr) {
    if (!tr) return;
    tokenizer_free(tr->pre);
    u64map_free(&tr->word_map);
    free(tr->wbytes); free(tr->woff); free(tr->wlen); free(tr->wcount);
    free(tr);
}

static void count_word(void *ctx, const char *s, size_t n) {
    bpe_trainer *tr = ctx;
    for (uint64_t seed = 0;; seed++) {
        uint64_t h = hash64(s, n, seed);
        if (h == UINT64_MAX) h--;
        uint64_t w = u64map_get(&tr->word_map, h);
        if (w == UINT64_MAX) {
            if (tr->n_words == tr->words_cap) {
                tr->words_cap = tr->words_cap ? tr->words_cap * 2 : 4096;
                tr->woff = xrealloc(tr->woff, tr->words_cap * sizeof *tr->woff);
                tr->wlen = xrealloc(tr->wlen, tr->words_cap * sizeof *tr->wlen);
                tr->wcount = xrealloc(tr->wcount, tr->words_cap * sizeof *tr->wcount);
            }
            if (tr->wbytes_len + n > tr->wbytes_cap) {
                size_t c = tr->wbytes_cap ? tr->wbytes_cap : 65536;
                while (c < tr->wbytes_len + n) c *= 2;
                tr->wbytes = xrealloc(tr->wbytes, c);
                tr->wbytes_cap = c;
            }
            memcpy(tr->wbytes + tr->wbytes_len, s, n);
            tr->woff[tr->n_words] = tr->wbytes_len;
            tr->wlen[tr->n_words] = (uint32_t)n;
            tr->wcount[tr->n_words] = 1;
            tr->wbytes_len += n;
            u64map_put(&tr->word_map, h, tr->n_words++);
            return;
        }
        if (tr->wlen[w] == n && memcmp(tr->wbytes + tr->woff[w], s, n) == 0) { tr->wcount[w]++; return; }
    }
}
static void skip_added(void *ctx, uint32_t id) { (void)ctx; (void)id; }

void bpe_trainer_feed(bpe_trainer *tr, const char *text, size_t len) {
    tok_sink sink = {.piece = count_word, .added = skip_added, .ctx = tr};
    tokenizer_pretokenize(tr->pre, text, len, &sink);
    tr->n_bytes += len;
}

/* max-heap of (count, pair key); larger count first, then smaller key */
typedef struct { uint64_t count, key; } hent;
static int hless(hent a, hent b) { return a.count != b.count ? a.count > b.count : a.key < b.key; }
typedef struct { hent *v; size_t n, cap; } heap_t;
static void hpush(heap_t *h, hent e) {
    if (h->n == h->cap) { h->cap = h->cap ? h->cap * 2 : 1024; h->v = xrealloc(h->v, h->cap * sizeof *h->v); }
    size_t i = h->n++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (!hless(e, h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = e;
}
static hent hpop(heap_t *h) {
    hent top = h->v[0], e = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && hless(h->v[c + 1], h->v[c])) c++;
        if (!hless(h->v[c], e)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = e;
    return top;
}

typedef struct {
    u64map idx;       /* pair key -> index */
    uint64_t *count;  /* [n] */
    u32vec *where;    /* [n] words that contained the pair when it was counted up */
    size_t n, cap;
    heap_t heap;
} pairs_t;

static uint32_t pair_index(pairs_t *p, uint64_t key) {
    uint64_t i = u64map_get(&p->idx, key);
    if (i != UINT64_MAX) return (uint32_t)i;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 65536;
        p->count = xrealloc(p->count, p->cap * sizeof *p->count);
        p->where = xrealloc(p->where, p->cap * sizeof *p->where);
    }
    p->count[p->n] = 0;
    p->where[p->n] = (u32vec){0};
    u64map_put(&p->idx, key, p->n);
    return (uint32_t)p->n++;
}
static void pair_add(pairs_t *p, uint32_t a, uint32_t b, int64_t delta, uint32_t word, int push) {
    uint64_t key = ((uint64_t)a << 32) | b;
    uint32_t i = pair_index(p, key);
    p->count[i] = (uint64_t)((int64_t)p->count[i] + delta);
    if (delta > 0) {
        u32vec *w = &p->where[i];
        if (!w->n || w->v[w->n - 1] != word) u32vec_push(w, word);
    }
    if (push && p->count[i]) hpush(&p->heap, (hent){p->count[i], key});
}

static int write_text(const char *path, const char *s) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) { err_set("%s: cannot create", tmp); return -1; }
    size_t n = strlen(s);
    int bad = fwrite(s, 1, n, f) != n;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) { err_set("%s: write failed", path); remove(tmp); return -1; }
    return 0;
}

int bpe_trainer_finish(bpe_trainer *tr, const bpe_train_opts *o, const char *dir) {
    int tmpl = chat_template_parse(o->template_name ? o->template_name : "r1");
    if (tmpl < 0) { err_set("unknown chat template '%s'", o->template_name); return -1; }
    uint32_t n_tokens;
    char **strs = base_strings(&n_tokens);
    if (o->vocab_size < n_tokens) {
        err_set("--vocab %u is smaller than the %u special and byte tokens", o->vocab_size, n_tokens);
        for (uint32_t i = 0; i < n_tokens; i++) free(strs[i]);
        free(strs);
        return -1;
    }
    clock_t t0 = clock();
    strs = xrealloc(strs, o->vocab_size * sizeof *strs);
    uint32_t (*merges)[2] = xmalloc((o->vocab_size - n_tokens + 1) * sizeof *merges);
    uint32_t n_merges = 0;

    /* words as symbol arrays: byte b is token N_SPECIALS + b */
    size_t total = 0;
    for (size_t w = 0; w < tr->n_words; w++) total += tr->wlen[w];
    uint32_t *sym = xmalloc((total + 1) * sizeof *sym);
    uint64_t *soff = xmalloc((tr->n_words + 1) * sizeof *soff);
    uint32_t *slen = xmalloc((tr->n_words + 1) * sizeof *slen);
    size_t k = 0;
    for (size_t w = 0; w < tr->n_words; w++) {
        soff[w] = k;
        slen[w] = tr->wlen[w];
        for (uint32_t i = 0; i < tr->wlen[w]; i++) sym[k++] = N_SPECIALS + (uint8_t)tr->wbytes[tr->woff[w] + i];
    }
    pairs_t P = {0};
    u64map_init(&P.idx, 1 << 16);
    for (size_t w = 0; w < tr->n_words; w++)
        for (uint32_t i = 0; i + 1 < slen[w]; i++)
            pair_add(&P, sym[soff[w] + i], sym[soff[w] + i + 1], (int64_t)tr->wcount[w], (uint32_t)w, 0);
    /* seed the heap with every pair's count */
    for (size_t s = 0; s <= P.idx.mask; s++)
        if (P.idx.keys[s] != UINT64_MAX) {
            uint32_t i = (uint32_t)P.idx.vals[s];
            if (P.count[i]) hpush(&P.heap, (hent){P.count[i], P.idx.keys[s]});
        }
    uint32_t *stamp = xcalloc(tr->n_words + 1, sizeof *stamp);
    while (n_tokens < o->vocab_size && P.heap.n) {
        hent e = hpop(&P.heap);
        uint32_t pi = (uint32_t)u64map_get(&P.idx, e.key);
        if (P.count[pi] != e.count) continue;  /* stale */
        if (e.count < 2) break;                /* nothing occurs twice any more */
        uint32_t a = (uint32_t)(e.key >> 32), b = (uint32_t)e.key, m = n_tokens++;
        size_t la = strlen(strs[a]), lb = strlen(strs[b]);
        strs[m] = xmalloc(la + lb + 1);
        memcpy(strs[m], strs[a], la);
        memcpy(strs[m] + la, strs[b], lb + 1);
        merges[n_merges][0] = a;
        merges[n_merges][1] = b;
        n_merges++;
        u32vec where = P.where[pi];
        P.where[pi] = (u32vec){0};
        for (uint32_t wi = 0; wi < where.n; wi++) {
            uint32_t w = where.v[wi];
            if (stamp[w] == n_merges) continue;
            stamp[w] = n_merges;
            uint32_t *s = sym + soff[w];
            uint32_t n = slen[w];
            int64_t c = (int64_t)tr->wcount[w];
            for (uint32_t i = 0; i + 1 < n;) {
                if (s[i] != a || s[i + 1] != b) { i++; continue; }
                if (i > 0) pair_add(&P, s[i - 1], a, -c, w, 1);
                pair_add(&P, a, b, -c, w, 0);
                if (i + 2 < n) pair_add(&P, b, s[i + 2], -c, w, 1);
                s[i] = m;
                memmove(s + i + 1, s + i + 2, (n - i - 2) * sizeof *s);
                n--;
                if (i > 0) pair_add(&P, s[i - 1], m, c, w, 1);
                if (i + 1 < n) pair_add(&P, m, s[i + 1], c, w, 1);
                i++;
            }
            slen[w] = n;
        }
        free(where.v);
        if (o->verbose && n_merges % 1000 == 0)
            fprintf(stderr, "retort: tokenizer train: %u merges\n", n_merges);
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (o->verbose)
        fprintf(stderr, "retort: tokenizer train: %llu bytes, %zu distinct words, %u merges, vocab %u, %.2f s\n",
                (unsigned long long)tr->n_bytes, tr->n_words, n_merges, n_tokens, secs);

    int rc = 0;
    mkdir(dir, 0777);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) { err_set("%s: cannot create directory", dir); rc = -1; }
    if (!rc) {
        cJSON *j = tokenizer_json(strs, n_tokens, (const uint32_t (*)[2])merges, n_merges);
        char *s = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        char path[4200];
        snprintf(path, sizeof path, "%s/tokenizer.json", dir);
        rc = write_text(path, s);
        free(s);
    }
    if (!rc) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddBoolToObject(c, "add_bos_token", 0);
        cJSON_AddBoolToObject(c, "add_eos_token", 0);
        const char *bos = chat_template_bos(tmpl);
        if (bos) cJSON_AddStringToObject(c, "bos_token", bos);
        else cJSON_AddNullToObject(c, "bos_token");
        cJSON_AddStringToObject(c, "eos_token", chat_template_eos(tmpl));
        cJSON_AddStringToObject(c, "pad_token", PAD_TOKEN);
        cJSON_AddNullToObject(c, "unk_token");
        cJSON_AddStringToObject(c, "chat_template", chat_template_jinja(tmpl));
        cJSON_AddBoolToObject(c, "clean_up_tokenization_spaces", 0);
        cJSON_AddNumberToObject(c, "model_max_length", 131072);
        cJSON_AddStringToObject(c, "tokenizer_class", "PreTrainedTokenizerFast");
        char *s = cJSON_Print(c);
        cJSON_Delete(c);
        char path[4200];
        snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
        rc = write_text(path, s);
        free(s);
    }
    for (uint32_t i = 0; i < n_tokens; i++) free(strs[i]);
    free(strs);
    free(merges);
    free(sym); free(soff); free(slen); free(stamp);
    for (size_t i = 0; i < P.n; i++) free(P.where[i].v);
    free(P.where); free(P.count); free(P.heap.v);
    u64map_free(&P.idx);
    return rc;
}

int bpe_train_mix(sqlite3 *db, const char *mix, const bpe_train_opts *o, const char *dir) {
    sqlite3_stmt *st;
    if (db_prepare(db, "SELECT user_text, assistant_text FROM v_mix_samples WHERE mix = ?1 ORDER BY position", &st))
        return -1;
    sqlite3_bind_text(st, 1, mix, -1, SQLITE_STATIC);
    bpe_trainer *tr = bpe_trainer_new();
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < 2; c++) {
            const char *s = (const char *)sqlite3_column_text(st, c);
            if (s) bpe_trainer_feed(tr, s, (size_t)sqlite3_column_bytes(st, c));
        }
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        err_set("reading mix '%s': %s", mix, sqlite3_errmsg(db));
        bpe_trainer_free(tr);
        return -1;
    }
    if (n == 0) {
        err_set("mix '%s' has no samples (or does not exist)", mix);
        bpe_trainer_free(tr);
        return -1;
    }
    rc = bpe_trainer_finish(tr, o, dir);
    bpe_trainer_free(tr);
    return rc;
}
