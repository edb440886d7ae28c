#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "core/err.h"
#include "core/hash.h"
#include "core/utf8.h"
#include "filter/words.h"

unsigned lang_scripts(const char *lang) {
    if (!lang) return 0;
    static const char *latin[] = {"en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "pl",
                                  "cs", "ro", "hu", "tr", "id", "vi", "ca", "hr", "sk", "sl", NULL};
    for (int i = 0; latin[i]; i++)
        if (strncmp(lang, latin[i], 2) == 0 && (lang[2] == 0 || lang[2] == '-' || lang[2] == '_')) return SCRIPT_LATIN;
    if (strncmp(lang, "zh", 2) == 0) return SCRIPT_HAN;
    if (strncmp(lang, "ja", 2) == 0) return SCRIPT_HAN | SCRIPT_KANA;
    if (strncmp(lang, "ko", 2) == 0) return SCRIPT_HANGUL | SCRIPT_HAN;
    if (strncmp(lang, "ru", 2) == 0 || strncmp(lang, "uk", 2) == 0 || strncmp(lang, "bg", 2) == 0) return SCRIPT_CYRILLIC;
    return 0;
}

void cot_words_free(cot_words *c) {
    free(c->w);
    memset(c, 0, sizeof *c);
}

static inline void push(cot_words *c, uint64_t h, uint32_t nchars, unsigned script, unsigned target) {
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->w = xrealloc(c->w, c->cap * sizeof *c->w);
    }
    c->w[c->n++] = (word_t){.h = mix64(h ^ script), .nchars = nchars, .script = script};
    if (script & target) c->n_target++;
    else c->n_other++;
}

/* Script of a non-ASCII letter-ish code point; 0 for anything not a letter
 * (punctuation, symbols, Greek used as maths, full-width forms). */
static unsigned script_of(uint32_t cp) {
    if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0x20000 && cp <= 0x2FFFF)) return SCRIPT_HAN;
    if (cp >= 0x00C0 && cp <= 0x024F) return (cp == 0xD7 || cp == 0xF7) ? 0 : SCRIPT_LATIN;
    if (cp >= 0x0370 && cp <= 0x03FF) return 0;   /* Greek: π, θ, Δ are maths here */
    if (cp >= 0x0400 && cp <= 0x04FF) return SCRIPT_CYRILLIC;
    if (cp >= 0x3040 && cp <= 0x30FF) return SCRIPT_KANA;
    if ((cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x1100 && cp <= 0x11FF)) return SCRIPT_HANGUL;
    if (cp < 0x0500) return 0;
    if (cp >= 0x2000 && cp <= 0x2BFF) return 0;    /* punctuation, arrows, maths operators */
    if (cp >= 0x3000 && cp <= 0x303F) return 0;    /* CJK punctuation */
    if (cp >= 0xFF00 && cp <= 0xFFEF) return 0;    /* full-width forms */
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
    if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) return SCRIPT_OTHER;
    return 0;
}

static inline int is_alpha(unsigned char c) { return (unsigned char)((c | 32) - 'a') < 26; }
static inline int is_digit(unsigned char c) { return (unsigned char)(c - '0') < 10; }

void cot_scan(const char *text, size_t n, unsigned target, cot_words *c) {
    const unsigned char *s = (const unsigned char *)text;
    c->n = 0;
    c->n_target = c->n_other = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char ch = s[i];
        if (ch < 0x80) {
            if (is_alpha(ch)) {
                size_t b = i;
                uint64_t h = 1469598103934665603ULL;
                while (i < n && is_alpha(s[i])) { h = (h ^ (s[i] | 32)) * 1099511628211ULL; i++; }
                /* a Latin word continues through accented letters: "café" */
                uint32_t extra = 0;
                while (i + 1 < n && s[i] >= 0xC3 && s[i] <= 0xC9) {
                    uint32_t cp;
                    int k = utf8_decode(s + i, n - i, &cp);
                    if (!k || script_of(cp) != SCRIPT_LATIN) break;
                    h = (h ^ cp) * 1099511628211ULL;
                    i += (size_t)k;
                    extra++;
                    while (i < n && is_alpha(s[i])) { h = (h ^ (s[i] | 32)) * 1099511628211ULL; i++; }
                }
                size_t len = i - b;
                int glued = (b > 0 && (is_digit(s[b - 1]) || s[b - 1] == '\\')) || (i < n && is_digit(s[i]));
                if (b > 0 && s[b - 1] == '\\') continue;  /* LaTeX command name */
                if ((len > 1 || extra) && !glued) push(c, h, (uint32_t)(len - extra), SCRIPT_LATIN, target);
                continue;
            }
            if (ch == '\\') { i++; continue; }
            if (ch == '<') {   /* a tag: skip to '>' within a short distance */
                size_t j = i + 1;
                while (j < n && j < i + 24 && (is_alpha(s[j]) || s[j] == '/' || s[j] == '_')) j++;
                if (j < n && s[j] == '>' && j > i + 1) { i = j + 1; continue; }
                i++;
                continue;
            }
            if (ch == '$') {   /* inline maths: skip to the closing $ on the same line */
                size_t j = i + 1;
                while (j < n && s[j] != '$' && s[j] != '\n') j++;
                if (j < n && s[j] == '$') { i = j + 1; continue; }
                i++;
                continue;
            }
            i++;
            continue;
        }
        uint32_t cp;
        int k = utf8_decode(s + i, n - i, &cp);
        if (!k) { i++; continue; }
        unsigned sc = script_of(cp);
        if (sc == SCRIPT_HAN) {
            push(c, cp, 1, SCRIPT_HAN, target);
            i += (size_t)k;
            continue;
        }
        if (sc == SCRIPT_LATIN) {  /* a word starting with an accented letter */
            uint64_t h = 1469598103934665603ULL;
            uint32_t nch = 0;
            while (i < n) {
                if (is_alpha(s[i])) { h = (h ^ (s[i] | 32)) * 1099511628211ULL; i++; nch++; continue; }
                int kk = utf8_decode(s + i, n - i, &cp);
                if (!kk || script_of(cp) != SCRIPT_LATIN) break;
                h = (h ^ cp) * 1099511628211ULL;
                i += (size_t)kk;
                nch++;
            }
            push(c, h, nch, SCRIPT_LATIN, target);
            continue;
        }
        if (sc) {   /* other scripts: runs of letters of that script */
            uint64_t h = 1469598103934665603ULL;
            uint32_t nch = 0;
            while (i < n) {
                int kk = utf8_decode(s + i, n - i, &cp);
                if (!kk || script_of(cp) != sc) break;
                h = (h ^ cp) * 1099511628211ULL;
                i += (size_t)kk;
                nch++;
            }
            push(c, h, nch, sc, target);
            continue;
        }
        i += (size_t)k;
    }
}

double lang_ratio(const cot_words *c) {
    uint64_t t = c->n_target + c->n_other;
    return t ? (double)c->n_target / (double)t : -1.0;
}
