#include <assert.h>
#include <ctype.h>
#include <string.h>
#include <stdlib.h>
#include "generate/expr.h"
#include "core/err.h"
#include "core/rational.h"

void expr_init(expr_t *e) {
    for (int i = 0; i < EXPR_MAX_NODES; i++) mpq_init(e->n[i].v);
    e->nn = 0;
    e->root = -1;
}
void expr_clear(expr_t *e) {
    for (int i = 0; i < EXPR_MAX_NODES; i++) mpq_clear(e->n[i].v);
}
void expr_copy(expr_t *dst, const expr_t *src) {
    dst->nn = src->nn;
    dst->root = src->root;
    for (int i = 0; i < src->nn; i++) {
        dst->n[i].op = src->n[i].op; dst->n[i].l = src->n[i].l; dst->n[i].r = src->n[i].r;
        dst->n[i].var = src->n[i].var;
        mpq_set(dst->n[i].v, src->n[i].v);
    }
}

const char *expr_op_symbol(expr_op op) {
    switch (op) {
    case EXPR_ADD: return "+";
    case EXPR_SUB: return "-";
    case EXPR_MUL: return "×";
    case EXPR_DIV: return "÷";
    default: return "?";
    }
}

static int new_leaf(expr_t *e) {
    assert(e->nn < EXPR_MAX_NODES);
    int i = e->nn++;
    e->n[i].op = EXPR_NUM; e->n[i].l = e->n[i].r = -1; e->n[i].var = -1;
    mpq_set_ui(e->n[i].v, 0, 1);
    return i;
}
static int new_op(expr_t *e, expr_op op, int l, int r) {
    assert(e->nn < EXPR_MAX_NODES);
    int i = e->nn++;
    e->n[i].op = op; e->n[i].l = l; e->n[i].r = r; e->n[i].var = -1;
    return i;
}

static int eval_node(expr_t *e, int i) {
    expr_node *n = &e->n[i];
    if (n->op == EXPR_NUM) return 0;
    if (eval_node(e, n->l) || eval_node(e, n->r)) return -1;
    mpq_srcptr a = e->n[n->l].v, b = e->n[n->r].v;
    switch (n->op) {
    case EXPR_ADD: mpq_add(n->v, a, b); break;
    case EXPR_SUB: mpq_sub(n->v, a, b); break;
    case EXPR_MUL: mpq_mul(n->v, a, b); break;
    case EXPR_DIV:
        if (mpq_sgn(b) == 0) return -1;
        mpq_div(n->v, a, b);
        break;
    default: return -1;
    }
    return 0;
}

int expr_eval(expr_t *e) { return e->root < 0 ? -1 : eval_node(e, e->root); }
int expr_eval_into(expr_t *e, mpq_t out) {
    if (expr_eval(e)) return -1;
    mpq_set(out, e->n[e->root].v);
    return 0;
}

int expr_ops(const expr_t *e) {
    int k = 0;
    for (int i = 0; i < e->nn; i++) k += e->n[i].op != EXPR_NUM;
    return k;
}

/* ---- random generation ---- */

static void random_operand(mpq_t v, const expr_knobs *k, rng_t *rng) {
    int d = (int)rng_range(rng, k->digits_min, k->digits_max);
    long lo = 1, hi = 9;
    for (int j = 1; j < d; j++) { lo = lo == 1 ? 10 : lo * 10; hi = hi * 10 + 9; }
    if (d == 1) lo = 1;
    long x = (long)rng_range(rng, lo, hi);
    if (rng_chance(rng, k->negative_share)) x = -x;
    mpq_set_si(v, x, 1);
}

static expr_op random_op(rng_t *rng) { return (expr_op)(EXPR_ADD + rng_range(rng, 0, 3)); }

/* A random binary tree over leaves [a, b). */
static int random_tree(expr_t *e, int *leaves, int a, int b, rng_t *rng) {
    if (b - a == 1) return leaves[a];
    int split = (int)rng_range(rng, a + 1, b - 1);
    int l = random_tree(e, leaves, a, split, rng);
    int r = random_tree(e, leaves, split, b, rng);
    return new_op(e, random_op(rng), l, r);
}

