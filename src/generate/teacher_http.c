/* The HTTP teacher: an OpenAI-compatible chat completions endpoint (the
 * DeepSeek API, vLLM, SGLang, llama.cpp's server, OpenAI itself) samples
 * traces into the same table as the other teachers: `--teacher openai:URL`.
 *
 * Problems, seeds and resume are the model teacher's (teacher_common.c): the
 * samples this teacher has not stored are requested, one request per sample
 * with its own seed, --concurrency of them in flight (libcurl's multi
 * interface, one thread), and the finished ones are committed every 64
 * samples or 2 seconds, so a kill loses at most what was in flight.
 *
 * Failures. 429, 408, 409, 5xx, time-outs and dropped connections are retried
 * (--retries, exponential backoff with jitter, or the server's Retry-After).
 * Any other HTTP status (401, 404, 400, ...) stops the run at once: every
 * request would get the same answer. A sample that still fails after its
 * retries is left out, not stored as a row posing as a result; the run goes on,
 * reports the count and exits with an error, and running it again requests
 * exactly the missing samples. So many failures in a row that the endpoint
 * looks down stop the run early.
 *
 * The trace. A response with a separate reasoning field (`reasoning_content`,
 * DeepSeek's and vLLM's reasoning parsers; or `reasoning`) is written in R1's
 * format, "<think>\nREASONING\n</think>\n\nCONTENT". Otherwise the content is
 * stored as it came; when it closes a think block it never opened, the
 * server's chat template prefilled "<think>\n" (R1's own template does) and
 * the trace says so (think_prefilled = 1), as the model teacher's do.
 *
 * The API key is read from an environment variable at run time and never
 * stored: not in the teachers row, not in runs.args. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "generate/generate.h"
#include "core/db.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/strbuf.h"
#include "core/sys.h"

int http_trace_parse(const char *body, size_t n, strbuf *text, const char **finish, int *prefilled, long *n_tokens,
                     char *why, size_t why_n) {
    cJSON *r = cJSON_ParseWithLength(body, n);
    int rc = -1;
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "choices"), 0);
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(choice, "message");
    if (!cJSON_IsObject(r)) { snprintf(why, why_n, "the response is not a JSON object"); goto out; }
    if (!cJSON_IsObject(message)) { snprintf(why, why_n, "the response has no choices[0].message"); goto out; }
    const char *content = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(message, "content"));
    const char *reasoning = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(message, "reasoning_content"));
    if (!reasoning) reasoning = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(message, "reasoning"));
    const char *fr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(choice, "finish_reason"));
    *finish = fr && strcmp(fr, "length") == 0 ? "length" : "stop";
    *prefilled = 0;
    sb_reset(text);
    if (reasoning && *reasoning) {
        size_t rl = strlen(reasoning);
        while (rl && (reasoning[rl - 1] == '\n' || reasoning[rl - 1] == ' ')) rl--;
        while (rl && *reasoning == '\n') reasoning++, rl--;
        sb_puts(text, "<think>\n");
        sb_putn(text, reasoning, rl);
        /* cut by the length limit inside the reasoning: the block was never closed */
        int cut = strcmp(*finish, "length") == 0 && (!content || !*content);
        if (!cut) sb_puts(text, "\n</think>\n\n");
        if (content) {
            while (*content == '\n') content++;
            sb_puts(text, content);
        }
    } else if (content) {
        sb_puts(text, content);
        const char *close = strstr(content, "</think>"), *open = strstr(content, "<think>");
        *prefilled = close && (!open || open > close);
    }
    if (text->len == 0) { snprintf(why, why_n, "the response has no content"); goto out; }
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "usage"), "completion_tokens");
    *n_tokens = cJSON_IsNumber(ct) && ct->valuedouble >= 0 && ct->valuedouble < 1e15 ? (long)ct->valuedouble : -1;
    rc = 0;
out:
    cJSON_Delete(r);
    return rc;
}

/* An error response's message ({"error": {"message": ...}} or {"message": ...}),
 * else the start of the body. */
static void error_text(const strbuf *body, char *out, size_t n) {
    cJSON *r = cJSON_ParseWithLength(body->s ? body->s : "", body->len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
    if (!m) m = cJSON_GetStringValue(e);
    if (!m) m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "message"));
    if (m) snprintf(out, n, "%s", m);
    else snprintf(out, n, "%.*s", (int)(body->len < 200 ? body->len : 200), body->s ? body->s : "");
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    cJSON_Delete(r);
}

typedef struct {
    CURL *h;
    long todo;          /* index into the work list; -1: free */
    int attempt;        /* tries made */
    double not_before;  /* > 0: waiting to retry until then */
    char *req;          /* request body */
    strbuf resp;
    char errbuf[CURL_ERROR_SIZE];
} slot;

