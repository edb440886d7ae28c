/* retort chat: one user turn to a student checkpoint, the reply streamed to
 * stdout token by token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "distill/eval.h"

typedef struct {
    student_t *s;
    char *buf;
    size_t len, cap;
} stream_ctx;

static void on_token(void *ctx, int seq, uint32_t id) {
    (void)seq;
    stream_ctx *c = ctx;
    c->len = 0;
    /* a token is a run of bytes; a character split across tokens is completed
     * by the next one, and the terminal sees the bytes in order either way */
    if (tokenizer_decode(c->s->tok, &id, 1, 0, &c->buf, &c->len, &c->cap) == 0 && c->len) {
        fwrite(c->buf, 1, c->len, stdout);
        fflush(stdout);
    }
}

int cmd_chat(int argc, char **argv) {
    const char *model = NULL, *tmpl = NULL, *system = NULL;
    double temperature = 0.6, top_p = 0.95;
    long top_k = 0, max_new = 512, threads = 0;
    uint64_t seed = 1;
    opt_def opts[] = {
        O_STR("model", &model, "DIR", "student checkpoint directory with tokenizer.json (required)"),
        O_STR("template", &tmpl, "NAME", "chat template r1|chatml|llama3 (default: the one the tokenizer carries)"),
        O_STR("system", &system, "TEXT", "system turn (default: none, as R1 recommends)"),
        O_DBL("temperature", &temperature, "T", "sampling temperature; 0 is greedy", 0, 100),
        O_DBL("top-p", &top_p, "P", "nucleus sampling: smallest set of tokens with this much probability", 0, 1),
        O_INT("top-k", &top_k, "K", "sample among the K most likely tokens (0: off)", 0, 1 << 30),
        O_U64("seed", &seed, "S", "sampling seed: the same seed and flags give the same reply"),
        O_INT("max-new-tokens", &max_new, "N", "stop after N new tokens", 1, 1 << 24),
        O_INT("threads", &threads, "N", "threads (OpenBLAS; 0: all cores)", 0, 1024),
        O_END,
    };
    cmd_spec spec = {
        "chat", "retort chat --model DIR [--template T] [sampling flags] \"PROMPT\"",
        "Send one user turn to a student and stream its reply to stdout.",
        "The prompt is rendered with the chat template's generation form (for r1 that ends\n"
        "with the '<think>\\n' prefill, which is printed first). Decoding stops at the\n"
        "template's end-of-turn token, the tokenizer's EOS, or --max-new-tokens.\n"
        "Defaults are DeepSeek-R1's published sampling: temperature 0.6, top-p 0.95.\n\n"
        "examples:\n"
        "  retort chat --model student \"Calculate 17 + 25.\"\n"
        "  retort chat --model student --temperature 0 \"What is 6 × 7?\"",
        opts, 1, 1};
    char **args = NULL;
    int nargs = 0;
    CLI_PARSE(spec, argc, argv, &args, &nargs);
    if (!model) return opts_error(&spec, "--model: required");
    model_set_threads((int)threads);
    student_t s;
    if (student_load(&s, model, tmpl)) { err_print(); return EXIT_RUNTIME; }
    tok_ids p = {0};
    if (student_prompt(&s, system, args[0], &p)) { err_print(); student_free(&s); return EXIT_RUNTIME; }
    if (s.think_prefill) { fputs("<think>\n", stdout); fflush(stdout); }
    stream_ctx ctx = {.s = &s};
    gen_seq q = {.prompt = p.v, .prompt_len = (int)p.n, .seed = seed};
    gen_opts go = {.sample = {.temperature = temperature, .top_k = (int)top_k, .top_p = top_p}, .max_new = (int)max_new,
                   .stop = s.stop, .nstop = s.nstop, .batch = 1, .on_token = on_token, .ctx = &ctx};
    long n = 0;
    int rc = infer_generate(&s.m, &q, 1, &go, &n);
    fputc('\n', stdout);
    if (rc) err_print();
    else
        fprintf(stderr, "retort: chat: %ld tokens in %.2f s (%.1f tokens/s), finish %s\n", n, q.seconds,
                q.seconds > 0 ? n / q.seconds : 0.0, q.finish == GEN_STOP ? "stop" : "length");
    gen_seq_free(&q);
    tok_ids_free(&p);
    free(ctx.buf);
    student_free(&s);
    return rc ? EXIT_RUNTIME : EXIT_OK;
}