/* A flat "a op b op c ..." parsed with precedence, left to right. */
static int flat_tree(expr_t *e, int *leaves, int k, rng_t *rng) {
    int sum = -1, term = leaves[0];
    expr_op pending = EXPR_ADD;
    for (int i = 1; i < k; i++) {
        expr_op op = random_op(rng);
        if (op == EXPR_MUL || op == EXPR_DIV) {
            term = new_op(e, op, term, leaves[i]);
        } else {
            sum = sum < 0 ? term : new_op(e, pending, sum, term);
            pending = op;
            term = leaves[i];
        }
    }
    return sum < 0 ? term : new_op(e, pending, sum, term);
}

static int operand_bounds(const expr_knobs *k, long *lo, long *hi) {
    *lo = 1; *hi = 9;
    for (int j = 1; j < k->digits_min; j++) *lo = *lo == 1 ? 10 : *lo * 10;
    for (int j = 1; j < k->digits_max; j++) *hi = *hi * 10 + 9;
    return 0;
}

/* Make node i's division exact by changing one of its leaves, or turn it into a
 * product when no leaf can be changed within the knobs. */
static void make_exact(expr_t *e, int i, const expr_knobs *k, rng_t *rng) {
    expr_node *n = &e->n[i];
    expr_node *L = &e->n[n->l], *R = &e->n[n->r];
    long lo, hi;
    operand_bounds(k, &lo, &hi);
    if (L->op == EXPR_NUM && R->op == EXPR_NUM && mpz_cmp_ui(mpq_denref(L->v), 1) == 0) {
        /* left = divisor * quotient, with left kept within the digit bounds */
        long d = labs(mpz_get_si(mpq_numref(R->v)));
        if (d >= 1 && d <= hi) {
            long qlo = (lo + d - 1) / d, qhi = hi / d;
            if (qlo < 1) qlo = 1;
            if (qlo <= qhi) {
                long q = (long)rng_range(rng, qlo, qhi);
                int neg = mpq_sgn(L->v) < 0;
                mpq_set_si(L->v, neg ? -q * d : q * d, 1);
                return;
            }
        }
    }
    if (R->op == EXPR_NUM && mpz_cmp_ui(mpq_denref(e->n[n->l].v), 1) == 0 && mpq_sgn(e->n[n->l].v) != 0) {
        /* pick a divisor of the left value within the digit bounds */
        long found[64];
        int nf = 0;
        mpz_srcptr lv = mpq_numref(e->n[n->l].v);
        long span = hi - lo + 1;
        for (int t = 0; t < 400 && nf < 64; t++) {
            long c = span <= 400 ? lo + t : (long)rng_range(rng, lo, hi);
            if (c > hi) break;
            if (c > 1 && mpz_divisible_ui_p(lv, (unsigned long)c)) found[nf++] = c;
        }
        if (nf) {
            long c = found[rng_range(rng, 0, nf - 1)];
            mpq_set_si(R->v, mpq_sgn(R->v) < 0 ? -c : c, 1);
            return;
        }
    }
    n->op = EXPR_MUL;
}

static int fix_divisions(expr_t *e, int i, const expr_knobs *k, rng_t *rng) {
    expr_node *n = &e->n[i];
    if (n->op == EXPR_NUM) return 0;
    if (fix_divisions(e, n->l, k, rng) || fix_divisions(e, n->r, k, rng)) return -1;
    if (eval_node(e, n->l) || eval_node(e, n->r)) return -1;
    if (n->op == EXPR_DIV) {
        if (mpq_sgn(e->n[n->r].v) == 0) return -1;
        mpq_div(n->v, e->n[n->l].v, e->n[n->r].v);
        if (mpz_cmp_ui(mpq_denref(n->v), 1) != 0) {
            make_exact(e, i, k, rng);
            if (eval_node(e, i)) return -1;
            if (mpz_cmp_ui(mpq_denref(n->v), 1) != 0) return -1;
        }
    }
    return eval_node(e, i);
}

