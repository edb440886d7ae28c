#ifndef RETORT_CHAT_H
#define RETORT_CHAT_H
#include <stdint.h>
#include "core/strbuf.h"
#include "tokenizer/tokenizer.h"

/* Built-in chat templates. A conversation is rendered as a list of spans
 * (special tokens by id, text encoded with the tokenizer); adjacent text spans
 * with the same mask are encoded together, so the ids equal the tokenizer's
 * encoding of the rendered string wherever the assistant span starts on a
 * pre-token boundary (always for r1, whose assistant span follows a special
 * token). The loss mask comes from the spans: 1 exactly on the assistant's
 * content and its end token, never found by searching the text.
 *
 *   r1      DeepSeek-R1-Distill: BOS system <｜User｜>user<｜Assistant｜>assistant<｜end▁of▁sentence｜>
 *           generation prompt ends "<｜Assistant｜><think>\n" (the think prefill)
 *   chatml  Qwen: <|im_start|>role\ncontent<|im_end|>\n per message (no BOS; no default system)
 *           generation prompt ends "<|im_start|>assistant\n"
 *   llama3  Llama 3: <|begin_of_text|> then <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>
 *           generation prompt ends "<|start_header_id|>assistant<|end_header_id|>\n\n"
 */
typedef enum { CHAT_R1 = 0, CHAT_CHATML, CHAT_LLAMA3, CHAT_N_TEMPLATES } chat_template;

#define CHAT_TEMPLATE_CHOICES "r1|chatml|llama3"

/* -1 for an unknown name. */
int chat_template_parse(const char *name);
const char *chat_template_name(int tmpl);
/* The equivalent Jinja chat_template for tokenizer_config.json. */
const char *chat_template_jinja(int tmpl);
/* The template's BOS (NULL if it has none) and its end-of-turn token. */
const char *chat_template_bos(int tmpl);
const char *chat_template_eos(int tmpl);
/* NULL-terminated list of the special tokens the template uses. */
const char *const *chat_template_specials(int tmpl);

typedef struct {
    tok_ids ids;
    uint8_t *mask;   /* [ids.n] */
    size_t mask_cap;
} chat_out;

void chat_out_free(chat_out *o);

/* Training form: system (may be NULL), user, assistant -> ids + loss mask,
 * appended to out (reset out->ids.n = 0 first for a fresh sample). Returns 0,
 * or -1 with err_msg() when the tokenizer lacks one of the template's
 * special tokens. */
int chat_render(tokenizer_t *t, int tmpl, const char *system, const char *user, const char *assistant,
                chat_out *out);
/* Generation form: the prompt up to and including the assistant header (and
 * for r1 the "<think>\n" prefill); mask is all 0. */
int chat_render_prompt(tokenizer_t *t, int tmpl, const char *system, const char *user, chat_out *out);
/* The rendered text itself (what the Jinja template produces); assistant
 * NULL gives the generation form. */
void chat_render_text(int tmpl, const char *system, const char *user, const char *assistant, strbuf *out);

#endif