typedef struct {
    long todo;
    char *text;
    const char *finish;
    int prefilled;
    long n_tokens;
    double ms;
} done_sample;

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    sb_putn((strbuf *)ud, p, size * n);
    return size * n;
}

/* The request body of one sample. */
static char *request_body(const generate_opts *o, const char *user, uint64_t seed) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "model", o->http.api_model);
    cJSON *msgs = cJSON_AddArrayToObject(b, "messages");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", user);
    cJSON_AddItemToArray(msgs, m);
    cJSON_AddNumberToObject(b, "temperature", o->model.temperature);
    cJSON_AddNumberToObject(b, "top_p", o->model.top_p);
    if (o->model.top_k > 0) cJSON_AddNumberToObject(b, "top_k", o->model.top_k);   /* vLLM/SGLang extension */
    cJSON_AddNumberToObject(b, "max_tokens", o->model.max_new);
    cJSON_AddNumberToObject(b, "seed", (double)(seed & 0x7fffffff));              /* servers take 32-bit seeds */
    cJSON_AddNumberToObject(b, "n", 1);
    cJSON_AddFalseToObject(b, "stream");
    char *s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    return s;
}

static int retryable_curl(CURLcode c) {
    return c != CURLE_URL_MALFORMAT && c != CURLE_UNSUPPORTED_PROTOCOL && c != CURLE_OUT_OF_MEMORY &&
           c != CURLE_BAD_FUNCTION_ARGUMENT && c != CURLE_NOT_BUILT_IN;
}

static int retryable_status(long s) { return s == 408 || s == 409 || s == 425 || s == 429 || s >= 500; }

