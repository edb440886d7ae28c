#!/usr/bin/env bash
# The openai teacher (`generate --teacher openai:URL`) against a local stand-in
# for an OpenAI-compatible endpoint (mock_openai.py, started here): the three
# ways servers return reasoning, provenance without the API key, concurrency,
# retries on 429/503, stopping on 401/400, samples that fail all their retries
# left out and requested again on the next run, a server that is down, resume
# after a deletion and after a real kill -9 (rows identical to an
# uninterrupted run), finish_reason=length, and the filter judging the traces.
. "$(dirname "$0")/../lib.sh" openai
PY=${PYTHON:-python3}
D=$W/o.db
expect_rc() { # expect_rc WANT PATTERN CMD... : exit status WANT and stderr matching PATTERN
  local want=$1 pat=$2; shift 2
  "$@" >"$W/out" 2>"$W/err"; local rc=$?
  check "'${*:1:6} ...' exits $want, stderr /$pat/" "[ $rc = $want ] && grep -qE -- \"$pat\" $W/err" ||
    { echo "     rc=$rc stderr: $(head -c 400 "$W/err")"; }
}
q() { sqlite3 "$1" "$2"; }
OAI="SELECT t.id FROM traces t JOIN teachers tc ON tc.id = t.teacher_id WHERE tc.name LIKE 'openai:%'"
content() { # the openai rows that must not depend on how the run went
  sqlite3 "$1" "SELECT p.hash, tc.key, t.sample_index, t.text, t.finish_reason, t.think_prefilled, t.n_tokens
                FROM traces t JOIN problems p ON p.id = t.problem_id JOIN teachers tc ON tc.id = t.teacher_id
                WHERE tc.name LIKE 'openai:%' ORDER BY p.hash, tc.key, t.sample_index" | sha256sum | cut -d' ' -f1
}

"$R" generate --db "$D" --family arith --count 40 --samples 1 --seed 5 --quiet >/dev/null 2>&1
echo ok > "$W/mode"
"$PY" "$(dirname "$0")/mock_openai.py" "$D" "$W/port" "$W/mode" sk-test-123 &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 100); do [ -f "$W/port" ] && break; sleep 0.1; done
PORT=$(cat "$W/port")
URL=http://127.0.0.1:$PORT/v1
stat() { # stat KEY [PATH]: a field of the server's stats (GET /reset zeroes max_inflight first)
  "$PY" -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))[sys.argv[2]])' \
    "http://127.0.0.1:$PORT/${2:-stats}" "$1"; }
export OPENAI_API_KEY=sk-test-123
G=("$R" generate --db "$D" --teacher "openai:$URL" --api-model mock-r1 --split train --quiet)

# --- usage errors: exit 2, naming the flag ---
expect_rc 2 "--api-model is required" "$R" generate --db "$D" --teacher "openai:$URL" --split train
expect_rc 2 "http:// or https://" "$R" generate --db "$D" --teacher openai:ftp://x --api-model m
expect_rc 2 "--concurrency" "${G[@]}" --concurrency 0

# --- errors every request would share stop the run at once, storing nothing ---
expect_rc 1 "HTTP 401: Incorrect API key provided" env OPENAI_API_KEY=wrong "${G[@]}" --limit 5
echo badmodel > "$W/mode"
expect_rc 1 "HTTP 400: model 'mock-r1' does not exist" "${G[@]}" --limit 5
check "nothing stored by the failed runs" "[ $(q "$D" "SELECT count(*) FROM ($OAI)") = 0 ]"

# --- a flaky endpoint: 429 (Retry-After) and 503 on first tries, retried ---
echo flaky > "$W/mode"
R0=$(stat requests reset)
expect_rc 0 "" "${G[@]}" --limit 30 --samples 3 --concurrency 4 --seed 9
check "90 traces stored" "[ $(q "$D" "SELECT count(*) FROM ($OAI)") = 90 ]"
check "retries were made (requests > 90)" "[ $(( $(stat requests) - R0 )) -gt 90 ]"
MI=$(stat max_inflight)
check "requests overlapped, at most --concurrency 4 (max in flight $MI)" "[ $MI -ge 2 ] && [ $MI -le 4 ]"
check "the request's model is --api-model" "[ \"$(stat models)\" = \"['mock-r1']\" ]"
# reasoning_content -> R1's format; inline think kept; a prefilled think recorded as such
check "reasoning_content written as <think>..</think> then the answer" \
  "[ $(q "$D" "SELECT count(*) FROM traces WHERE id IN ($OAI) AND think_prefilled = 0 AND text GLOB '<think>
I work it out*.
</think>

So the answer is*'") -gt 10 ]"
check "content that closes an unopened think block is think_prefilled" \
  "[ $(q "$D" "SELECT count(*) FROM traces WHERE id IN ($OAI) AND think_prefilled = 1 AND text GLOB 'I work it out*</think>*'") -gt 10 ]"
