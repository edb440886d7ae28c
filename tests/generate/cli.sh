#!/usr/bin/env bash
# End-to-end checks of `retort init/generate/stats` through the binary: usage
# errors, a file that is not a database, a read-only directory, determinism,
# idempotent re-runs, and resume after a real kill -9.
set -u
R=${RETORT:?RETORT must point at the retort binary}
T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
  local d=$1; shift
  if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=1; fi
}
expect_rc() { # expect_rc WANT PATTERN CMD... : exit status WANT and stderr matching PATTERN
  local want=$1 pat=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" != "$want" ] || ! grep -qE -- "$pat" "$T/err"; then
    echo "FAIL: '$*' gave rc=$rc (want $want), stderr: $(head -c 300 "$T/err")"; fail=1
  else echo "ok: '$*' -> $rc"; fi
}
content() { # the rows that must be identical between equivalent runs
  sqlite3 "$1" "SELECT p.hash, p.family, p.lang, p.prompt, p.answer, p.split, p.knobs, tc.key, t.sample_index,
                t.text, t.finish_reason, t.injected, t.think_prefilled
                FROM traces t JOIN problems p ON p.id = t.problem_id JOIN teachers tc ON tc.id = t.teacher_id
                ORDER BY p.hash, tc.key, t.sample_index" | sha256sum | cut -d' ' -f1
}

# --- usage errors name the flag and exit 2 ---
expect_rc 2 "unknown option '--bogus'" "$R" generate --db "$T/a.db" --bogus
expect_rc 2 "--count: 'abc' is not an integer" "$R" generate --db "$T/a.db" --count abc
expect_rc 2 "--count: 0 is out of range" "$R" generate --db "$T/a.db" --count 0
expect_rc 2 "--family: 'nope' is not one of" "$R" generate --db "$T/a.db" --family nope
expect_rc 2 "--operands: MIN 5 is greater than MAX 2" "$R" generate --db "$T/a.db" --operands 5:2
expect_rc 2 "--digits: '0:3' is out of range" "$R" generate --db "$T/a.db" --digits 0:3
expect_rc 2 "--fault-loop: 1.5 is out of range" "$R" generate --db "$T/a.db" --fault-loop 1.5
expect_rc 2 "--samples needs a value" "$R" generate --db "$T/a.db" --samples
expect_rc 2 "unexpected argument 'extra'" "$R" generate --db "$T/a.db" extra
expect_rc 2 "'frobnicate' is not a command" "$R" frobnicate
expect_rc 2 "usage: retort" "$R"
check "no database was created by usage errors" test ! -e "$T/a.db"
"$R" --version | grep -qE '^retort [0-9]+\.[0-9]+' && echo "ok: --version" || { echo "FAIL: --version"; fail=1; }
"$R" generate --help | grep -q -- "--operands MIN:MAX" && "$R" help generate | grep -q "default: 4" \
  && echo "ok: --help lists flags with defaults" || { echo "FAIL: generate --help"; fail=1; }
for c in init generate stats; do
  "$R" help "$c" | grep -q -- "--db PATH" || { echo "FAIL: $c --help lacks --db"; fail=1; }
done

# --- a file that is not a SQLite database is refused and left untouched ---
printf 'name,value\nnot,a database\n' >"$T/notdb.db"
sum_before=$(sha256sum "$T/notdb.db")
expect_rc 1 "not a SQLite database" "$R" generate --db "$T/notdb.db" --count 5
expect_rc 1 "not a SQLite database" "$R" stats --db "$T/notdb.db"
expect_rc 1 "not a SQLite database" "$R" init --db "$T/notdb.db"
check "non-database file unchanged" test "$sum_before" = "$(sha256sum "$T/notdb.db")"
check "no -wal/-shm left beside it" test ! -e "$T/notdb.db-wal" -a ! -e "$T/notdb.db-shm"
expect_rc 1 "no such database" "$R" stats --db "$T/missing.db"

# --- a read-only directory: a clear error, exit 1 ---
mkdir -p "$T/ro" && chmod 555 "$T/ro"
if [ "$(id -u)" = 0 ]; then
  # root ignores directory permissions; run as nobody, who cannot write there
  chmod 755 "$T"
  RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
else
  RUNAS=()
fi
expect_rc 1 "cannot open database|unable to open|readonly|read-only" "${RUNAS[@]}" "$R" generate --db "$T/ro/x.db" --count 5
check "nothing created in the read-only directory" test -z "$(ls -A "$T/ro")"