int teacher_http_run(sqlite3 *db, const generate_opts *o, int64_t run_id, generate_result *res) {
    memset(res, 0, sizeof *res);
    double t0 = clock_now();
    const char *base = o->teacher + 7;
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
        err_set("teacher 'openai:' needs an http:// or https:// base URL (openai:http://host:8000/v1), not '%s'", base);
        return -1;
    }
    if (!o->http.api_model || !*o->http.api_model) { err_set("teacher %s: --api-model is required", o->teacher); return -1; }
    if (o->samples < 1 || o->samples > 4096) { err_set("--samples must be 1..4096"); return -1; }
    if (o->http.concurrency < 1 || o->http.retries < 0 || !(o->http.timeout_s > 0)) {
        err_set("--concurrency must be >= 1, --retries >= 0 and --timeout > 0");
        return -1;
    }
    strbuf url;
    sb_init(&url);
    sb_puts(&url, base);
    const char *suffix = "/chat/completions";
    if (url.len < strlen(suffix) || strcmp(url.s + url.len - strlen(suffix), suffix) != 0) {
        while (url.len && url.s[url.len - 1] == '/') sb_truncate(&url, url.len - 1);
        sb_puts(&url, suffix);
    }

    int64_t *ids = NULL;
    long nids = 0;
    if (teacher_problem_ids(db, o, run_id, res, &ids, &nids)) { sb_free(&url); return -1; }

    /* the teacher's identity: endpoint, model, sampling, template (not the key, not the seed) */
    const char *user_tpl = synth_template("r1", "en");
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "generator", "retort-openai-1");
    cJSON_AddStringToObject(params, "url", url.s);
    cJSON_AddStringToObject(params, "model", o->http.api_model);
    cJSON_AddNumberToObject(params, "temperature", o->model.temperature);
    cJSON_AddNumberToObject(params, "top_p", o->model.top_p);
    cJSON_AddNumberToObject(params, "top_k", o->model.top_k);
    cJSON_AddNumberToObject(params, "max_tokens", o->model.max_new);
    char *pj = cJSON_PrintUnformatted(params);
    cJSON_Delete(params);
    char tkey[65];

    int rc = -1;
    teacher_work w = {0};
    sqlite3_stmt *ins = NULL;
    CURLM *multi = NULL;
    struct curl_slist *hdrs = NULL;
    int nslots = o->http.concurrency;
    slot *slots = NULL;
    done_sample *fin = NULL;
    long nfin = 0;
    int curl_up = 0;

    int64_t teacher_id = teacher_record(db, o->teacher, pj, "openai-chat", user_tpl, 0, tkey);
    if (teacher_id < 0) goto out;
    long existing = 0;
    if (teacher_work_scan(db, ids, nids, teacher_id, tkey, o->seed, o->samples, user_tpl, &w, &existing)) goto out;
    res->traces_existing = existing;
    if (w.ntodo == 0) { rc = 0; goto out; }
    if (db_prepare(db, "INSERT OR IGNORE INTO traces(problem_id, teacher_id, sample_index, text, finish_reason, "
                       "think_prefilled, n_tokens, latency_ms, injected, run_id) VALUES (?,?,?,?,?,?,?,?,'',?)", &ins))
        goto out;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) { err_set("libcurl failed to initialize"); goto out; }
    curl_up = 1;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    const char *key = o->http.api_key_env && *o->http.api_key_env ? getenv(o->http.api_key_env) : NULL;
    if (key && *key) {
        strbuf a;
        sb_init(&a);
        sb_printf(&a, "Authorization: Bearer %s", key);
        hdrs = curl_slist_append(hdrs, a.s);
        sb_free(&a);
    }
    multi = curl_multi_init();
    if (!multi || !hdrs) { err_set("libcurl: out of memory"); goto out; }
    slots = xcalloc((size_t)nslots, sizeof *slots);
    for (int i = 0; i < nslots; i++) {
        slot *s = &slots[i];
        s->todo = -1;
        sb_init(&s->resp);
        if (!(s->h = curl_easy_init())) { err_set("libcurl: out of memory"); goto out; }
        curl_easy_setopt(s->h, CURLOPT_URL, url.s);
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(s->h, CURLOPT_WRITEDATA, &s->resp);
        curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->errbuf);
        curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, (long)(o->http.timeout_s * 1000));
        curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS, (long)fmin(o->http.timeout_s * 1000, 30000));
        curl_easy_setopt(s->h, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(s->h, CURLOPT_USERAGENT, "retort/" RETORT_VERSION);
        curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
    }
    const long flush_every = 64;
    fin = xcalloc((size_t)flush_every + (size_t)nslots, sizeof *fin);

    long next = 0, ndone = 0, nfailed = 0, in_a_row = 0, tokens = 0;
    const long give_up_after = nslots * 2 > 8 ? nslots * 2 : 8;   /* failures in a row: the endpoint is down */
    char last_why[600] = "";
    int fatal = 0, busy = 0;
    uint64_t jitter = mix64((uint64_t)(clock_now() * 1e6));
    double last_flush = clock_now(), tstart = clock_now(), last_progress = 0;
    strbuf text;
    sb_init(&text);
    while (!fatal && (next < w.ntodo || busy > 0)) {
        double now = clock_now();
        /* start new samples and due retries */
        for (int i = 0; i < nslots; i++) {
            slot *s = &slots[i];
            int start = 0;
            if (s->todo < 0 && next < w.ntodo) {
                teacher_todo *t = &w.todo[next];
                s->todo = next++;
                s->attempt = 0;
                s->req = request_body(o, w.prompts[t->prompt], t->seed);
                curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->req);
                busy++;
                start = 1;
            } else if (s->todo >= 0 && s->not_before > 0 && now >= s->not_before) {
                s->not_before = 0;
                start = 1;
            }
            if (start) {
                sb_reset(&s->resp);
                s->errbuf[0] = 0;
                s->attempt++;
                curl_multi_add_handle(multi, s->h);
            }
        }
        int still;
        curl_multi_perform(multi, &still);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            slot *s;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            CURLcode cc = msg->data.result;
            curl_multi_remove_handle(multi, s->h);
            teacher_todo *t = &w.todo[s->todo];
            long status = 0;
            curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
            char why[512] = "";
            int retry = 0, ok = 0;
            const char *finish = "stop";
            int prefilled = 0;
            long ntok = -1;
            if (cc != CURLE_OK) {
                snprintf(why, sizeof why, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
                retry = retryable_curl(cc);
            } else if (status == 200) {
                ok = http_trace_parse(s->resp.s ? s->resp.s : "", s->resp.len, &text, &finish, &prefilled, &ntok, why,
                                      sizeof why) == 0;
                retry = !ok;   /* a proxy's error page, a cut body: worth another try */
            } else {
                char et[400];
                error_text(&s->resp, et, sizeof et);
                snprintf(why, sizeof why, "HTTP %ld: %s", status, et);
                retry = retryable_status(status);
            }
            if (ok) {
                double secs = 0;
                curl_easy_getinfo(s->h, CURLINFO_TOTAL_TIME, &secs);
                fin[nfin++] = (done_sample){.todo = s->todo, .text = sb_steal(&text), .finish = finish,
                                            .prefilled = prefilled, .n_tokens = ntok, .ms = secs * 1000};
                sb_init(&text);
                if (ntok > 0) tokens += ntok;
                in_a_row = 0;
                ndone++;
            } else if (retry && s->attempt <= o->http.retries) {
                curl_off_t ra = -1;
                curl_easy_getinfo(s->h, CURLINFO_RETRY_AFTER, &ra);
                jitter = mix64(jitter + 1);
                double wait = ra > 0 ? fmin((double)ra, 300) + 0.05   /* 0: no Retry-After header */
                                      : fmin(30, 0.5 * pow(2, s->attempt - 1)) * (0.75 + 0.5 * (double)(jitter >> 11) / 9007199254740992.0);
                s->not_before = clock_now() + wait;
                continue;   /* the slot keeps its sample */
            } else if (retry) {
                snprintf(last_why, sizeof last_why, "problem %lld sample %d: %s", (long long)t->pid, t->sample, why);
                nfailed++;
                if (++in_a_row >= give_up_after) {
                    err_set("teacher %s: %ld samples failed in a row, the endpoint looks down; stopping (last: %s)",
                            o->teacher, in_a_row, last_why);
                    fatal = 1;
                }
            } else {
                err_set("teacher %s: %s (problem %lld sample %d); stopping: every request would get the same answer",
                        o->teacher, why, (long long)t->pid, t->sample);
                fatal = 1;
            }
            free(s->req);
            s->req = NULL;
            s->todo = -1;
            busy--;
        }
        /* commit what is done */
        now = clock_now();
        if (nfin >= flush_every || (nfin > 0 && (now - last_flush > 2 || fatal || (next >= w.ntodo && busy == 0)))) {
            int okc = db_begin(db) == 0;
            for (long i = 0; i < nfin && okc; i++) {
                teacher_todo *t = &w.todo[fin[i].todo];
                sqlite3_bind_int64(ins, 1, t->pid);
                sqlite3_bind_int64(ins, 2, teacher_id);
                sqlite3_bind_int(ins, 3, t->sample);
                sqlite3_bind_text(ins, 4, fin[i].text, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 5, fin[i].finish, -1, SQLITE_STATIC);
                sqlite3_bind_int(ins, 6, fin[i].prefilled);
                if (fin[i].n_tokens >= 0) sqlite3_bind_int64(ins, 7, fin[i].n_tokens); else sqlite3_bind_null(ins, 7);
                sqlite3_bind_double(ins, 8, fin[i].ms);
                if (run_id > 0) sqlite3_bind_int64(ins, 9, run_id); else sqlite3_bind_null(ins, 9);
                if (sqlite3_step(ins) != SQLITE_DONE) { err_set("inserting trace: %s", sqlite3_errmsg(db)); okc = 0; }
                else res->traces_new += sqlite3_changes(db);
                sqlite3_reset(ins);
            }
            for (long i = 0; i < nfin; i++) free(fin[i].text);
            nfin = 0;
            if (!okc || db_commit(db)) {
                db_rollback(db);
                fatal = 1;
                break;
            }
            last_flush = now;
        }
        if (!o->quiet && (now - last_progress > 0.5 || (next >= w.ntodo && busy == 0))) {
            last_progress = now;
            fprintf(stderr, "\rretort: generate: %s: %ld/%ld samples, %ld failed, %d in flight, %.0f tokens/s ",
                    o->teacher, ndone, w.ntodo, nfailed, busy, now > tstart ? tokens / (now - tstart) : 0.0);
        }
        if (fatal || (next >= w.ntodo && busy == 0)) break;
        /* sleep until a transfer moves or the earliest retry is due */
        double wake = now + 0.2;
        for (int i = 0; i < nslots; i++)
            if (slots[i].todo >= 0 && slots[i].not_before > 0 && slots[i].not_before < wake) wake = slots[i].not_before;
        int ms = (int)((wake - now) * 1000);
        curl_multi_poll(multi, NULL, 0, ms > 0 ? ms : 0, NULL);
    }
    sb_free(&text);
    if (!o->quiet) fputc('\n', stderr);
    if (!fatal && nfailed) {
        err_set("teacher %s: %ld of %ld samples failed after %d retries each (last: %s); the %ld that succeeded are "
                "stored, and running the same command again requests only the missing ones",
                o->teacher, nfailed, w.ntodo, o->http.retries, last_why, ndone);
        fatal = 1;
    }
    rc = fatal ? -1 : 0;
out:
    for (int i = 0; slots && i < nslots; i++) {
        if (slots[i].h) {
            curl_multi_remove_handle(multi, slots[i].h);
            curl_easy_cleanup(slots[i].h);
        }
        free(slots[i].req);
        sb_free(&slots[i].resp);
    }
    for (long i = 0; i < nfin; i++) free(fin[i].text);
    free(fin);
    free(slots);
    if (multi) curl_multi_cleanup(multi);
    curl_slist_free_all(hdrs);
    if (curl_up) curl_global_cleanup();
    sqlite3_finalize(ins);
    teacher_work_free(&w);
    free(pj);
    free(ids);
    sb_free(&url);
    res->seconds = clock_now() - t0;
    return rc;
}