int expr_random(expr_t *e, const expr_knobs *k, rng_t *rng, int *fractions) {
    if (k->operands_min < 1 || k->operands_max > EXPR_MAX_OPERANDS || k->operands_min > k->operands_max ||
        k->digits_min < 1 || k->digits_max > 9 || k->digits_min > k->digits_max) {
        err_set("expression knobs out of range");
        return -1;
    }
    *fractions = rng_chance(rng, k->fraction_share);
    int tree = rng_chance(rng, k->paren_share);
    for (int attempt = 0; attempt < 1000; attempt++) {
        e->nn = 0;
        int nops = (int)rng_range(rng, k->operands_min, k->operands_max);
        int leaves[EXPR_MAX_OPERANDS];
        for (int j = 0; j < nops; j++) {
            leaves[j] = new_leaf(e);
            random_operand(e->n[leaves[j]].v, k, rng);
        }
        e->root = tree ? random_tree(e, leaves, 0, nops, rng) : flat_tree(e, leaves, nops, rng);
        int rc = *fractions ? expr_eval(e) : fix_divisions(e, e->root, k, rng);
        if (rc == 0 && (*fractions || expr_eval(e) == 0)) return 0;
        /* division by zero or a division we could not make exact: draw again */
    }
    err_set("could not build an expression under these knobs");
    return -1;
}

/* ---- parsing ---- */

typedef struct {
    const char *s;
    size_t pos;
    const char *const *vars;
    int nvars;
    expr_t *e;
    int error;
} parser;

