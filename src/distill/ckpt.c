/* Hugging Face checkpoints: config.json in both key forms, safetensors single or
 * sharded, F32/BF16/F16 in, F32/BF16 out, with Hugging Face's names, shapes and
 * config fields so the directory loads in AutoModelForCausalLM unmodified. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "distill/ckpt.h"
#include "core/err.h"

uint16_t f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float f16_to_f32(uint16_t h) {
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, mant = h & 0x3ff, u;
    if (e == 0) {
        if (mant == 0) u = s;
        else { /* subnormal */
            float f = ldexpf((float)mant, -24);
            memcpy(&u, &f, 4);
            u |= s;
        }
    } else if (e == 31) u = s | 0x7f800000u | (mant << 13);
    else u = s | ((e + 112) << 23) | (mant << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

char *read_file_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { err_set("%s: %s", path, strerror(errno)); return NULL; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0) { fclose(f); err_set("%s: cannot size", path); return NULL; }
    char *buf = xmalloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(buf); err_set("%s: short read", path); return NULL; }
    fclose(f);
    buf[n] = 0;
    if (len) *len = (size_t)n;
    return buf;
}

int mkdir_p(const char *dir) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0777) && errno != EEXIST) { err_set("%s: %s", tmp, strerror(errno)); return -1; }
            *p = '/';
        }
    if (mkdir(tmp, 0777) && errno != EEXIST) { err_set("%s: %s", tmp, strerror(errno)); return -1; }
    return 0;
}

/* ---- config.json ---- */
/* 1: *out set; 0: absent, null or not a number (the caller's default stands);
 * -1: a number that is no int (1e20, 2.5, NaN), an error naming the key. */
static int jint(const cJSON *o, const char *k, int *out, const char *path) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsArray(v)) v = cJSON_GetArrayItem(v, 0); /* eos_token_id may be a list */
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= INT_MIN && d <= INT_MAX) || d != floor(d)) {
        err_set("%s: %s is %g, not an integer in range", path, k, d);
        return -1;
    }
    *out = (int)d;
    return 1;
}
static int jdbl(const cJSON *o, const char *k, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v)) return 0;
    *out = v->valuedouble;
    return 1;
}

