#include "generate/numwords.h"

static const char *ones[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                             "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                             "seventeen", "eighteen", "nineteen"};
static const char *tens[] = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};

static void below_thousand(long n, strbuf *o) {
    int need_space = 0;
    if (n >= 100) {
        sb_printf(o, "%s hundred", ones[n / 100]);
        n %= 100;
        need_space = 1;
    }
    if (n == 0) return;
    if (need_space) sb_putc(o, ' ');
    if (n < 20) sb_puts(o, ones[n]);
    else {
        sb_puts(o, tens[n / 10]);
        if (n % 10) sb_printf(o, "-%s", ones[n % 10]);
    }
}

int numwords_en(long n, strbuf *o) {
    if (n < 0 || n > 999999999) return -1;
    if (n == 0) { sb_puts(o, "zero"); return 0; }
    static const char *scale[] = {"million", "thousand", ""};
    long div[] = {1000000, 1000, 1};
    int first = 1;
    for (int i = 0; i < 3; i++) {
        long part = n / div[i];
        n %= div[i];
        if (!part) continue;
        if (!first) sb_putc(o, ' ');
        below_thousand(part, o);
        if (scale[i][0]) sb_printf(o, " %s", scale[i]);
        first = 0;
    }
    return 0;
}

static const char *zh_digit[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};

/* 0 < n < 10000; `leading` when this group starts the number (so 10..19 read 十..). */
static void zh_group(long n, strbuf *o, int leading) {
    static const char *unit[] = {"千", "百", "十", ""};
    long div[] = {1000, 100, 10, 1};
    int zero_pending = 0, started = 0;
    for (int i = 0; i < 4; i++) {
        long d = (n / div[i]) % 10;
        if (d == 0) {
            if (started) zero_pending = 1;
            continue;
        }
        if (zero_pending) { sb_puts(o, "零"); zero_pending = 0; }
        if (!(d == 1 && i == 2 && !started && leading)) sb_puts(o, zh_digit[d]);
        sb_puts(o, unit[i]);
        started = 1;
    }
}

int numwords_zh(long n, strbuf *o) {
    if (n < 0 || n > 999999999) return -1;
    if (n == 0) { sb_puts(o, "零"); return 0; }
    long yi = n / 100000000, wan = (n / 10000) % 10000, rest = n % 10000;
    int started = 0;
    if (yi) { zh_group(yi, o, 1); sb_puts(o, "亿"); started = 1; }
    if (wan) {
        if (started && wan < 1000) sb_puts(o, "零");
        zh_group(wan, o, !started);
        sb_puts(o, "万");
        started = 1;
    } else if (started && rest) {
        sb_puts(o, "零");
        started = 2; /* a 零 already stands for the empty group */
    }
    if (rest) {
        if (started == 1 && rest < 1000) sb_puts(o, "零");
        zh_group(rest, o, !started);
    }
    return 0;
}