static void skip_ws(parser *p) { while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t') p->pos++; }

static int match_op(parser *p, const char *tok) {
    skip_ws(p);
    size_t n = strlen(tok);
    if (strncmp(p->s + p->pos, tok, n) == 0) { p->pos += n; return 1; }
    return 0;
}

static int parse_sum(parser *p);

static int parse_atom(parser *p) {
    skip_ws(p);
    if (p->error) return -1;
    if (p->e->nn >= EXPR_MAX_NODES - 1) { err_set("expression too long (at offset %zu)", p->pos); p->error = 1; return -1; }
    char c = p->s[p->pos];
    if (c == '(') {
        p->pos++;
        int x = parse_sum(p);
        if (!match_op(p, ")")) {
            if (!p->error) err_set("missing ')' at offset %zu in '%s'", p->pos, p->s);
            p->error = 1;
            return -1;
        }
        return x;
    }
    if (match_op(p, "-") || match_op(p, "−")) {
        int x = parse_atom(p);
        if (x < 0) return -1;
        if (p->e->n[x].op == EXPR_NUM && p->e->n[x].var < 0) { mpq_neg(p->e->n[x].v, p->e->n[x].v); return x; }
        int m = new_leaf(p->e);
        mpq_set_si(p->e->n[m].v, -1, 1);
        return new_op(p->e, EXPR_MUL, m, x);
    }
    if (isdigit((unsigned char)c)) {
        size_t st = p->pos;
        while (isdigit((unsigned char)p->s[p->pos]) || p->s[p->pos] == '.') p->pos++;
        char buf[64];
        size_t n = p->pos - st;
        if (n >= sizeof buf) { err_set("number too long at offset %zu", st); p->error = 1; return -1; }
        memcpy(buf, p->s + st, n); buf[n] = 0;
        int x = new_leaf(p->e);
        if (rat_parse(p->e->n[x].v, buf)) { err_set("bad number '%s' at offset %zu", buf, st); p->error = 1; return -1; }
        return x;
    }
    if (isalpha((unsigned char)c) || c == '_') {
        size_t st = p->pos;
        while (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_') p->pos++;
        size_t n = p->pos - st;
        for (int v = 0; v < p->nvars; v++) {
            if (strlen(p->vars[v]) == n && strncmp(p->vars[v], p->s + st, n) == 0) {
                int x = new_leaf(p->e);
                p->e->n[x].var = v;
                return x;
            }
        }
        err_set("unknown variable '%.*s' at offset %zu in '%s'", (int)n, p->s + st, st, p->s);
        p->error = 1;
        return -1;
    }
    err_set("unexpected '%c' at offset %zu in '%s'", c ? c : '$', p->pos, p->s);
    p->error = 1;
    return -1;
}

static int parse_product(parser *p) {
    int x = parse_atom(p);
    while (!p->error) {
        expr_op op;
        if (match_op(p, "*") || match_op(p, "×")) op = EXPR_MUL;
        else if (match_op(p, "/") || match_op(p, "÷")) op = EXPR_DIV;
        else break;
        int y = parse_atom(p);
        if (p->error) return -1;
        x = new_op(p->e, op, x, y);
    }
    return p->error ? -1 : x;
}

static int parse_sum(parser *p) {
    int x = parse_product(p);
    while (!p->error) {
        expr_op op;
        if (match_op(p, "+")) op = EXPR_ADD;
        else if (match_op(p, "-") || match_op(p, "−")) op = EXPR_SUB;
        else break;
        int y = parse_product(p);
        if (p->error) return -1;
        x = new_op(p->e, op, x, y);
    }
    return p->error ? -1 : x;
}

int expr_parse(expr_t *e, const char *src, const char *const *vars, int nvars) {
    parser p = {src, 0, vars, nvars, e, 0};
    e->nn = 0;
    e->root = parse_sum(&p);
    skip_ws(&p);
    if (!p.error && p.s[p.pos]) { err_set("unexpected '%s' at offset %zu in '%s'", p.s + p.pos, p.pos, src); p.error = 1; }
    return p.error ? -1 : 0;
}

void expr_bind(expr_t *e, mpq_t *values) {
    for (int i = 0; i < e->nn; i++)
        if (e->n[i].op == EXPR_NUM && e->n[i].var >= 0) mpq_set(e->n[i].v, values[e->n[i].var]);
}

/* ---- rendering ---- */

static int prec(expr_op op) { return op == EXPR_ADD || op == EXPR_SUB ? 1 : op == EXPR_NUM ? 3 : 2; }

/* Does child c of parent need parentheses? */
static int needs_parens(const expr_t *e, int parent, int c) {
    expr_op pop = e->n[parent].op, cop = e->n[c].op;
    if (cop == EXPR_NUM) return 0;
    if (prec(cop) < prec(pop)) return 1;
    if (prec(cop) == prec(pop) && c == e->n[parent].r && (pop == EXPR_SUB || pop == EXPR_DIV)) return 1;
    return 0;
}

void expr_put_value(strbuf *b, const mpq_t v) { rat_put(b, v); }

static void render(const expr_t *e, int i, strbuf *b, int top) {
    const expr_node *n = &e->n[i];
    if (n->op == EXPR_NUM) {
        int simple = mpq_sgn(n->v) >= 0 && mpz_cmp_ui(mpq_denref(n->v), 1) == 0;
        if (!simple && !top) sb_putc(b, '(');
        rat_put(b, n->v);
        if (!simple && !top) sb_putc(b, ')');
        return;
    }
    int pl = needs_parens(e, i, n->l), pr = needs_parens(e, i, n->r);
    if (pl) sb_putc(b, '(');
    render(e, n->l, b, 0);
    if (pl) sb_putc(b, ')');
    sb_putc(b, ' ');
    sb_puts(b, expr_op_symbol(n->op));
    sb_putc(b, ' ');
    if (pr) sb_putc(b, '(');
    render(e, n->r, b, 0);
    if (pr) sb_putc(b, ')');
}

void expr_render(const expr_t *e, strbuf *b) { render(e, e->root, b, 1); }
void expr_render_node(const expr_t *e, int node, strbuf *b) { render(e, node, b, 0); }

/* ---- step order ---- */

typedef struct { int node, depth, prec, order; } candidate;

static void collect(const expr_t *e, int i, int depth, int *order, candidate *best) {
    const expr_node *n = &e->n[i];
    if (n->op == EXPR_NUM) { (*order)++; return; }
    collect(e, n->l, depth + needs_parens(e, i, n->l), order, best);
    int my_order = (*order)++;
    collect(e, n->r, depth + needs_parens(e, i, n->r), order, best);
    if (e->n[n->l].op == EXPR_NUM && e->n[n->r].op == EXPR_NUM) {
        candidate c = {i, depth, prec(n->op), my_order};
        if (best->node < 0 || c.depth > best->depth || (c.depth == best->depth && c.prec > best->prec) ||
            (c.depth == best->depth && c.prec == best->prec && c.order < best->order))
            *best = c;
    }
}

int expr_next_step(const expr_t *e) {
    if (e->root < 0 || e->n[e->root].op == EXPR_NUM) return -1;
    candidate best = {-1, 0, 0, 0};
    int order = 0;
    collect(e, e->root, 0, &order, &best);
    return best.node;
}

int expr_reduce(expr_t *e, int i, const mpq_t value) {
    expr_node *n = &e->n[i];
    assert(n->op != EXPR_NUM && e->n[n->l].op == EXPR_NUM && e->n[n->r].op == EXPR_NUM);
    if (value) {
        mpq_set(n->v, value);
    } else if (eval_node(e, i)) {
        return -1;
    }
    n->op = EXPR_NUM;
    n->var = -1;
    n->l = n->r = -1;
    return 0;
}