int model_config_parse(const char *json, const char *path, model_config *c, char *dtype, size_t dtype_n) {
    cJSON *o = cJSON_Parse(json);
    if (!o || !cJSON_IsObject(o)) {
        err_set("%s: not a JSON object", path);
        cJSON_Delete(o);
        return -1;
    }
    model_config_default(c);
    const char *mt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "model_type"));
    if (!mt) { err_set("%s: no model_type", path); cJSON_Delete(o); return -1; }
    if (strcmp(mt, "qwen2") == 0) { c->arch = ARCH_QWEN2; c->qkv_bias = 1; }
    else if (strcmp(mt, "llama") == 0) { c->arch = ARCH_LLAMA; c->qkv_bias = 0; }
    else { err_set("%s: model_type '%s' is not supported (qwen2 or llama)", path, mt); cJSON_Delete(o); return -1; }
    const char *need[] = {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"};
    int *dst[] = {&c->V, &c->H, &c->I, &c->L, &c->nh};
    for (int i = 0; i < 5; i++) {
        int r = jint(o, need[i], dst[i], path);
        if (r == 0) err_set("%s: missing %s", path, need[i]);
        if (r <= 0) goto fail;
    }
    c->nkv = c->nh;
    if (jint(o, "num_key_value_heads", &c->nkv, path) < 0) goto fail;
    c->hd = c->nh ? c->H / c->nh : 0;
    if (jint(o, "head_dim", &c->hd, path) < 0 || jint(o, "max_position_embeddings", &c->max_pos, path) < 0) goto fail;
    jdbl(o, "rms_norm_eps", &c->eps);
    jdbl(o, "initializer_range", &c->init_std);
    c->tied = 0; /* Qwen2Config and LlamaConfig both default to untied; Qwen2.5 configs say true explicitly */
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(o, "tie_word_embeddings");
    if (cJSON_IsBool(tie)) c->tied = cJSON_IsTrue(tie);
    if (c->arch == ARCH_LLAMA) {
        const cJSON *ab = cJSON_GetObjectItemCaseSensitive(o, "attention_bias");
        if (cJSON_IsTrue(ab)) c->qkv_bias = 1;
        const cJSON *mb = cJSON_GetObjectItemCaseSensitive(o, "mlp_bias");
        if (cJSON_IsTrue(mb)) { err_set("%s: mlp_bias is not supported", path); cJSON_Delete(o); return -1; }
    } else {
        const cJSON *sw = cJSON_GetObjectItemCaseSensitive(o, "use_sliding_window");
        if (cJSON_IsTrue(sw)) msg("%s: use_sliding_window is on; retort attends over whole documents", path);
    }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "hidden_act");
    if (cJSON_IsString(act) && strcmp(act->valuestring, "silu") != 0) {
        err_set("%s: hidden_act '%s' is not supported (silu)", path, act->valuestring);
        cJSON_Delete(o);
        return -1;
    }
    if (jint(o, "bos_token_id", &c->bos, path) < 0 || jint(o, "eos_token_id", &c->eos, path) < 0) goto fail;
    /* RoPE: older configs have rope_theta + rope_scaling, newer ones rope_parameters */
    c->theta = 10000.0;
    jdbl(o, "rope_theta", &c->theta);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "rope_scaling");
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(o, "rope_parameters");
    if (cJSON_IsObject(rp)) {
        jdbl(rp, "rope_theta", &c->theta);
        if (!cJSON_IsObject(rs)) rs = rp;
    }
    c->rope_llama3 = 0;
    if (cJSON_IsObject(rs)) {
        const char *rt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rs, "rope_type"));
        if (!rt) rt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rs, "type"));
        if (rt && strcmp(rt, "llama3") == 0) {
            c->rope_llama3 = 1;
            int ok = jdbl(rs, "factor", &c->rs_factor) & jdbl(rs, "low_freq_factor", &c->rs_low) &
                     jdbl(rs, "high_freq_factor", &c->rs_high) & (jint(rs, "original_max_position_embeddings", &c->rs_orig, path) == 1);
            if (!ok) { err_set("%s: llama3 rope scaling lacks factor/low_freq_factor/high_freq_factor/original_max_position_embeddings", path); cJSON_Delete(o); return -1; }
        } else if (rt && strcmp(rt, "default") != 0) {
            err_set("%s: rope type '%s' is not supported (default or llama3)", path, rt);
            cJSON_Delete(o);
            return -1;
        }
    }
    if (dtype) {
        const char *dt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "dtype"));
        if (!dt) dt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "torch_dtype"));
        snprintf(dtype, dtype_n, "%s", dt ? dt : "float32");
    }
    cJSON_Delete(o);
    if (model_config_check(c)) { err_prefix("%s", path); return -1; }
    return 0;
fail:
    cJSON_Delete(o);
    return -1;
}