check "no other shapes" "[ $(q "$D" "SELECT count(*) FROM traces WHERE id IN ($OAI) AND NOT (text GLOB '<think>
I work*' AND think_prefilled = 0 OR text GLOB 'I work*' AND think_prefilled = 1)") = 0 ]"
check "finish stop, token counts and latencies recorded" \
  "[ $(q "$D" "SELECT count(*) FROM traces WHERE id IN ($OAI) AND finish_reason = 'stop' AND n_tokens > 5 AND latency_ms > 0") = 90 ]"
check "the teacher row has the endpoint, model and sampling" \
  "[ $(q "$D" "SELECT count(*) FROM teachers WHERE name = 'openai:$URL' AND json_extract(params, '\$.model') = 'mock-r1'
        AND json_extract(params, '\$.url') = '$URL/chat/completions' AND json_extract(params, '\$.temperature') = 0.6") = 1 ]"
check "the API key is stored nowhere" "! grep -q sk-test-123 $D $D-wal 2>/dev/null"

# --- resume: deleted samples are requested again, identical ---
H=$(content "$D")
q "$D" "DELETE FROM traces WHERE id IN ($OAI AND t.sample_index = 1 LIMIT 10)"
echo ok > "$W/mode"
expect_rc 0 "" "${G[@]}" --limit 30 --samples 3 --concurrency 4 --seed 9
check "the rerun added 10 and left 80" "grep -q 'problems_existing=30 problems_eval=0 traces_new=10 traces_existing=80' $W/out"
check "resumed rows are identical to the deleted ones" "[ \"$(content "$D")\" = \"$H\" ]"

# --- kill -9 mid-run, then resume: the same rows as an uninterrupted run ---
sqlite3 "$D" ".backup $W/u.db"
OPENAI_API_KEY=sk-test-123 "$R" generate --db "$W/u.db" --teacher "openai:$URL" --api-model mock-r1 --split train \
  --limit 30 --samples 5 --seed 9 --quiet >/dev/null 2>&1
echo slow > "$W/mode"
"${G[@]}" --limit 30 --samples 5 --seed 9 --concurrency 2 >/dev/null 2>&1 &
GP=$!
for _ in $(seq 100); do [ "$(q "$D" "SELECT count(*) FROM ($OAI)")" -gt 92 ] && break; sleep 0.1; done
kill -9 $GP; wait $GP 2>/dev/null
N=$(q "$D" "SELECT count(*) FROM ($OAI)")
check "the killed run stored some of the 60 new samples ($((N - 90)))" "[ $N -gt 90 ] && [ $N -lt 150 ]"
echo ok > "$W/mode"
expect_rc 0 "" "${G[@]}" --limit 30 --samples 5 --seed 9
check "after resume: the rows of the uninterrupted run" "[ \"$(content "$D")\" = \"$(content "$W/u.db")\" ]"

# --- samples that fail every retry are left out, reported, and requested next time ---
echo poison > "$W/mode"
expect_rc 1 "samples failed after 1 retries each .*running the same command again requests only the missing" \
  "${G[@]}" --limit 30 --samples 6 --seed 9 --retries 1
S5=$(q "$D" "SELECT count(*) FROM traces WHERE id IN ($OAI) AND sample_index = 5")
check "the others were stored ($S5 of 30)" "[ $S5 -gt 0 ] && [ $S5 -lt 30 ]"
check "no row stands for a failed sample" "[ $(q "$D" "SELECT count(*) FROM traces WHERE id IN ($OAI) AND (text = '' OR finish_reason = 'error')") = 0 ]"
echo ok > "$W/mode"
expect_rc 0 "" "${G[@]}" --limit 30 --samples 6 --seed 9
check "the rerun filled them in" "[ $(q "$D" "SELECT count(*) FROM traces WHERE id IN ($OAI) AND sample_index = 5") = 30 ]"

# --- the length limit: finish_reason=length (a new teacher: max_tokens is part of its identity) ---
expect_rc 0 "" "${G[@]}" --limit 3 --samples 1 --max-new-tokens 4
check "finish_reason length" "[ $(q "$D" "SELECT count(*) FROM traces t JOIN teachers tc ON tc.id = t.teacher_id
  WHERE json_extract(tc.params, '\$.max_tokens') = 4 AND t.finish_reason = 'length'") = 3 ]"

# --- the filter judges these traces like any other ---
"$R" filter --db "$D" >/dev/null 2>&1
V="SELECT v.* FROM verdicts v WHERE v.trace_id IN ($OAI) AND v.trace_id NOT IN (SELECT t.id FROM traces t JOIN teachers tc
   ON tc.id = t.teacher_id WHERE json_extract(tc.params, '\$.max_tokens') = 4)"
check "correct ones kept, wrong answers rejected for it, nothing else" \
  "[ $(q "$D" "SELECT count(*) FROM ($V) WHERE keep = 1") -gt 100 ] &&
   [ $(q "$D" "SELECT count(*) FROM ($V) WHERE pass = 0") -gt 20 ] &&
   [ $(q "$D" "SELECT count(*) FROM ($V) WHERE pass = 0 AND reasons != 'wrong_answer'") = 0 ]"

# --- an endpoint that is down: stopped early, not after every sample's retries ---
kill $SRV; wait $SRV 2>/dev/null
T0=$(date +%s)
expect_rc 1 "failed in a row, the endpoint looks down" "${G[@]}" --limit 30 --samples 8 --seed 9 --retries 1 --concurrency 2
check "it stopped within 20 s" "[ $(( $(date +%s) - T0 )) -lt 20 ]"
exit $fail
