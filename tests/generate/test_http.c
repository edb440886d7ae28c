/* http_trace_parse: chat completion bodies as real servers send them, and the
 * ones that must not become a trace. */
#include <string.h>
#include "test.h"
#include "generate/generate.h"

static int parse(const char *body, strbuf *t, const char **fin, int *pre, long *nt, char *why) {
    return http_trace_parse(body, strlen(body), t, fin, pre, nt, why, 200);
}

int main(void) {
    strbuf t;
    sb_init(&t);
    const char *fin;
    int pre;
    long nt;
    char why[200];
    /* DeepSeek API / vLLM reasoning parser: reasoning_content, then content */
    CHECK(parse("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"reasoning_content\":\"\\nStep 1.\\n\\n\","
                "\"content\":\"\\n\\nThe answer is \\\\boxed{4}.\"},\"finish_reason\":\"stop\"}],"
                "\"usage\":{\"completion_tokens\":12}}", &t, &fin, &pre, &nt, why) == 0);
    CHECK_STR(t.s, "<think>\nStep 1.\n</think>\n\nThe answer is \\boxed{4}.");
    CHECK(pre == 0 && nt == 12 && strcmp(fin, "stop") == 0);
    /* newer servers: "reasoning"; content null while the length limit cut the reasoning */
    CHECK(parse("{\"choices\":[{\"message\":{\"reasoning\":\"Step\",\"content\":null},\"finish_reason\":\"length\"}]}",
                &t, &fin, &pre, &nt, why) == 0);
    CHECK_STR(t.s, "<think>\nStep");   /* cut inside the reasoning: no closing tag is made up */
    CHECK(strcmp(fin, "length") == 0 && nt == -1 && pre == 0);
    /* think inline in content: stored as it came */
    CHECK(parse("{\"choices\":[{\"message\":{\"content\":\"<think>\\nA\\n</think>\\n\\nB\"},\"finish_reason\":\"stop\"}]}",
                &t, &fin, &pre, &nt, why) == 0);
    CHECK_STR(t.s, "<think>\nA\n</think>\n\nB");
    CHECK(pre == 0);
    /* R1's template prefilled "<think>\n": content closes a block it never opened */
    CHECK(parse("{\"choices\":[{\"message\":{\"content\":\"A\\n</think>\\n\\nB <think>\"},\"finish_reason\":null}]}",
                &t, &fin, &pre, &nt, why) == 0);
    CHECK(pre == 1 && strcmp(fin, "stop") == 0);
    /* no think tags at all: not prefilled (the filter will reject the format) */
    CHECK(parse("{\"choices\":[{\"message\":{\"content\":\"just 4\"}}]}", &t, &fin, &pre, &nt, why) == 0);
    CHECK(pre == 0);
    /* bodies that are no completion */
    const char *bad[] = {"", "<html>502 Bad Gateway</html>", "[]", "{\"choices\":[]}", "{\"choices\":[{\"text\":\"x\"}]}",
                         "{\"choices\":[{\"message\":{\"content\":\"\"}}]}",
                         "{\"choices\":[{\"message\":{\"content\":null,\"reasoning_content\":\"\"}}]}",
                         "{\"choices\":[{\"message\":{\"content\":\"ok\"}}]", "{\"error\":{\"message\":\"x\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why[0] = 0;
        CHECKF(parse(bad[i], &t, &fin, &pre, &nt, why) != 0 && why[0], "body %zu accepted", i);
    }
    /* a huge or negative token count is not stored as one */
    CHECK(parse("{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"completion_tokens\":1e300}}",
                &t, &fin, &pre, &nt, why) == 0 && nt == -1);
    CHECK(parse("{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"completion_tokens\":-3}}",
                &t, &fin, &pre, &nt, why) == 0 && nt == -1);
    sb_free(&t);
    return test_report("test_http");
}