char *model_config_json(const model_config *c, const char *dtype) {
    cJSON *o = cJSON_CreateObject();
    int q = c->arch == ARCH_QWEN2;
    cJSON *arch = cJSON_AddArrayToObject(o, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString(q ? "Qwen2ForCausalLM" : "LlamaForCausalLM"));
    cJSON_AddNumberToObject(o, "attention_dropout", 0.0);
    if (!q) cJSON_AddBoolToObject(o, "attention_bias", c->qkv_bias);
    if (c->bos >= 0) cJSON_AddNumberToObject(o, "bos_token_id", c->bos);
    else cJSON_AddNullToObject(o, "bos_token_id");
    if (c->eos >= 0) cJSON_AddNumberToObject(o, "eos_token_id", c->eos);
    else cJSON_AddNullToObject(o, "eos_token_id");
    if (!q) cJSON_AddNumberToObject(o, "head_dim", c->hd);
    cJSON_AddStringToObject(o, "hidden_act", "silu");
    cJSON_AddNumberToObject(o, "hidden_size", c->H);
    cJSON_AddNumberToObject(o, "initializer_range", c->init_std);
    cJSON_AddNumberToObject(o, "intermediate_size", c->I);
    cJSON_AddNumberToObject(o, "max_position_embeddings", c->max_pos);
    if (q) cJSON_AddNumberToObject(o, "max_window_layers", c->L);
    if (!q) cJSON_AddBoolToObject(o, "mlp_bias", 0);
    cJSON_AddStringToObject(o, "model_type", q ? "qwen2" : "llama");
    cJSON_AddNumberToObject(o, "num_attention_heads", c->nh);
    cJSON_AddNumberToObject(o, "num_hidden_layers", c->L);
    cJSON_AddNumberToObject(o, "num_key_value_heads", c->nkv);
    if (!q) cJSON_AddNumberToObject(o, "pretraining_tp", 1);
    cJSON_AddNumberToObject(o, "rms_norm_eps", c->eps);
    if (c->rope_llama3) {
        cJSON *rs = cJSON_AddObjectToObject(o, "rope_scaling");
        cJSON_AddNumberToObject(rs, "factor", c->rs_factor);
        cJSON_AddNumberToObject(rs, "high_freq_factor", c->rs_high);
        cJSON_AddNumberToObject(rs, "low_freq_factor", c->rs_low);
        cJSON_AddNumberToObject(rs, "original_max_position_embeddings", c->rs_orig);
        cJSON_AddStringToObject(rs, "rope_type", "llama3");
    } else cJSON_AddNullToObject(o, "rope_scaling");
    cJSON_AddNumberToObject(o, "rope_theta", c->theta);
    if (q) {
        cJSON_AddNumberToObject(o, "sliding_window", c->max_pos);
        cJSON_AddBoolToObject(o, "use_sliding_window", 0);
    }
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tied);
    cJSON_AddStringToObject(o, "torch_dtype", dtype);
    cJSON_AddStringToObject(o, "transformers_version", "4.46.0");
    cJSON_AddBoolToObject(o, "use_cache", 1);
    cJSON_AddNumberToObject(o, "vocab_size", c->V);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

int ckpt_load_config(const char *dir, model_config *c) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *txt = read_file_text(path, NULL);
    if (!txt) return -1;
    int rc = model_config_parse(txt, path, c, NULL, 0);
    free(txt);
    return rc;
}

/* ---- safetensors reading ---- */
typedef struct {
    char path[4096];
    int fd;
    uint8_t *map;
    size_t size, data_off;
    cJSON *hdr;
} st_file;

static int st_open(st_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    f->fd = open(path, O_RDONLY);
    if (f->fd < 0) { err_set("%s: %s", path, strerror(errno)); return -1; }
    struct stat st;
    fstat(f->fd, &st);
    f->size = (size_t)st.st_size;
    if (f->size < 8) { err_set("%s: too short for safetensors", path); close(f->fd); return -1; }
    f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, f->fd, 0);
    if (f->map == MAP_FAILED) { err_set("%s: mmap: %s", path, strerror(errno)); close(f->fd); return -1; }
    uint64_t hl;
    memcpy(&hl, f->map, 8);
    if (hl > f->size - 8 || hl > (100u << 20)) { err_set("%s: header length %llu exceeds the file", path, (unsigned long long)hl); goto fail; }
    f->hdr = cJSON_ParseWithLength((const char *)f->map + 8, hl);
    if (!cJSON_IsObject(f->hdr)) { err_set("%s: header is not a JSON object", path); goto fail; }
    f->data_off = 8 + hl;
    return 0;
fail:
    cJSON_Delete(f->hdr);
    munmap(f->map, f->size);
    close(f->fd);
    return -1;
}

static void st_close(st_file *f) {
    if (f->map) {
        cJSON_Delete(f->hdr);
        munmap(f->map, f->size);
        close(f->fd);
    }
    memset(f, 0, sizeof *f);
}

