/* core: SHA-256 vectors, rationals, UTF-8, RNG determinism. */
#include "test.h"
#include "core/hash.h"
#include "core/rational.h"
#include "core/utf8.h"
#include "core/rng.h"
#include "generate/numwords.h"

int main(void) {
    char hx[65];
    sha256_hex("", 0, hx, 32);
    CHECK_STR(hx, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex("abc", 3, hx, 32);
    CHECK_STR(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *long_in = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(long_in, strlen(long_in), hx, 32);
    CHECK_STR(hx, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    strbuf b;
    sb_init(&b);
    mpq_t q;
    mpq_init(q);
    struct { const char *in, *want; } rp[] = {{"42", "42"}, {"-7/21", "-1/3"}, {"+3", "3"}, {"0.125", "1/8"},
                                             {"-2.50", "-5/2"}, {".5", "1/2"}, {"10/5", "2"}};
    for (size_t i = 0; i < sizeof rp / sizeof *rp; i++) {
        CHECK(rat_parse(q, rp[i].in) == 0);
        sb_reset(&b);
        rat_put(&b, q);
        CHECK_STR(b.s, rp[i].want);
    }
    CHECK(rat_parse(q, "1/0") != 0);
    CHECK(rat_parse(q, "abc") != 0);
    CHECK(rat_parse(q, "1.2.3") != 0);
    CHECK(rat_parse(q, "") != 0);
    rat_parse(q, "2675/1000");
    sb_reset(&b); rat_put_fixed(&b, q, 2); CHECK_STR(b.s, "2.68");   /* exact half rounds away from zero */
    rat_parse(q, "-1/3");
    sb_reset(&b); rat_put_fixed(&b, q, 3); CHECK_STR(b.s, "-0.333");
    rat_parse(q, "7/2");
    sb_reset(&b); rat_put_fixed(&b, q, 0); CHECK_STR(b.s, "4");
    CHECK(rat_is_terminating(q));
    rat_parse(q, "1/3");
    CHECK(!rat_is_terminating(q));

    uint32_t cp;
    CHECK(utf8_decode((const unsigned char *)"\xe4\xb8\xad", 3, &cp) == 3 && cp == 0x4e2d);
    CHECK(utf8_decode((const unsigned char *)"\xc0\x80", 2, &cp) == 0);       /* overlong */
    CHECK(utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp) == 0);   /* surrogate */
    CHECK(utf8_invalid_at("ab\xff" "c", 4) == 2);
    CHECK(utf8_invalid_at("héllo", 6) == (size_t)-1);

    rng_t r1, r2;
    rng_seed(&r1, 42); rng_seed(&r2, 42);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= rng_next(&r1) == rng_next(&r2);
    CHECK(same);
    int hist[6] = {0};
    for (int i = 0; i < 60000; i++) hist[rng_range(&r1, 0, 5)]++;
    for (int i = 0; i < 6; i++) CHECKF(hist[i] > 9000 && hist[i] < 11000, "bucket %d: %d", i, hist[i]);

    struct { long n; const char *en, *zh; } nw[] = {
        {0, "zero", "零"}, {7, "seven", "七"}, {10, "ten", "十"}, {15, "fifteen", "十五"},
        {21, "twenty-one", "二十一"}, {100, "one hundred", "一百"}, {105, "one hundred five", "一百零五"},
        {110, "one hundred ten", "一百一十"}, {1005, "one thousand five", "一千零五"},
        {20000, "twenty thousand", "二万"}, {10001, "ten thousand one", "一万零一"},
        {347215, "three hundred forty-seven thousand two hundred fifteen", "三十四万七千二百一十五"},
        {100000000, "one hundred million", "一亿"}, {100010000, "one hundred million ten thousand", "一亿零一万"},
        {102003004, "one hundred two million three thousand four", "一亿零二百万三千零四"},
    };
    for (size_t i = 0; i < sizeof nw / sizeof *nw; i++) {
        sb_reset(&b); numwords_en(nw[i].n, &b); CHECK_STR(b.s, nw[i].en);
        sb_reset(&b); numwords_zh(nw[i].n, &b); CHECK_STR(b.s, nw[i].zh);
    }
    CHECK(numwords_en(-1, &b) == -1);
    mpq_clear(q);
    sb_free(&b);
    return test_report("test_core");
}
