#ifndef RETORT_RATIONAL_H
#define RETORT_RATIONAL_H
#include <gmp.h>
#include "core/strbuf.h"

/* Exact rationals (GMP mpq). Ground truth and answer comparison never touch
 * floating point. Canonical text: "42", "-7/3" (reduced, sign on the numerator). */

/* Append the canonical form of q. */
void rat_put(strbuf *b, const mpq_t q);
/* Parse the canonical forms plus plain decimals ("-12", "3/4", "-0.125").
 * q must be initialised. Returns 0 on success, -1 on anything else. */
int rat_parse(mpq_t q, const char *s);
/* Append q as a decimal with exactly `places` digits after the point, rounding
 * half away from zero. */
void rat_put_fixed(strbuf *b, const mpq_t q, int places);
/* 1 if q has a finite decimal expansion (denominator of the form 2^a 5^b). */
int rat_is_terminating(const mpq_t q);

#endif
