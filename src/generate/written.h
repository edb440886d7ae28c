#ifndef RETORT_WRITTEN_H
#define RETORT_WRITTEN_H
#include <gmp.h>
#include "core/strbuf.h"
#include "generate/expr.h"

/* Written arithmetic: one operation of a worked expression, done the way it is
 * done with pencil and paper, as chain-of-thought text.
 *
 * The synthetic teacher's brief style states "37 × 48 = 1776" in one step; a
 * small student cannot learn that from a few thousand examples, because every
 * product of two 2-digit numbers is a separate fact. Written arithmetic breaks
 * the operation into facts a small model can learn (one-digit sums, products,
 * differences, and a carry or borrow), each placed next to the digits it
 * reads:
 *
 *   37 + 45: 7 + 5 = 12, carry 1 → 2; 3 + 4 + 1 = 8 → 82. So 37 + 45 = 82.
 *   52 - 17: 2 - 7 < 0, borrow: 12 - 7 = 5 → 5; 5 - 1 - 1 = 3 → 35. So 52 - 17 = 35.
 *   37 × 48: 37 × 8: 7 × 8 = 56, carry 5 → 6; 3 × 8 = 24, 24 + 5 = 29 → 296.
 *            37 × 4: ... → 148, so 37 × 40 = 1480. 296 + 1480: ... → 1776. So 37 × 48 = 1776.
 *   8265 ÷ 29: 82 ÷ 29: 2, 29 × 2: ... → 58, 82 - 58 = 24, quotient 2; bring down 6: 246 ÷ 29: 8, ...
 *
 * Each column ends with "→ the digits so far", so the result is always a copy
 * of the last partial, never a reassembly of digits scattered over the text.
 * Signs are settled first, by rewriting to magnitudes: "(-8) + 5 = -(8 - 5)".
 * Two one-digit operands are a single fact: "7 × 8 = 56". */

/* The few words the text needs, in the problem's language (phrases.json "written"). */
typedef struct {
    const char *carry, *borrow, *down, *quotient, *so, *end;
} written_words;

#define WRITTEN_MAX_DIGITS 12   /* beyond this an operation is stated briefly */

/* Append "a op b: <work>. So a op b = r." (or "a op b = r." for a single fact)
 * to out and put the result in r. Returns 0, or 1 with out unchanged when
 * written arithmetic does not apply: a non-integer operand or result (division
 * is written only when it is exact), an operand longer than WRITTEN_MAX_DIGITS,
 * or a division by zero. */
int written_step(strbuf *out, expr_op op, const mpq_t a, const mpq_t b, const written_words *w, mpq_t r);

#endif
