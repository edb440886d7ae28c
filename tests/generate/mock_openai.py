#!/usr/bin/env python3
"""A stand-in for an OpenAI-compatible chat completions endpoint, for
tests/generate/cli_openai.sh: deterministic answers from the problems table,
the three ways real servers return reasoning, and the failures a real
endpoint has, switched at run time through a mode file.

usage: mock_openai.py DB PORT_FILE MODE_FILE [API_KEY]

Each response depends only on the request (prompt, seed, max_tokens), so a
resumed run can be compared with an uninterrupted one. By seed:
  seed % 3 == 0  reasoning in message.reasoning_content, the answer in content
  seed % 3 == 1  "<think>...</think>" inline in content
  seed % 3 == 2  content starts inside the think block (the template prefilled it)
  seed % 5 == 4  the final answer is wrong
Modes (first line of MODE_FILE, read on every request):
  ok        answer everything
  flaky     the first try of a sample gets 429 (seed % 4 == 0, with Retry-After: 1)
            or 503 (seed % 4 == 1, no Retry-After); later tries succeed
  poison    samples with seed % 7 == 3 always get 500; the rest succeed
  badmodel  400 {"error": {"message": "model 'X' does not exist"}}
  slow      answer everything, 0.3 s each
GET /reset zeroes max_inflight; GET /stats (any other path) returns {"requests": N, "max_inflight": N, "models": [...], "last": {request}}.
"""
import json
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DB, PORT_FILE, MODE_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
KEY = sys.argv[4] if len(sys.argv) > 4 else None
SUFFIX = "\nPlease reason step by step, and put your final answer within \\boxed{}."

lock = threading.Lock()
stats = {"requests": 0, "max_inflight": 0, "models": [], "last": None}
inflight = 0
tries = {}


def answer_of(prompt):
    con = sqlite3.connect(DB, timeout=30)
    try:
        row = con.execute("SELECT answer FROM problems WHERE prompt = ?", (prompt,)).fetchone()
    finally:
        con.close()
    return row[0] if row else None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock:
            if self.path == "/reset":
                stats["max_inflight"] = 0
            self.reply(200, stats)

    def do_POST(self):
        global inflight
        n = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(n))
        with lock:
            inflight += 1
            stats["requests"] += 1
            stats["max_inflight"] = max(stats["max_inflight"], inflight)
            if req.get("model") not in stats["models"]:
                stats["models"].append(req.get("model"))
            stats["last"] = req
        try:
            time.sleep(0.03)  # long enough for requests to overlap
            self.answer(req)
        finally:
            with lock:
                inflight -= 1

    def answer(self, req):
        if self.path != "/v1/chat/completions":
            return self.reply(404, {"error": {"message": "no route " + self.path}})
        if KEY is not None and self.headers.get("Authorization") != "Bearer " + KEY:
            return self.reply(401, {"error": {"message": "Incorrect API key provided"}})
        with open(MODE_FILE) as f:
            mode = f.read().strip()
        seed = req["seed"]
        user = req["messages"][0]["content"]
        with lock:
            k = (user, seed)
            tries[k] = tries.get(k, 0) + 1
            first = tries[k] == 1
        if mode == "slow":
            time.sleep(0.3)
        if mode == "badmodel":
            return self.reply(400, {"error": {"message": "model '%s' does not exist" % req["model"]}})
        if mode == "flaky" and first and seed % 4 == 0:
            return self.reply(429, {"error": {"message": "rate limited"}}, [("Retry-After", "1")])
        if mode == "flaky" and first and seed % 4 == 1:
            return self.reply(503, {"error": {"message": "overloaded"}})
        if mode == "poison" and seed % 7 == 3:
            return self.reply(500, {"error": {"message": "internal error"}})
        if not user.endswith(SUFFIX):
            return self.reply(400, {"error": {"message": "unexpected prompt template"}})
        truth = answer_of(user[: -len(SUFFIX)])
        if truth is None:
            return self.reply(400, {"error": {"message": "unknown problem"}})
        final = truth + "1" if seed % 5 == 4 else truth
        thought = "I work it out carefully (seed %d). The result is %s." % (seed, final)
        tail = "So the answer is \\boxed{%s}." % final
        finish = "stop"
        msg = {"role": "assistant"}
        style = seed % 3
        if style == 0:
            msg["reasoning_content"] = thought
            msg["content"] = "\n\n" + tail
        elif style == 1:
            msg["content"] = "<think>\n" + thought + "\n</think>\n\n" + tail
        else:
            msg["content"] = thought + "\n</think>\n\n" + tail
        if req.get("max_tokens", 1 << 30) < 8:
            msg.pop("reasoning_content", None)
            msg["content"] = ("<think>\n" + thought)[: 4 * req["max_tokens"]]
            finish = "length"
        words = len((msg.get("reasoning_content", "") + msg["content"]).split())
        self.reply(200, {"id": "cmpl-%d" % seed, "object": "chat.completion", "model": req["model"],
                         "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
                         "usage": {"prompt_tokens": 20, "completion_tokens": words, "total_tokens": 20 + words}})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