/* Copy tensor `name` from f into dst (n fp32 values, shape checked). */
static int st_read_tensor(st_file *f, const model_tensor *t, float *dst) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(f->hdr, t->name);
    if (!cJSON_IsObject(e)) { err_set("%s: tensor %s is missing", f->path, t->name); return -1; }
    const char *dt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "dtype"));
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!dt || !cJSON_IsArray(shape) || cJSON_GetArraySize(offs) != 2) { err_set("%s: tensor %s: malformed entry", f->path, t->name); return -1; }
    int nd = cJSON_GetArraySize(shape);
    /* Every number is checked before a cast: converting 1e30 or -8 to an
     * integer type is undefined behaviour in C, not a wrapped value. */
    for (int i = 0; i < nd + 2; i++) {
        const cJSON *v = i < nd ? cJSON_GetArrayItem(shape, i) : cJSON_GetArrayItem(offs, i - nd);
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0) ||
            v->valuedouble != floor(v->valuedouble)) {
            err_set("%s: tensor %s: %s holds something other than a non-negative integer", f->path, t->name,
                    i < nd ? "shape" : "data_offsets");
            return -1;
        }
    }
    int ok = nd == t->ndim;
    for (int i = 0; ok && i < nd; i++) ok = cJSON_GetArrayItem(shape, i)->valuedouble == t->shape[i];
    if (!ok) {
        char want[64], got[64] = "";
        snprintf(want, sizeof want, t->ndim == 2 ? "[%d, %d]" : "[%d]", t->shape[0], t->shape[1]);
        for (int i = 0; i < nd && strlen(got) < 40; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%.0f", i ? ", " : "", cJSON_GetArrayItem(shape, i)->valuedouble);
        err_set("%s: tensor %s has shape [%s], the config implies %s", f->path, t->name, got, want);
        return -1;
    }
    size_t b0 = (size_t)cJSON_GetArrayItem(offs, 0)->valuedouble, b1 = (size_t)cJSON_GetArrayItem(offs, 1)->valuedouble;
    int esz = strcmp(dt, "F32") == 0 ? 4 : (strcmp(dt, "BF16") == 0 || strcmp(dt, "F16") == 0) ? 2 : 0;
    if (!esz) { err_set("%s: tensor %s: dtype %s is not F32, BF16 or F16", f->path, t->name, dt); return -1; }
    if (b1 < b0 || b1 - b0 != t->n * esz || f->data_off + b1 > f->size) {
        err_set("%s: tensor %s: data_offsets [%zu,%zu] do not fit its shape or the file", f->path, t->name, b0, b1);
        return -1;
    }
    const uint8_t *src = f->map + f->data_off + b0;
    if (esz == 4) memcpy(dst, src, t->n * 4);
    else if (dt[0] == 'B')
        for (size_t i = 0; i < t->n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            dst[i] = bf16_to_f32(h);
        }
    else
        for (size_t i = 0; i < t->n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            dst[i] = f16_to_f32(h);
        }
    return 0;
}

