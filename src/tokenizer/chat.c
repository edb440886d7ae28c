#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "tokenizer/chat.h"

static const char *const names[CHAT_N_TEMPLATES] = {"r1", "chatml", "llama3"};

#define R1_BOS "<｜begin▁of▁sentence｜>"
#define R1_EOS "<｜end▁of▁sentence｜>"
#define R1_USER "<｜User｜>"
#define R1_ASST "<｜Assistant｜>"
#define IM_START "<|im_start|>"
#define IM_END "<|im_end|>"
#define L3_BOS "<|begin_of_text|>"
#define L3_SH "<|start_header_id|>"
#define L3_EH "<|end_header_id|>"
#define L3_EOT "<|eot_id|>"

static const char *const specials_r1[] = {R1_BOS, R1_EOS, R1_USER, R1_ASST, NULL};
static const char *const specials_chatml[] = {IM_START, IM_END, NULL};
static const char *const specials_llama3[] = {L3_BOS, L3_SH, L3_EH, L3_EOT, NULL};

/* Jinja strings: '\n' inside a Jinja literal is the two characters \ n. */
static const char *const jinja[CHAT_N_TEMPLATES] = {
    "{{ '" R1_BOS "' }}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}"
    "{% elif message['role'] == 'user' %}{{ '" R1_USER "' + message['content'] }}"
    "{% elif message['role'] == 'assistant' %}{{ '" R1_ASST "' + message['content'] + '" R1_EOS "' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '" R1_ASST "<think>\\n' }}{% endif %}",

    "{% for message in messages %}"
    "{{ '" IM_START "' + message['role'] + '\\n' + message['content'] + '" IM_END "' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '" IM_START "assistant\\n' }}{% endif %}",

    "{{ '" L3_BOS "' }}{% for message in messages %}"
    "{{ '" L3_SH "' + message['role'] + '" L3_EH "\\n\\n' + message['content'] + '" L3_EOT "' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '" L3_SH "assistant" L3_EH "\\n\\n' }}{% endif %}",
};

int chat_template_parse(const char *name) {
    for (int i = 0; i < CHAT_N_TEMPLATES; i++)
        if (name && strcmp(name, names[i]) == 0) return i;
    return -1;
}
const char *chat_template_name(int tmpl) { return tmpl >= 0 && tmpl < CHAT_N_TEMPLATES ? names[tmpl] : NULL; }
const char *chat_template_jinja(int tmpl) { return tmpl >= 0 && tmpl < CHAT_N_TEMPLATES ? jinja[tmpl] : NULL; }
const char *chat_template_bos(int tmpl) { return tmpl == CHAT_R1 ? R1_BOS : tmpl == CHAT_LLAMA3 ? L3_BOS : NULL; }
const char *chat_template_eos(int tmpl) { return tmpl == CHAT_R1 ? R1_EOS : tmpl == CHAT_CHATML ? IM_END : L3_EOT; }
const char *const *chat_template_specials(int tmpl) {
    return tmpl == CHAT_R1 ? specials_r1 : tmpl == CHAT_CHATML ? specials_chatml : specials_llama3;
}

void chat_out_free(chat_out *o) {
    tok_ids_free(&o->ids);
    free(o->mask);
    o->mask = NULL;
    o->mask_cap = 0;
}

/* A span: a special token (by its string) or text, with its mask value. */
typedef struct {
    const char *special;
    const char *text;
    uint8_t mask;
} span;

enum { MAX_SPANS = 24 };

/* The spans of one rendering; assistant NULL -> generation form. */
static int spans_of(int tmpl, const char *system, const char *user, const char *assistant, span *sp) {
    int n = 0;
#define SP(s) sp[n++] = (span){.special = (s)}
#define TX(s) sp[n++] = (span){.text = (s)}
#define SPM(s) sp[n++] = (span){.special = (s), .mask = 1}
#define TXM(s) sp[n++] = (span){.text = (s), .mask = 1}
    switch (tmpl) {
    case CHAT_R1:
        SP(R1_BOS);
        if (system) TX(system);
        SP(R1_USER); TX(user); SP(R1_ASST);
        if (assistant) { TXM(assistant); SPM(R1_EOS); }
        else TX("<think>\n");
        break;
    case CHAT_CHATML:
        if (system) { SP(IM_START); TX("system\n"); TX(system); SP(IM_END); TX("\n"); }
        SP(IM_START); TX("user\n"); TX(user); SP(IM_END); TX("\n");
        SP(IM_START); TX("assistant\n");
        if (assistant) { TXM(assistant); SPM(IM_END); TX("\n"); }
        break;
    default:
        SP(L3_BOS);
        if (system) { SP(L3_SH); TX("system"); SP(L3_EH); TX("\n\n"); TX(system); SP(L3_EOT); }
        SP(L3_SH); TX("user"); SP(L3_EH); TX("\n\n"); TX(user); SP(L3_EOT);
        SP(L3_SH); TX("assistant"); SP(L3_EH); TX("\n\n");
        if (assistant) { TXM(assistant); SPM(L3_EOT); }
        break;
    }
#undef SP
#undef TX
#undef SPM
#undef TXM
    return n;
}

void chat_render_text(int tmpl, const char *system, const char *user, const char *assistant, strbuf *out) {
    span sp[MAX_SPANS];
    int n = spans_of(tmpl, system, user ? user : "", assistant, sp);
    for (int i = 0; i < n; i++) sb_puts(out, sp[i].special ? sp[i].special : sp[i].text);
}

static void push_mask(chat_out *o, size_t from, uint8_t m) {
    if (o->ids.n > o->mask_cap) {
        o->mask_cap = o->ids.cap > o->ids.n ? o->ids.cap : o->ids.n;
        o->mask = xrealloc(o->mask, o->mask_cap);
    }
    memset(o->mask + from, m, o->ids.n - from);
}

static int render(tokenizer_t *t, int tmpl, const char *system, const char *user, const char *assistant,
                  chat_out *o) {
    if (tmpl < 0 || tmpl >= CHAT_N_TEMPLATES) { err_set("unknown chat template %d", tmpl); return -1; }
    span sp[MAX_SPANS];
    int n = spans_of(tmpl, system, user ? user : "", assistant, sp);
    strbuf text;
    sb_init(&text);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        size_t from = o->ids.n;
        if (sp[i].special) {
            int64_t id = tokenizer_token_to_id(t, sp[i].special);
            if (id < 0) {
                err_set("tokenizer has no token '%s', which chat template %s needs", sp[i].special, names[tmpl]);
                rc = -1;
                break;
            }
            tok_ids_push(&o->ids, (uint32_t)id);
        } else {
            /* join text spans with the same mask, then encode them at once */
            sb_reset(&text);
            sb_puts(&text, sp[i].text);
            while (i + 1 < n && !sp[i + 1].special && sp[i + 1].mask == sp[i].mask) sb_puts(&text, sp[++i].text);
            tokenizer_encode(t, text.s, text.len, &o->ids);
        }
        push_mask(o, from, sp[i].mask);
    }
    sb_free(&text);
    return rc;
}

int chat_render(tokenizer_t *t, int tmpl, const char *system, const char *user, const char *assistant,
                chat_out *out) {
    return render(t, tmpl, system, user, assistant ? assistant : "", out);
}

int chat_render_prompt(tokenizer_t *t, int tmpl, const char *system, const char *user, chat_out *out) {
    return render(t, tmpl, system, user, NULL, out);
}
