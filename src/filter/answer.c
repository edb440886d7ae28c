#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include "core/err.h"
#include "core/rational.h"
#include "filter/answer.h"

/* Parsing depth for ( { \frac nesting inside one answer: far beyond any real
 * answer, and each level owns preallocated rationals. */
#define MAX_DEPTH 12

struct ans_scratch {
    strbuf clean;               /* the answer rewritten to a small ASCII grammar */
    strbuf canon_a, canon_b;    /* canonical text of candidates */
    mpq_t lv[MAX_DEPTH][2];     /* rationals per parse level */
    mpq_t ref, cand;            /* candidate comparison */
    mpz_t z;
    char digits[ANS_MAX_LEN + 8];
};

ans_scratch *ans_scratch_new(void) {
    ans_scratch *s = xcalloc(1, sizeof *s);
    sb_init(&s->clean);
    sb_init(&s->canon_a);
    sb_init(&s->canon_b);
    sb_grow(&s->clean, ANS_MAX_LEN * 2);
    for (int i = 0; i < MAX_DEPTH; i++) { mpq_init(s->lv[i][0]); mpq_init(s->lv[i][1]); }
    mpq_init(s->ref);
    mpq_init(s->cand);
    mpz_init(s->z);
    return s;
}

void ans_scratch_free(ans_scratch *s) {
    if (!s) return;
    sb_free(&s->clean);
    sb_free(&s->canon_a);
    sb_free(&s->canon_b);
    for (int i = 0; i < MAX_DEPTH; i++) { mpq_clear(s->lv[i][0]); mpq_clear(s->lv[i][1]); }
    mpq_clear(s->ref);
    mpq_clear(s->cand);
    mpz_clear(s->z);
    free(s);
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alpha(int c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* ---- cleaning: LaTeX and Unicode spellings down to a tiny grammar --------
 * Output alphabet: digits . , + - / * ^ ( ) { } % = e E 'F' (a \frac marker),
 * spaces, letters (units, variables) and anything else verbatim (which makes
 * the number parse fail, as it should). */
static int cmd_is(const char *c, size_t n, const char *w) { return strlen(w) == n && memcmp(c, w, n) == 0; }

static void clean_answer(strbuf *o, const char *s, size_t n) {
    sb_reset(o);
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '$') { i++; continue; }
        if (c == '*' && i + 1 < n && s[i + 1] == '*') { i += 2; continue; }
        if (is_space(c) || c == '~') {
            if (o->len && o->s[o->len - 1] != ' ') sb_putc(o, ' ');
            i++;
            continue;
        }
        if (c == '{' && i + 2 < n && s[i + 1] == ',' && s[i + 2] == '}') { sb_putc(o, ','); i += 3; continue; }
        if (c >= 0x80 && i + 1 < n) {
            unsigned char d = (unsigned char)s[i + 1], e = i + 2 < n ? (unsigned char)s[i + 2] : 0;
            if (c == 0xE2 && d == 0x88 && e == 0x92) { sb_putc(o, '-'); i += 3; continue; }     /* U+2212 minus */
            if (c == 0xE2 && d == 0x80 && (e == 0x93 || e == 0x94)) { sb_putc(o, '-'); i += 3; continue; } /* dashes */
            if (c == 0xC3 && d == 0x97) { sb_putc(o, '*'); i += 2; continue; }                   /* × */
            if (c == 0xC2 && d == 0xB7) { sb_putc(o, '*'); i += 2; continue; }                   /* · */
            if (c == 0xC2 && d == 0xB0) { i += 2; continue; }                                    /* ° */
            if (c == 0xC2 && d == 0xA0) { sb_putc(o, ' '); i += 2; continue; }                   /* nbsp */
            if (c == 0xEF && d == 0xBC && e == 0x85) { sb_putc(o, '%'); i += 3; continue; }     /* ％ */
            if (c == 0xEF && d == 0xBC && e == 0x8C) { sb_putc(o, ','); i += 3; continue; }     /* ， */
            if (c == 0xE3 && d == 0x80 && e == 0x82) { sb_putc(o, '.'); i += 3; continue; }     /* 。 */
            if (c == 0xE2 && d == 0x80 && e == 0x89) { i += 3; continue; }                       /* thin space */
        }
        if (c == '\\') {
            i++;
            if (i >= n) break;
            if (!is_alpha((unsigned char)s[i])) {
                char e = s[i++];
                if (e == '%') sb_putc(o, '%');
                else if (e == '{') sb_putc(o, '{');
                else if (e == '}') sb_putc(o, '}');
                /* \, \; \: \! \  \\ : spacing, dropped */
                continue;
            }
            size_t b = i;
            while (i < n && is_alpha((unsigned char)s[i])) i++;
            const char *cmd = s + b;
            size_t cl = i - b;
            if (cmd_is(cmd, cl, "frac") || cmd_is(cmd, cl, "dfrac") || cmd_is(cmd, cl, "tfrac")) sb_putc(o, 'F');
            else if (cmd_is(cmd, cl, "times") || cmd_is(cmd, cl, "cdot")) sb_putc(o, '*');
            else if (cmd_is(cmd, cl, "circ") || cmd_is(cmd, cl, "degree")) {
                if (o->len && o->s[o->len - 1] == '^') o->len--, o->s[o->len] = 0;
            } else if (cmd_is(cmd, cl, "left") || cmd_is(cmd, cl, "right") || cmd_is(cmd, cl, "displaystyle") ||
                       cmd_is(cmd, cl, "textstyle") || cmd_is(cmd, cl, "text") || cmd_is(cmd, cl, "textbf") ||
                       cmd_is(cmd, cl, "textrm") || cmd_is(cmd, cl, "mathrm") || cmd_is(cmd, cl, "mathbf") ||
                       cmd_is(cmd, cl, "mbox") || cmd_is(cmd, cl, "boxed") || cmd_is(cmd, cl, "quad") ||
                       cmd_is(cmd, cl, "qquad") || cmd_is(cmd, cl, "bigl") || cmd_is(cmd, cl, "bigr") ||
                       cmd_is(cmd, cl, "Bigl") || cmd_is(cmd, cl, "Bigr")) {
                /* wrapper or spacing: the braces that follow become plain groups */
            } else {
                sb_putc(o, '\\');
                sb_putn(o, cmd, cl);
            }
            continue;
        }
        sb_putc(o, (char)c);
        i++;
    }
    /* trim, then drop final sentence punctuation */
    size_t a = 0, e = o->len;
    for (;;) {
        while (a < e && o->s[a] == ' ') a++;
        while (e > a && (o->s[e - 1] == ' ' || o->s[e - 1] == '.' || o->s[e - 1] == ';' || o->s[e - 1] == '!')) e--;
        break;
    }
    memmove(o->s, o->s + a, e - a);
    o->len = e - a;
    o->s[o->len] = 0;
}