# --- determinism and idempotence ---
ARGS=(--count 3000 --samples 4 --seed 7 --operands 2:5 --digits 1:3 --quiet)
"$R" generate --db "$T/d1.db" "${ARGS[@]}" >"$T/o1" 2>/dev/null
"$R" generate --db "$T/d2.db" "${ARGS[@]}" >/dev/null 2>&1
check "first run wrote 12000 traces" grep -q "traces_new=12000" "$T/o1"
check "same seed and flags give identical rows" test "$(content "$T/d1.db")" = "$(content "$T/d2.db")"
"$R" generate --db "$T/d1.db" "${ARGS[@]}" >"$T/o2" 2>/dev/null
check "re-run adds nothing" grep -q "problems_new=0 problems_existing=3000 problems_eval=0 traces_new=0 traces_existing=12000" "$T/o2"
check "re-run leaves content identical" test "$(content "$T/d1.db")" = "$(content "$T/d2.db")"
"$R" generate --db "$T/d3.db" --count 3000 --samples 4 --seed 8 --operands 2:5 --digits 1:3 --quiet >/dev/null 2>&1
check "another seed gives other rows" test "$(content "$T/d1.db")" != "$(content "$T/d3.db")"
"$R" generate --db "$T/d1.db" --count 3000 --samples 6 --seed 7 --operands 2:5 --digits 1:3 --quiet >"$T/o3" 2>/dev/null
check "raising --samples adds exactly the missing samples" grep -q "traces_new=6000 traces_existing=12000" "$T/o3"
n4=$(sqlite3 "$T/d1.db" "SELECT count(*) FROM traces WHERE sample_index < 4")
check "the first 4 samples are unchanged" test "$n4" = 12000

# --- kill -9 at a random moment, then resume: same rows as an uninterrupted run ---
BIG=(--count 40000 --samples 4 --seed 11 --operands 2:6 --digits 1:4 --batch 500 --quiet)
"$R" generate --db "$T/full.db" "${BIG[@]}" >/dev/null 2>&1
for attempt in 1 2; do
  rm -f "$T/k.db"*
  "$R" generate --db "$T/k.db" "${BIG[@]}" >/dev/null 2>&1 &
  pid=$!
  # wait until some batches are committed, then kill without warning
  for _ in $(seq 1 200); do
    n=$(sqlite3 "$T/k.db" "SELECT count(*) FROM traces" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge $((attempt * 20000)) ] && break
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  partial=$(sqlite3 "$T/k.db" "SELECT count(*) FROM traces")
  check "kill -9 #$attempt left a partial database ($partial traces)" test "$partial" -gt 0 -a "$partial" -lt 160000
  check "integrity after kill -9 #$attempt" test "$(sqlite3 "$T/k.db" 'PRAGMA integrity_check')" = ok
  orphans=$(sqlite3 "$T/k.db" "SELECT count(*) FROM (SELECT problem_id, count(*) c FROM traces GROUP BY 1 HAVING c <> 4)")
  check "batches are atomic: no problem with a partial set of samples" test "$orphans" = 0
  "$R" generate --db "$T/k.db" "${BIG[@]}" >"$T/ok" 2>/dev/null
  check "resume completes exactly the missing samples" grep -q "traces_new=$((160000 - partial)) traces_existing=$partial" "$T/ok"
  check "resumed database equals the uninterrupted one" test "$(content "$T/k.db")" = "$(content "$T/full.db")"
done

# --- stats ---
"$R" stats --db "$T/d1.db" >"$T/stats" 2>&1
check "stats prints table counts" grep -qE "traces +18000" "$T/stats"
check "stats prints faults" grep -qE "wrong_step|\(clean\)" "$T/stats"
"$R" generate --db "$T/d1.db" --family word --lang zh --count 200 --samples 2 --format tagged --quiet >/dev/null 2>&1
"$R" generate --db "$T/d1.db" --family general --count 200 --samples 2 --think-prefill --quiet >/dev/null 2>&1
"$R" stats --db "$T/d1.db" >"$T/stats" 2>&1
check "stats breaks down by family and language" grep -qE "word +train +zh" "$T/stats"
check "prefilled traces start inside the think block" test "$(sqlite3 "$T/d1.db" "SELECT count(*) FROM traces WHERE think_prefilled = 1 AND text LIKE '<think>%'")" = 0
check "runs are recorded with their arguments" test "$(sqlite3 "$T/d1.db" "SELECT count(*) FROM runs WHERE command='generate' AND status='ok' AND json_extract(args,'\$.seed') = 7")" -ge 2

exit $fail