int ckpt_load_weights(const char *dir, model_t *m) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    int rc = -1;
    if (access(path, R_OK) == 0) {
        char *txt = read_file_text(path, NULL);
        if (!txt) return -1;
        cJSON *idx = cJSON_Parse(txt);
        free(txt);
        const cJSON *wm = cJSON_GetObjectItemCaseSensitive(idx, "weight_map");
        if (!cJSON_IsObject(wm)) { err_set("%s: no weight_map", path); cJSON_Delete(idx); return -1; }
        /* open each shard once, in the order tensors need them */
        int nshard = 0, cap = 8;
        st_file *sh = xcalloc(cap, sizeof *sh);
        rc = 0;
        for (int i = 0; i < m->ntensors && !rc; i++) {
            const char *fn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(wm, m->tensors[i].name));
            if (!fn) { err_set("%s: tensor %s is not in weight_map", path, m->tensors[i].name); rc = -1; break; }
            char sp[4096];
            snprintf(sp, sizeof sp, "%s/%s", dir, fn);
            int k = 0;
            while (k < nshard && strcmp(sh[k].path, sp) != 0) k++;
            if (k == nshard) {
                if (nshard == cap) { sh = xrealloc(sh, 2 * cap * sizeof *sh); cap *= 2; }
                if (st_open(&sh[nshard], sp)) { rc = -1; break; }
                nshard++;
            }
            rc = st_read_tensor(&sh[k], &m->tensors[i], m->params + m->tensors[i].off);
        }
        for (int k = 0; k < nshard; k++) st_close(&sh[k]);
        free(sh);
        cJSON_Delete(idx);
        return rc;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    st_file f;
    if (st_open(&f, path)) return -1;
    rc = 0;
    for (int i = 0; i < m->ntensors && !rc; i++) rc = st_read_tensor(&f, &m->tensors[i], m->params + m->tensors[i].off);
    st_close(&f);
    return rc;
}

int ckpt_load(const char *dir, model_t *m) {
    model_config c;
    if (ckpt_load_config(dir, &c)) return -1;
    if (model_create(m, &c)) return -1;
    if (ckpt_load_weights(dir, m)) { model_free(m); return -1; }
    return 0;
}

/* ---- saving ---- */
static int write_text(const char *dir, const char *name, const char *text) {
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) { err_set("%s: %s", tmp, strerror(errno)); return -1; }
    int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (fclose(f) || !ok || rename(tmp, path)) { err_set("%s: write failed: %s", path, strerror(errno)); return -1; }
    return 0;
}

static int copy_file(const char *src, const char *dst) {
    size_t n;
    char *txt = read_file_text(src, &n);
    if (!txt) return -1;
    FILE *f = fopen(dst, "wb");
    int ok = f && fwrite(txt, 1, n, f) == n;
    if (f && fclose(f)) ok = 0;
    free(txt);
    if (!ok) { err_set("%s: write failed", dst); return -1; }
    return 0;
}

/* One safetensors file holding tensors [t0, t1) of the table. */
static int write_safetensors(const char *path, const model_t *m, int t0, int t1, int esz) {
    cJSON *h = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(h, "__metadata__");
    cJSON_AddStringToObject(meta, "format", "pt");
    size_t off = 0;
    for (int i = t0; i < t1; i++) {
        const model_tensor *t = &m->tensors[i];
        cJSON *e = cJSON_AddObjectToObject(h, t->name);
        cJSON_AddStringToObject(e, "dtype", esz == 2 ? "BF16" : "F32");
        cJSON *sh = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; d < t->ndim; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber(t->shape[d]));
        cJSON *o = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(off + t->n * esz)));
        off += t->n * esz;
    }
    char *hs = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    size_t hl = strlen(hs), padded = (hl + 7) & ~(size_t)7; /* data starts 8-aligned */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) { free(hs); err_set("%s: %s", tmp, strerror(errno)); return -1; }
    uint64_t hl64 = padded;
    int ok = fwrite(&hl64, 8, 1, f) == 1 && fwrite(hs, 1, hl, f) == hl;
    for (size_t i = hl; ok && i < padded; i++) ok = fputc(' ', f) != EOF;
    free(hs);
    enum { CH = 1 << 16 };
    uint16_t *buf = esz == 2 ? xmalloc(CH * 2) : NULL;
    for (int i = t0; ok && i < t1; i++) {
        const model_tensor *t = &m->tensors[i];
        const float *p = m->params + t->off;
        if (esz == 4) ok = fwrite(p, 4, t->n, f) == t->n;
        else
            for (size_t j = 0; ok && j < t->n; j += CH) {
                size_t n = t->n - j < CH ? t->n - j : CH;
                for (size_t k = 0; k < n; k++) buf[k] = f32_to_bf16(p[j + k]);
                ok = fwrite(buf, 2, n, f) == n;
            }
    }
    free(buf);
    if (fclose(f)) ok = 0;
    if (!ok || rename(tmp, path)) { err_set("%s: write failed: %s", path, strerror(errno)); remove(tmp); return -1; }
    return 0;
}