/* ---- the number grammar --------------------------------------------------
 * value := sign? atom [mixed] ['/' sign? atom] [sci]
 * atom  := '(' value ')' | '{' value '}' | 'F' group group | decimal
 * No recursion deeper than MAX_DEPTH; the input is at most ANS_MAX_LEN bytes. */
typedef struct {
    ans_scratch *sc;
    const char *p, *end;
} parser;

static void skip_sp(parser *P) { while (P->p < P->end && *P->p == ' ') P->p++; }

/* Decimal with optional thousands separators ("1,234,567.50", ".5", "5."). */
static int parse_decimal(parser *P, mpq_t q, int *is_int) {
    const char *p = P->p;
    size_t nd = 0, frac = 0;
    int seen_dot = 0, group = -1; /* digits since last comma, -1 before any comma */
    size_t lead = 0;              /* digits before the first comma */
    char *d = P->sc->digits;
    while (p < P->end) {
        char c = *p;
        if (is_digit(c)) {
            if (nd >= ANS_MAX_LEN) return -1;
            d[nd++] = c;
            if (seen_dot) frac++;
            else if (group >= 0) group++;
            else lead++;
            p++;
        } else if (c == ',' && !seen_dot && p + 1 < P->end && is_digit(p[1])) {
            /* a thousands separator needs 1-3 digits before the first and
             * exactly 3 between the others */
            if (group < 0 ? (lead < 1 || lead > 3) : group != 3) return -1;
            group = 0;
            p++;
        } else if (c == '.' && !seen_dot && (p + 1 >= P->end || !is_digit(p[1]) ? nd > 0 : 1)) {
            seen_dot = 1;
            p++;
        } else break;
    }
    if (nd == 0) return -1;
    if (group >= 0 && group != 3) return -1;
    d[nd] = 0;
    if (nd <= 18) {
        uint64_t v = 0;
        for (size_t i = 0; i < nd; i++) v = v * 10 + (uint64_t)(d[i] - '0');
        mpz_set_ui(mpq_numref(q), v);
    } else {
        mpz_set_str(mpq_numref(q), d, 10);
    }
    if (frac) mpz_ui_pow_ui(mpq_denref(q), 10, frac);
    else mpz_set_ui(mpq_denref(q), 1);
    mpq_canonicalize(q);
    *is_int = !seen_dot;
    P->p = p;
    return 0;
}

