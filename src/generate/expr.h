#ifndef RETORT_EXPR_H
#define RETORT_EXPR_H
#include <gmp.h>
#include "core/rng.h"
#include "core/strbuf.h"

/* Arithmetic expressions over exact rationals: generated at random for the
 * arith family, parsed from templates for the word family, evaluated exactly,
 * rendered, and reduced one operation at a time to write a step-by-step trace.
 * Trees are small (at most EXPR_MAX_OPERANDS leaves) and kept in a flat array. */
#define EXPR_MAX_OPERANDS 16
#define EXPR_MAX_NODES (2 * EXPR_MAX_OPERANDS - 1)
#define EXPR_MAX_VARS 16

typedef enum { EXPR_NUM, EXPR_ADD, EXPR_SUB, EXPR_MUL, EXPR_DIV } expr_op;

typedef struct {
    expr_op op;
    int l, r;     /* children (internal nodes) */
    int var;      /* variable index for leaves parsed from a template, -1 otherwise */
    mpq_t v;      /* value of a leaf; after expr_eval, the value of every node */
} expr_node;

typedef struct {
    expr_node n[EXPR_MAX_NODES];
    int nn, root;
} expr_t;

/* Knobs of the arith family; stored as JSON with each problem. */
typedef struct {
    int operands_min, operands_max;   /* 2..EXPR_MAX_OPERANDS */
    int digits_min, digits_max;       /* digits per operand, 1..9 */
    double paren_share;               /* share of problems built as a random tree (parentheses where needed) */
    double negative_share;            /* chance that an operand is negative */
    double fraction_share;            /* share of problems whose divisions may leave a fraction */
} expr_knobs;

void expr_init(expr_t *e);   /* once, allocates the mpq values */
void expr_clear(expr_t *e);
void expr_copy(expr_t *dst, const expr_t *src);

/* Random expression under the knobs. *fractions says whether this problem let
 * divisions stay inexact. Never divides by zero. Returns 0, or -1 when it could
 * not build one (impossible knobs). */
int expr_random(expr_t *e, const expr_knobs *k, rng_t *rng, int *fractions);

/* Parse "a*b + (c - d)/e" with variables named in vars[] (letters, digits, _)
 * and non-negative integer/decimal literals. Returns 0 or -1 with err_msg(). */
int expr_parse(expr_t *e, const char *src, const char *const *vars, int nvars);
/* Set every leaf bound to variable i to values[i]. */
void expr_bind(expr_t *e, mpq_t *values);

/* Evaluate exactly; result in e->n[e->root].v. Returns -1 on division by zero. */
int expr_eval(expr_t *e);
int expr_eval_into(expr_t *e, mpq_t out);

/* Render with the fewest parentheses that keep the meaning: " + ", " - ", " × ", " ÷ ";
 * negative numbers and non-integers in parentheses. */
void expr_render(const expr_t *e, strbuf *b);
void expr_render_node(const expr_t *e, int node, strbuf *b);
/* Render a value as it appears in text: "-5", "7/2". */
void expr_put_value(strbuf *b, const mpq_t v);

/* The next operation to do by hand: innermost parentheses first, then × ÷ before
 * + −, then leftmost. Returns a node whose children are both numbers, or -1 if
 * the expression is a single number. */
int expr_next_step(const expr_t *e);
/* Replace node i (both children numbers) by its value (or by `value` when not
 * NULL, to plant a wrong step). Returns -1 on division by zero. */
int expr_reduce(expr_t *e, int i, const mpq_t value);
/* Number of operations (internal nodes). */
int expr_ops(const expr_t *e);
const char *expr_op_symbol(expr_op op);

#endif
