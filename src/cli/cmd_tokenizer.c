#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/strbuf.h"
#include "core/utf8.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/train.h"

/* Read one line (without its '\n') into *line; returns its length or -1 at EOF. */
static ssize_t read_line(FILE *f, char **line, size_t *cap) {
    ssize_t n = getline(line, cap, f);
    if (n < 0) return -1;
    if (n > 0 && (*line)[n - 1] == '\n') (*line)[--n] = 0;
    return n;
}

static int hex4(const char *s, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        *v = *v * 16 + (uint32_t)d;
    }
    return 0;
}

/* A JSON string line -> its bytes. Written here rather than with cJSON
 * because texts may hold U+0000 (\u0000), which C strings cannot; raw bytes
 * are kept as they are, so a line may carry invalid UTF-8 for the encoder to
 * replace. A lone surrogate escape becomes U+FFFD, as TextEncoder does. */
static int json_string_line(const char *s, size_t n, long lineno, strbuf *out) {
    sb_reset(out);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\t')) n--;
    if (n < 2 || s[0] != '"' || s[n - 1] != '"') goto bad;
    for (size_t i = 1; i + 1 < n; i++) {
        char c = s[i];
        if (c == '"') goto bad;
        if (c != '\\') { sb_putc(out, c); continue; }
        if (++i + 1 >= n) goto bad;
        char e = s[i], u8[4];
        switch (e) {
        case '"': case '\\': case '/': sb_putc(out, e); break;
        case 'b': sb_putc(out, '\b'); break;
        case 'f': sb_putc(out, '\f'); break;
        case 'n': sb_putc(out, '\n'); break;
        case 'r': sb_putc(out, '\r'); break;
        case 't': sb_putc(out, '\t'); break;
        case 'u': {
            uint32_t cp, lo;
            if (i + 4 >= n || hex4(s + i + 1, &cp)) goto bad;
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u' &&
                !hex4(s + i + 3, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            sb_putn(out, u8, (size_t)utf8_encode(cp, u8));
            break;
        }
        default: goto bad;
        }
    }
    return 0;
bad:
    err_set("stdin line %ld: not a JSON string", lineno);
    return -1;
}

/* Bytes as a JSON string: quotes, backslashes and control characters
 * escaped, everything else (invalid UTF-8 included) as it is. */
static void json_put_string(strbuf *b, const char *s, size_t n) {
    sb_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { sb_putc(b, '\\'); sb_putc(b, (char)c); }
        else if (c == '\n') sb_puts(b, "\\n");
        else if (c == '\r') sb_puts(b, "\\r");
        else if (c == '\t') sb_puts(b, "\\t");
        else if (c < 0x20 || c == 0x7f) sb_printf(b, "\\u%04x", c);
        else sb_putc(b, (char)c);
    }
    sb_putc(b, '"');
}

static int tok_encode(int argc, char **argv) {
    const char *path = NULL, *format = "text";
    opt_def opts[] = {
        O_STR("tokenizer", &path, "PATH", "tokenizer.json, or a model directory holding one (required)"),
        O_CHOICE("format", &format, "text|json", "input lines: raw text, or one JSON string per line (for text with newlines)"),
        O_END,
    };
    cmd_spec spec = {"tokenizer encode", "retort tokenizer encode --tokenizer PATH [--format text|json] < lines",
                     "Print one JSON array of token ids per input line.",
                     "Each stdin line is one text (the '\\n' is not part of it; a '\\r' is). With\n"
                     "--format json each line is a JSON string, so texts can hold newlines.\n"
                     "Invalid UTF-8 is replaced by U+FFFD (one per maximal ill-formed subpart, as\n"
                     "TextDecoder does) before encoding. Added and special tokens written in the\n"
                     "text are encoded as those tokens.",
                     opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);
    if (!path) return opts_error(&spec, "--tokenizer is required");
    tokenizer_t *t = tokenizer_load(path);
    if (!t) { err_print(); return EXIT_RUNTIME; }
    int json = strcmp(format, "json") == 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    tok_ids ids = {0};
    strbuf out, text;
    sb_init(&out);
    sb_init(&text);
    int rc = EXIT_OK;
    while ((n = read_line(stdin, &line, &cap)) >= 0) {
        lineno++;
        ids.n = 0;
        if (json) {
            if (json_string_line(line, (size_t)n, lineno, &text)) { err_print(); rc = EXIT_RUNTIME; break; }
            tokenizer_encode(t, text.s, text.len, &ids);
        } else {
            tokenizer_encode(t, line, (size_t)n, &ids);
        }
        sb_reset(&out);
        sb_putc(&out, '[');
        for (size_t i = 0; i < ids.n; i++) sb_printf(&out, i ? ",%u" : "%u", ids.v[i]);
        sb_puts(&out, "]\n");
        fwrite(out.s, 1, out.len, stdout);
    }
    free(line);
    sb_free(&out);
    sb_free(&text);
    tok_ids_free(&ids);
    tokenizer_free(t);
    return rc;
}