static int parse_value(parser *P, mpq_t q, int depth);

static int parse_group(parser *P, mpq_t q, int depth) {
    skip_sp(P);
    if (P->p < P->end && *P->p == '{') {
        P->p++;
        if (parse_value(P, q, depth + 1)) return -1;
        skip_sp(P);
        if (P->p >= P->end || *P->p != '}') return -1;
        P->p++;
        return 0;
    }
    /* \frac12 shorthand: a single digit */
    if (P->p < P->end && is_digit(*P->p)) {
        mpq_set_ui(q, (unsigned long)(*P->p - '0'), 1);
        P->p++;
        return 0;
    }
    return -1;
}

/* kind: 0 integer literal, 1 other number, 2 a \frac */
static int parse_atom(parser *P, mpq_t q, int depth, int *kind) {
    if (depth >= MAX_DEPTH) return -1;
    skip_sp(P);
    if (P->p >= P->end) return -1;
    char c = *P->p;
    if (c == '(' || c == '{') {
        char close = c == '(' ? ')' : '}';
        P->p++;
        if (parse_value(P, q, depth + 1)) return -1;
        skip_sp(P);
        if (P->p >= P->end || *P->p != close) return -1;
        P->p++;
        *kind = 1;
        return 0;
    }
    if (c == 'F') {
        mpq_ptr den = P->sc->lv[depth][1];
        P->p++;
        if (parse_group(P, q, depth) || parse_group(P, den, depth)) return -1;
        if (mpq_sgn(den) == 0) return -1;
        mpq_div(q, q, den);
        *kind = 2;
        return 0;
    }
    if (is_digit(c) || c == '.') {
        int is_int;
        if (parse_decimal(P, q, &is_int)) return -1;
        *kind = is_int ? 0 : 1;
        return 0;
    }
    return -1;
}

