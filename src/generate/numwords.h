#ifndef RETORT_NUMWORDS_H
#define RETORT_NUMWORDS_H
#include "core/strbuf.h"

/* Canonical number words, the ground truth of the general family's
 * number_words task. English: lowercase, hyphens for 21-99, no "and", no
 * commas ("three hundred forty-seven thousand two hundred one"). Chinese:
 * 一二三..., 十 for 10-19 at the start, 零 for skipped places ("一千零五"),
 * 二 never 两. Both cover 0..999999999. Return -1 when n is out of range. */
int numwords_en(long n, strbuf *out);
int numwords_zh(long n, strbuf *out);

#endif