static int tok_decode(int argc, char **argv) {
    const char *path = NULL, *format = "text";
    int skip = 0;
    opt_def opts[] = {
        O_STR("tokenizer", &path, "PATH", "tokenizer.json, or a model directory holding one (required)"),
        O_CHOICE("format", &format, "text|json", "output lines: raw text, or one JSON string per line"),
        O_FLAG("skip-special", &skip, "leave out tokens marked special"),
        O_END,
    };
    cmd_spec spec = {"tokenizer decode", "retort tokenizer decode --tokenizer PATH [--format text|json] < arrays",
                     "Read one JSON array of token ids per line; print the text each decodes to.",
                     "With --format json each text is printed as a JSON string (texts may hold\n"
                     "newlines). Decoding is byte-exact: decode(encode(x)) == x for valid UTF-8 x\n"
                     "in the tokenizer's normal form (NFC for Qwen).",
                     opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);
    if (!path) return opts_error(&spec, "--tokenizer is required");
    tokenizer_t *t = tokenizer_load(path);
    if (!t) { err_print(); return EXIT_RUNTIME; }
    int json = strcmp(format, "json") == 0;
    char *line = NULL, *text = NULL;
    size_t cap = 0, tcap = 0;
    ssize_t n;
    long lineno = 0;
    uint32_t *ids = NULL;
    size_t icap = 0;
    int rc = EXIT_OK;
    strbuf js;
    sb_init(&js);
    while ((n = read_line(stdin, &line, &cap)) >= 0) {
        lineno++;
        cJSON *a = cJSON_ParseWithLength(line, (size_t)n), *e;
        if (!cJSON_IsArray(a)) {
            cJSON_Delete(a);
            err_set("stdin line %ld: not a JSON array of ids", lineno);
            err_print();
            rc = EXIT_RUNTIME;
            break;
        }
        size_t k = 0, m = (size_t)cJSON_GetArraySize(a);
        if (m > icap) { icap = m * 2; ids = xrealloc(ids, icap * sizeof *ids); }
        int bad = 0;
        cJSON_ArrayForEach(e, a) {
            if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 4294967295.0) { bad = 1; break; }
            ids[k++] = (uint32_t)e->valuedouble;
        }
        cJSON_Delete(a);
        size_t tlen = 0;
        if (bad || tokenizer_decode(t, ids, k, skip, &text, &tlen, &tcap)) {
            if (bad) err_set("stdin line %ld: ids must be integers in 0..4294967295", lineno);
            else err_prefix("stdin line %ld", lineno);
            err_print();
            rc = EXIT_RUNTIME;
            break;
        }
        if (json) {
            sb_reset(&js);
            json_put_string(&js, text, tlen);
            sb_putc(&js, '\n');
            fwrite(js.s, 1, js.len, stdout);
        } else {
            fwrite(text, 1, tlen, stdout);
            fputc('\n', stdout);
        }
    }
    free(line);
    free(text);
    free(ids);
    sb_free(&js);
    tokenizer_free(t);
    return rc;
}

static int tok_train(int argc, char **argv) {
    const char *db_path = "retort.db", *mix = NULL, *out = NULL, *tmpl = "r1";
    long vocab = 4096;
    opt_def opts[] = {
        O_STR("db", &db_path, "PATH", "database holding the mix"),
        O_STR("mix", &mix, "NAME", "mix whose user and assistant texts are the training text (required)"),
        O_INT("vocab", &vocab, "N", "vocabulary size, special tokens and the 256 bytes included", 300, 1000000),
        O_CHOICE("template", &tmpl, "r1|chatml|llama3", "chat template written into tokenizer_config.json; its BOS/EOS become bos_token/eos_token"),
        O_STR("out", &out, "DIR", "directory to write tokenizer.json and tokenizer_config.json into (required)"),
        O_END,
    };
    cmd_spec spec = {"tokenizer train", "retort tokenizer train --db D --mix NAME --vocab N --out DIR",
                     "Train a byte-level BPE (Qwen2 pre-tokenizer, NFC) on a mix's texts.",
                     "The special tokens of all built-in chat templates, <think>, </think>,\n"
                     "<answer>, </answer> and a PAD token are added first and never split; the\n"
                     "256 byte symbols follow, then merges until the vocabulary has N entries or\n"
                     "no pair occurs twice. The files follow Hugging Face's tokenizer.json\n"
                     "layout; the JS reference (transformers.js) loads them and encodes exactly as\n"
                     "retort does (tested).",
                     opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);
    if (!mix) return opts_error(&spec, "--mix is required");
    if (!out) return opts_error(&spec, "--out is required");
    sqlite3 *db;
    int rc = cli_open_db(db_path, 0, &db);
    if (rc) return rc;
    int64_t run = cli_run_start(db, &spec);
    if (run < 0) { db_close(db); return EXIT_RUNTIME; }
    bpe_train_opts o = {.vocab_size = (uint32_t)vocab, .template_name = tmpl, .verbose = 1};
    rc = bpe_train_mix(db, mix, &o, out);
    if (rc) err_print();
    run_finish(db, run, rc ? "failed" : "ok", rc ? err_msg() : NULL);
    db_close(db);
    return rc ? EXIT_RUNTIME : EXIT_OK;
}

int cmd_tokenizer(int argc, char **argv) {
    const char *sub = argc > 1 ? argv[1] : "";
    if (strcmp(sub, "encode") == 0) return tok_encode(argc - 1, argv + 1);
    if (strcmp(sub, "decode") == 0) return tok_decode(argc - 1, argv + 1);
    if (strcmp(sub, "train") == 0) return tok_train(argc - 1, argv + 1);
    FILE *f = (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) ? stdout : stderr;
    fprintf(f, "usage: retort tokenizer <encode|decode|train> [options]\n\n"
               "  encode   text lines on stdin -> JSON arrays of token ids\n"
               "  decode   JSON arrays of token ids on stdin -> text lines\n"
               "  train    train a byte-level BPE tokenizer on a mix\n\n"
               "'retort tokenizer SUB --help' lists each one's flags.\n");
    return f == stdout ? EXIT_OK : EXIT_USAGE;
}