static int parse_value(parser *P, mpq_t q, int depth) {
    if (depth >= MAX_DEPTH) return -1;
    mpq_ptr t = P->sc->lv[depth][0];
    skip_sp(P);
    int neg = 0;
    if (P->p < P->end && (*P->p == '-' || *P->p == '+')) { neg = *P->p == '-'; P->p++; }
    int kind;
    if (parse_atom(P, q, depth + 1, &kind)) return -1;
    const char *save = P->p;
    skip_sp(P);
    int spaced = P->p > save;
    if (P->p < P->end && kind == 0 && (*P->p == 'F' || (spaced && is_digit(*P->p)))) {
        /* mixed number: integer part then a proper fraction ("2 1/2", "2\frac{1}{2}") */
        int k2;
        if (parse_atom(P, t, depth + 1, &k2)) return -1;
        if (k2 == 0) {
            skip_sp(P);
            if (P->p >= P->end || *P->p != '/') return -1;
            P->p++;
            mpq_ptr d = P->sc->lv[depth][1];
            int k3;
            if (parse_atom(P, d, depth + 1, &k3) || k3 != 0 || mpq_sgn(d) == 0) return -1;
            mpq_div(t, t, d);
        } else if (k2 != 2) return -1;
        /* proper and non-negative, or it is not a mixed number */
        if (mpq_sgn(t) < 0 || mpz_cmp(mpq_numref(t), mpq_denref(t)) >= 0) return -1;
        mpq_add(q, q, t);
    } else if (P->p < P->end && *P->p == '/') {
        P->p++;
        skip_sp(P);
        int dneg = 0;
        if (P->p < P->end && (*P->p == '-' || *P->p == '+')) { dneg = *P->p == '-'; P->p++; }
        int k2;
        if (parse_atom(P, t, depth + 1, &k2) || mpq_sgn(t) == 0) return -1;
        mpq_div(q, q, t);
        if (dneg) mpq_neg(q, q);
    }
    /* scientific notation: 1.1E+2, 1.1e-3, 1.1 * 10^{2}, 1.1\times10^2 */
    skip_sp(P);
    long ex = 0;
    int have_exp = 0;
    if (P->p < P->end && (*P->p == 'e' || *P->p == 'E') && P->p + 1 < P->end &&
        (is_digit(P->p[1]) || ((P->p[1] == '+' || P->p[1] == '-') && P->p + 2 < P->end && is_digit(P->p[2])))) {
        P->p++;
        int en = 0;
        if (*P->p == '+' || *P->p == '-') { en = *P->p == '-'; P->p++; }
        while (P->p < P->end && is_digit(*P->p)) {
            ex = ex * 10 + (*P->p - '0');
            if (ex > ANS_MAX_EXP) return -1;
            P->p++;
        }
        if (en) ex = -ex;
        have_exp = 1;
    } else if (P->p + 3 < P->end && *P->p == '*') {
        const char *r = P->p + 1;
        while (r < P->end && *r == ' ') r++;
        if (r + 2 < P->end && r[0] == '1' && r[1] == '0' && r[2] == '^') {
            r += 3;
            int brace = r < P->end && *r == '{';
            if (brace) r++;
            int en = 0;
            if (r < P->end && (*r == '+' || *r == '-')) { en = *r == '-'; r++; }
            if (r >= P->end || !is_digit(*r)) return -1;
            while (r < P->end && is_digit(*r)) {
                ex = ex * 10 + (*r - '0');
                if (ex > ANS_MAX_EXP) return -1;
                r++;
                if (!brace) break; /* 10^23 without braces is 10^2 * 3 in LaTeX; take one digit */
            }
            if (brace) { if (r >= P->end || *r != '}') return -1; r++; }
            if (en) ex = -ex;
            have_exp = 1;
            P->p = r;
        }
    }
    if (have_exp && ex) {
        mpz_ui_pow_ui(P->sc->z, 10, (unsigned long)(ex < 0 ? -ex : ex));
        mpq_set_z(t, P->sc->z);
        if (ex > 0) mpq_mul(q, q, t);
        else mpq_div(q, q, t);
    }
    if (neg) mpq_neg(q, q);
    return 0;
}

/* Does the cleaned text look like a variable name ("x", "n", "x_1", "ans")? */
static int is_variable(const char *s, size_t n) {
    while (n && s[n - 1] == ' ') n--;
    while (n && *s == ' ') s++, n--;
    if (n == 0 || n > 16 || !is_alpha((unsigned char)s[0])) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '{' && c != '}') return 0;
    }
    return 1;
}

