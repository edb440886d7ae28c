#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "core/tokset.h"
#include "core/err.h"

void tokset_init(tokset_t *t) {
    memset(t, 0, sizeof *t);
    t->bos_id = t->eos_id = t->pad_id = TOKSET_NONE;
    t->offsets = xcalloc(1, sizeof *t->offsets);
}

void tokset_free(tokset_t *t) {
    free(t->offsets); free(t->trace_ids); free(t->splits); free(t->ids); free(t->mask);
    memset(t, 0, sizeof *t);
}

void tokset_push(tokset_t *t, int64_t trace_id, uint8_t split, const uint32_t *ids, const uint8_t *mask, uint64_t n) {
    if (t->n_samples + 1 > t->cap_samples) {
        t->cap_samples = t->cap_samples ? 2 * t->cap_samples : 1024;
        t->offsets = xrealloc(t->offsets, (t->cap_samples + 1) * sizeof *t->offsets);
        t->trace_ids = xrealloc(t->trace_ids, t->cap_samples * sizeof *t->trace_ids);
        t->splits = xrealloc(t->splits, t->cap_samples * sizeof *t->splits);
    }
    if (t->n_tokens + n > t->cap_tokens) {
        while (t->n_tokens + n > t->cap_tokens) t->cap_tokens = t->cap_tokens ? 2 * t->cap_tokens : 65536;
        t->ids = xrealloc(t->ids, t->cap_tokens * sizeof *t->ids);
        t->mask = xrealloc(t->mask, t->cap_tokens * sizeof *t->mask);
    }
    memcpy(t->ids + t->n_tokens, ids, n * sizeof *ids);
    memcpy(t->mask + t->n_tokens, mask, n);
    t->trace_ids[t->n_samples] = trace_id;
    t->splits[t->n_samples] = split;
    t->offsets[t->n_samples] = t->n_tokens;
    t->n_tokens += n;
    t->n_samples++;
    t->offsets[t->n_samples] = t->n_tokens;
}

struct header {
    char magic[8];
    uint32_t version, header_bytes;
    uint64_t n_samples, n_tokens;
    uint32_t vocab_size, bos_id, eos_id, pad_id;
    uint8_t reserved[16];
};
_Static_assert(sizeof(struct header) == 64, "token file header is 64 bytes");

static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

int tokset_write(const tokset_t *t, const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) { err_set("%s: %s", tmp, strerror(errno)); return -1; }
    struct header h = {.version = 1, .header_bytes = 64, .n_samples = t->n_samples, .n_tokens = t->n_tokens,
                       .vocab_size = t->vocab_size, .bos_id = t->bos_id, .eos_id = t->eos_id, .pad_id = t->pad_id};
    memcpy(h.magic, "RETORTTK", 8);
    static const uint8_t zeros[8];
    size_t ns = (size_t)t->n_samples;
    int ok = fwrite(&h, sizeof h, 1, f) == 1 &&
             fwrite(t->offsets, sizeof *t->offsets, ns + 1, f) == ns + 1 &&
             (ns == 0 || fwrite(t->trace_ids, sizeof *t->trace_ids, ns, f) == ns) &&
             (ns == 0 || fwrite(t->splits, 1, ns, f) == ns) &&
             fwrite(zeros, 1, pad8(ns) - ns, f) == pad8(ns) - ns &&
             (t->n_tokens == 0 || fwrite(t->ids, sizeof *t->ids, t->n_tokens, f) == t->n_tokens) &&
             (t->n_tokens == 0 || fwrite(t->mask, 1, t->n_tokens, f) == t->n_tokens);
    if (fclose(f) != 0) ok = 0;
    if (!ok) { err_set("%s: write failed: %s", tmp, strerror(errno)); remove(tmp); return -1; }
    if (rename(tmp, path) != 0) { err_set("%s: %s", path, strerror(errno)); remove(tmp); return -1; }
    return 0;
}

int tokset_read(const char *path, tokset_t *t) {
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) { err_set("%s: %s", path, strerror(errno)); return -1; }
    struct header h;
    if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, "RETORTTK", 8) != 0) {
        err_set("%s: not a retort token file (bad magic)", path);
        fclose(f);
        return -1;
    }
    if (h.version != 1 || h.header_bytes != 64) {
        err_set("%s: unsupported token file version %u", path, h.version);
        fclose(f);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 64, SEEK_SET);
    uint64_t ns = h.n_samples, nt = h.n_tokens;
    uint64_t want = 64 + (ns + 1) * 8 + ns * 8 + pad8(ns) + nt * 4 + nt;
    if (ns > (1ULL << 40) || nt > (1ULL << 40) || (uint64_t)size != want) {
        err_set("%s: size %ld does not match its header (%llu samples, %llu tokens: %llu bytes)", path, size,
                (unsigned long long)ns, (unsigned long long)nt, (unsigned long long)want);
        fclose(f);
        return -1;
    }
    t->n_samples = t->cap_samples = ns;
    t->n_tokens = t->cap_tokens = nt;
    t->vocab_size = h.vocab_size; t->bos_id = h.bos_id; t->eos_id = h.eos_id; t->pad_id = h.pad_id;
    t->offsets = xmalloc((ns + 1) * 8);
    t->trace_ids = xmalloc(ns * 8 + 1);
    t->splits = xmalloc(pad8(ns) + 1);
    t->ids = xmalloc(nt * 4 + 1);
    t->mask = xmalloc(nt + 1);
    int ok = fread(t->offsets, 8, ns + 1, f) == ns + 1 && fread(t->trace_ids, 8, ns, f) == ns &&
             fread(t->splits, 1, pad8(ns), f) == pad8(ns) && fread(t->ids, 4, nt, f) == nt &&
             fread(t->mask, 1, nt, f) == nt;
    fclose(f);
    if (!ok) { err_set("%s: short read", path); tokset_free(t); return -1; }
    if (t->offsets[0] != 0 || t->offsets[ns] != nt) { err_set("%s: offsets do not cover the tokens", path); tokset_free(t); return -1; }
    for (uint64_t i = 0; i < ns; i++) {
        if (t->offsets[i + 1] < t->offsets[i]) { err_set("%s: sample %llu: offsets decrease", path, (unsigned long long)i); tokset_free(t); return -1; }
        if (t->splits[i] > 1) { err_set("%s: sample %llu: split %u is not 0 or 1", path, (unsigned long long)i, t->splits[i]); tokset_free(t); return -1; }
    }
    for (uint64_t j = 0; j < nt; j++) {
        if (t->vocab_size && t->ids[j] >= t->vocab_size) {
            err_set("%s: token %llu: id %u >= vocab size %u", path, (unsigned long long)j, t->ids[j], t->vocab_size);
            tokset_free(t);
            return -1;
        }
        if (t->mask[j] > 1) { err_set("%s: token %llu: mask %u is not 0 or 1", path, (unsigned long long)j, t->mask[j]); tokset_free(t); return -1; }
    }
    return 0;
}
