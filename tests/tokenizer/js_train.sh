#!/usr/bin/env bash
# CLI path of training and tokenizing: `retort tokenizer train` on a fixture
# mix, then the JS reference loads the trained tokenizer.json and
# tokenizer_config.json and must encode the corpus exactly as we do; then
# `retort tokenize` writes a token file and counts into the database.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/npm_ref.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$TEST_TOKENIZER" --make-db "$tmp/t.db"
"$RETORT" tokenizer train --db "$tmp/t.db" --mix m --vocab 400 --out "$tmp/tok"
# every template's tokens and the reasoning tags are there
node -e '
const c = require(process.argv[1] + "/tokenizer_config.json");
const j = require(process.argv[1] + "/tokenizer.json");
const have = new Set(j.added_tokens.map((a) => a.content));
for (const s of ["<think>", "</think>", "<answer>", "</answer>", "<|im_start|>", "<|eot_id|>", c.bos_token, c.eos_token, c.pad_token])
  if (!have.has(s)) { console.error("missing special token " + s); process.exit(1); }
if (!c.chat_template.includes("add_generation_prompt")) process.exit(1);
' "$tmp/tok"
node "$HERE/gen_corpus.js" > "$tmp/corpus.jsonl"
"$RETORT" tokenizer encode --format json --tokenizer "$tmp/tok" < "$tmp/corpus.jsonl" > "$tmp/ours"
node "$HERE/ref.js" check "$tmp/tok" "$tmp/corpus.jsonl" "$tmp/ours"
"$RETORT" tokenizer decode --format json --tokenizer "$tmp/tok" < "$tmp/ours" > "$tmp/dec"
node "$HERE/ref.js" roundtrip "$tmp/tok" "$tmp/corpus.jsonl" "$tmp/dec"

"$RETORT" tokenize --db "$tmp/t.db" --mix m --tokenizer "$tmp/tok" --template r1 --out "$tmp/m.tok"
[ -s "$tmp/m.tok" ] || { echo "no token file" >&2; exit 1; }
[ "$(head -c 8 "$tmp/m.tok")" = RETORTTK ] || { echo "bad magic" >&2; exit 1; }
n=$(sqlite3 "$tmp/t.db" "SELECT count(*) FROM token_counts WHERE template='r1'")
[ "$n" = 300 ] || { echo "token_counts has $n rows, want 300" >&2; exit 1; }
# usage errors name the flag and exit 2; a missing mix is a runtime error
set +e
"$RETORT" tokenize --db "$tmp/t.db" --tokenizer "$tmp/tok" --out "$tmp/x.tok" 2>/dev/null; [ $? = 2 ] || exit 1
"$RETORT" tokenize --db "$tmp/t.db" --mix nosuch --tokenizer "$tmp/tok" --out "$tmp/x.tok" 2>/dev/null; [ $? = 1 ] || exit 1
"$RETORT" tokenizer encode --tokenizer "$tmp/nope" </dev/null 2>/dev/null; [ $? = 1 ] || exit 1
echo ok