int ans_parse_number(ans_scratch *sc, const char *s, size_t n, int percent, mpq_t q) {
    if (n == 0 || n > ANS_MAX_LEN) return -1;
    clean_answer(&sc->clean, s, n);
    const char *b = sc->clean.s, *e = b + sc->clean.len;
    /* "x = 5": only a bare variable on the left. Anything else ("x-5=0",
     * "2+3=5") is refused rather than collapsed to 0 = 0. */
    const char *eq = memrchr(b, '=', (size_t)(e - b));
    if (eq) {
        if (memchr(b, '=', (size_t)(eq - b)) || !is_variable(b, (size_t)(eq - b))) return -1;
        b = eq + 1;
    }
    while (b < e && *b == ' ') b++;
    int pct = 0;
    if (e > b && e[-1] == '%') {
        pct = 1;
        e--;
        while (e > b && e[-1] == ' ') e--;
    }
    if (b == e) return -1;
    parser P = {.sc = sc, .p = b, .end = e};
    if (parse_value(&P, q, 0)) return -1;
    skip_sp(&P);
    /* a trailing unit word ("5 km", "12 apples", "7 元") is allowed; any
     * other trailing text makes it not a number */
    for (const char *r = P.p; r < P.end; r++) {
        unsigned char c = (unsigned char)*r;
        if (!(is_alpha(c) || c == ' ' || c == '{' || c == '}' || c >= 0x80) || c == 'F') return -1;
    }
    if (pct && !percent) {
        mpq_set_ui(sc->lv[MAX_DEPTH - 1][1], 100, 1);   /* q may be sc->cand: use a level temp */
        mpq_div(q, q, sc->lv[MAX_DEPTH - 1][1]);
    }
    return 0;
}

/* ---- text answers ---------------------------------------------------------- */
void ans_canon_text(const char *s, size_t n, strbuf *out) {
    size_t start = out->len;
    size_t i = 0;
    int han = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\') {   /* \text, \mathrm ...: drop the command, keep its argument */
            i++;
            while (i < n && is_alpha((unsigned char)s[i])) i++;
            continue;
        }
        if (c == '{' || c == '}' || c == '$' || c == '*' || c == '"' || c == '\'') { i++; continue; }
        if (c == '-' || c == '_' || is_space(c) || c == ',' || c == ';' || c == ':') {
            if (out->len > start && out->s[out->len - 1] != ' ') sb_putc(out, ' ');
            i++;
            continue;
        }
        if (c >= 0x80) {
            if (c >= 0xE3 && c <= 0xE9) han = 1;
            /* full-width punctuation: 。，、 are separators */
            if (c == 0xE3 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                ((unsigned char)s[i + 2] == 0x82 || (unsigned char)s[i + 2] == 0x81)) { i += 3; continue; }
            if (c == 0xEF && i + 2 < n && (unsigned char)s[i + 1] == 0xBC && (unsigned char)s[i + 2] == 0x8C) { i += 3; continue; }
            sb_putc(out, (char)c);
            i++;
            continue;
        }
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        if (c == '.' || c == '!' || c == '?') { i++; continue; }
        sb_putc(out, (char)c);
        i++;
    }
    /* drop the word "and" and trailing space */
    size_t w = start, r = start;
    char *b = out->s;
    while (r < out->len) {
        size_t e = r;
        while (e < out->len && b[e] != ' ') e++;
        if (!(e - r == 3 && memcmp(b + r, "and", 3) == 0) && e > r) {
            if (w > start) b[w++] = ' ';
            memmove(b + w, b + r, e - r);
            w += e - r;
        }
        r = e + 1;
    }
    out->len = w;
    out->s[w] = 0;
    if (han) {   /* Chinese text: spaces carry no meaning */
        size_t k = start;
        for (size_t j = start; j < out->len; j++) if (b[j] != ' ') b[k++] = b[j];
        out->len = k;
        out->s[k] = 0;
    }
}

/* ---- extraction ---------------------------------------------------------- */
static const char *memmem_ci_last(const char *h, size_t n, const char *needle) {
    size_t m = strlen(needle);
    if (m > n) return NULL;
    for (size_t i = n - m + 1; i-- > 0;) {
        size_t k = 0;
        while (k < m) {
            char a = h[i + k];
            if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
            if (a != needle[k]) break;
            k++;
        }
        if (k == m) return h + i;
    }
    return NULL;
}

static const char *memmem_last(const char *h, size_t n, const char *needle) {
    size_t m = strlen(needle);
    const char *last = NULL, *p = h;
    while ((size_t)(p - h) + m <= n) {
        const char *f = memmem(p, n - (size_t)(p - h), needle, m);
        if (!f) break;
        last = f;
        p = f + 1;
    }
    return last;
}