int ckpt_save(const char *dir, const model_t *m, int dtype, const char *tokenizer_dir) {
    return ckpt_save_sharded(dir, m, dtype, tokenizer_dir, (size_t)5 << 30);
}

int ckpt_save_sharded(const char *dir, const model_t *m, int dtype, const char *tokenizer_dir, size_t max_shard) {
    if (mkdir_p(dir)) return -1;
    const char *dtname = dtype == CKPT_BF16 ? "bfloat16" : "float32";
    char *cfg = model_config_json(&m->c, dtname);
    int rc = write_text(dir, "config.json", cfg);
    free(cfg);
    if (rc) return -1;
    {
        cJSON *g = cJSON_CreateObject();
        if (m->c.bos >= 0) cJSON_AddNumberToObject(g, "bos_token_id", m->c.bos);
        if (m->c.eos >= 0) cJSON_AddNumberToObject(g, "eos_token_id", m->c.eos);
        cJSON_AddBoolToObject(g, "do_sample", 1);
        cJSON_AddNumberToObject(g, "temperature", 0.6);
        cJSON_AddNumberToObject(g, "top_p", 0.95);
        cJSON_AddStringToObject(g, "transformers_version", "4.46.0");
        char *s = cJSON_Print(g);
        cJSON_Delete(g);
        rc = write_text(dir, "generation_config.json", s);
        free(s);
        if (rc) return -1;
    }
    /* shards of at most max_shard bytes, tensors in table order */
    int esz = dtype == CKPT_BF16 ? 2 : 4;
    int nshard = 0, *first = xmalloc(sizeof(int) * (m->ntensors + 1));
    size_t acc = 0;
    for (int i = 0; i < m->ntensors; i++) {
        size_t b = m->tensors[i].n * esz;
        if (i == 0 || (max_shard && acc + b > max_shard && acc > 0)) { first[nshard++] = i; acc = 0; }
        acc += b;
    }
    first[nshard] = m->ntensors;
    char path[4096];
    cJSON *idx = NULL, *wm = NULL;
    size_t total = 0;
    if (nshard > 1) {
        idx = cJSON_CreateObject();
        cJSON *meta = cJSON_AddObjectToObject(idx, "metadata");
        for (int i = 0; i < m->ntensors; i++) total += m->tensors[i].n * esz;
        cJSON_AddNumberToObject(meta, "total_size", (double)total);
        wm = cJSON_AddObjectToObject(idx, "weight_map");
    }
    rc = 0;
    for (int s = 0; s < nshard && !rc; s++) {
        char fname[128];
        if (nshard == 1) snprintf(fname, sizeof fname, "model.safetensors");
        else snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", s + 1, nshard);
        snprintf(path, sizeof path, "%s/%s", dir, fname);
        rc = write_safetensors(path, m, first[s], first[s + 1], esz);
        for (int i = first[s]; wm && i < first[s + 1]; i++) cJSON_AddStringToObject(wm, m->tensors[i].name, fname);
    }
    free(first);
    if (rc) { cJSON_Delete(idx); return -1; }
    if (idx) {
        char *s = cJSON_Print(idx);
        cJSON_Delete(idx);
        rc = write_text(dir, "model.safetensors.index.json", s);
        free(s);
        if (rc) return -1;
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        remove(path);
    } else {
    /* a stale index would shadow the single file on the next load */
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    remove(path);
    }
    if (tokenizer_dir) {
        const char *names[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"};
        for (int i = 0; i < 3; i++) {
            char src[4096], dst[4096];
            snprintf(src, sizeof src, "%s/%s", tokenizer_dir, names[i]);
            snprintf(dst, sizeof dst, "%s/%s", dir, names[i]);
            if (strcmp(src, dst) != 0 && access(src, R_OK) == 0 && copy_file(src, dst)) return -1;
        }
    }
    return 0;
}