/* Compare candidate s[0..n) with the reference: normalize both to numbers when
 * they parse, else to canonical text. First call (have_ref == 0) sets the ref. */
typedef struct { int have; int is_num; } cand_ref;

static int same_as_ref(ans_scratch *sc, cand_ref *ref, const char *s, size_t n, int percent) {
    int num = ans_parse_number(sc, s, n, percent, sc->cand) == 0;
    if (!ref->have) {
        ref->have = 1;
        ref->is_num = num;
        if (num) mpq_set(sc->ref, sc->cand);
        else { sb_reset(&sc->canon_a); ans_canon_text(s, n, &sc->canon_a); }
        return 1;
    }
    if (num != ref->is_num) return 0;
    if (num) return mpq_equal(sc->ref, sc->cand);
    sb_reset(&sc->canon_b);
    ans_canon_text(s, n, &sc->canon_b);
    return sc->canon_a.len == sc->canon_b.len && memcmp(sc->canon_a.s, sc->canon_b.s, sc->canon_a.len) == 0;
}

static int starts_with(const char *p, const char *end, const char *w) {
    size_t m = strlen(w);
    return (size_t)(end - p) >= m && memcmp(p, w, m) == 0;
}

void ans_extract(ans_scratch *sc, const char *region, size_t n, int whole_region, int percent, ans_extract_t *out) {
    *out = (ans_extract_t){.status = ANS_NONE, .source = ANS_SRC_NONE};
    cand_ref ref = {0};
    int ambiguous = 0;
    const char *end = region + n;

    /* <verifier_answer>X</verifier_answer>: every one must agree */
    const char *p = region;
    while (p < end) {
        const char *o = memmem(p, (size_t)(end - p), "<verifier_answer>", 17);
        if (!o) break;
        const char *a = o + 17;
        const char *c = memmem(a, (size_t)(end - a), "</verifier_answer>", 18);
        if (!c) break;   /* an unclosed tag is the format check's business */
        if (!same_as_ref(sc, &ref, a, (size_t)(c - a), percent)) ambiguous = 1;
        if (out->source == ANS_SRC_NONE) { out->ans = a; out->ans_len = (size_t)(c - a); out->source = ANS_SRC_VERIFIER; }
        p = c + 18;
    }

    /* \boxed{...}: one linear pass, brace depth only (no stack), outermost
     * boxes are the candidates; a box inside a box is malformed. */
    long depth = 0, box_depth = -1;
    const char *box_start = NULL;
    int nested = 0, unclosed = 0;
    const char *last_a = NULL;
    size_t last_n = 0;
    for (const char *q = region; q < end;) {
        char c = *q;
        if (c == '\\') {
            if (q + 1 < end && (q[1] == '{' || q[1] == '}' || q[1] == '\\')) { q += 2; continue; }
            if (starts_with(q, end, "\\boxed") || starts_with(q, end, "\\fbox")) {
                const char *r = q + (q[1] == 'b' ? 6 : 5);
                while (r < end && (*r == ' ')) r++;
                if (r < end && *r == '{') {
                    if (box_depth >= 0) nested = 1;
                    else { box_depth = depth; box_start = r + 1; }
                    depth++;
                    q = r + 1;
                    continue;
                }
            }
            q++;
            continue;
        }
        if (c == '{') depth++;
        else if (c == '}') {
            if (depth > 0) {
                depth--;
                if (depth == box_depth) {
                    size_t len = (size_t)(q - box_start);
                    if (!same_as_ref(sc, &ref, box_start, len, percent)) ambiguous = 1;
                    last_a = box_start;
                    last_n = len;
                    box_depth = -1;
                }
            }
        }
        q++;
    }
    if (box_depth >= 0) unclosed = 1;
    if (last_a && out->source == ANS_SRC_NONE) { out->ans = last_a; out->ans_len = last_n; out->source = ANS_SRC_BOXED; }
    if (nested || unclosed) { out->status = ANS_MALFORMED; if (!out->ans) { out->ans = box_start; out->ans_len = box_start ? (size_t)(end - box_start) : 0; } return; }
    if (ambiguous) { out->status = ANS_AMBIGUOUS; return; }
    if (out->source != ANS_SRC_NONE) { out->status = ANS_FOUND; return; }

    /* "The final answer is X." / "最终答案是 X。" */
    const char *f = memmem_ci_last(region, n, "final answer is");
    size_t fl = 15;
    const char *fz = memmem_last(region, n, "最终答案是");
    if (fz && (!f || fz > f)) { f = fz; fl = strlen("最终答案是"); }
    if (!f) {
        f = memmem_ci_last(region, n, "final answer:");
        fl = 13;
    }
    if (f) {
        const char *a = f + fl, *e = a;
        while (a < end && (*a == ' ' || *a == ':')) a++;
        if (a + 3 <= end && memcmp(a, "：", 3) == 0) a += 3;
        for (e = a; e < end; e++) {
            if (*e == '\n') break;
            if (*e == '.' && (e + 1 == end || is_space((unsigned char)e[1]))) break;
            if (e + 3 <= end && memcmp(e, "。", 3) == 0) break;
        }
        if (e > a) { out->ans = a; out->ans_len = (size_t)(e - a); out->source = ANS_SRC_FINAL; out->status = ANS_FOUND; return; }
    }

    /* **X** as the last resort, only when X is a number */
    const char *b = memmem_last(region, n, "**");
    while (b && b > region) {
        const char *o = memmem_last(region, (size_t)(b - region), "**");
        if (!o) break;
        const char *a = o + 2;
        if (b > a && (size_t)(b - a) <= 64 && ans_parse_number(sc, a, (size_t)(b - a), percent, sc->cand) == 0) {
            out->ans = a; out->ans_len = (size_t)(b - a); out->source = ANS_SRC_BOLD; out->status = ANS_FOUND;
            return;
        }
        b = o;
        if (b == region) break;
        const char *nb = memmem_last(region, (size_t)(b - region), "**");
        b = nb;
    }

    if (whole_region) {
        const char *a = region, *e = end;
        while (a < e && is_space((unsigned char)*a)) a++;
        while (e > a && is_space((unsigned char)e[-1])) e--;
        if (e > a && (size_t)(e - a) <= ANS_MAX_LEN) {
            out->ans = a; out->ans_len = (size_t)(e - a); out->source = ANS_SRC_REGION; out->status = ANS_FOUND;
        }
    }
}

/* ---- comparison ---------------------------------------------------------- */
void ans_truth_init(ans_truth *t) {
    memset(t, 0, sizeof *t);
    mpq_init(t->q);
    sb_init(&t->text);
}

void ans_truth_free(ans_truth *t) {
    mpq_clear(t->q);
    sb_free(&t->text);
}

int ans_truth_set(ans_scratch *sc, ans_truth *t, const char *truth, int text_answer) {
    t->is_text = text_answer;
    t->has_truth = 0;
    sb_reset(&t->text);
    if (!truth) return -1;
    size_t n = strlen(truth);
    if (text_answer) {
        ans_canon_text(truth, n, &t->text);
        t->has_truth = t->text.len > 0;
    } else {
        /* canonical forms parse with the plain grammar; percent does not apply to truth */
        t->has_truth = ans_parse_number(sc, truth, n, 1, t->q) == 0;
    }
    return t->has_truth ? 0 : -1;
}

int ans_compare(ans_scratch *sc, const ans_truth *t, const char *ans, size_t n, int percent, strbuf *norm) {
    sb_reset(norm);
    if (!t->has_truth || !ans) return 0;
    if (t->is_text) {
        ans_canon_text(ans, n, norm);
        return norm->len == t->text.len && memcmp(norm->s, t->text.s, norm->len) == 0;
    }
    if (ans_parse_number(sc, ans, n, percent, sc->cand) != 0) return 0;
    rat_put(norm, sc->cand);
    return mpq_equal(sc->cand, t->q) != 0;
}
