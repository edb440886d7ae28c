#!/bin/sh
# The mix, export and import commands end to end: exit statuses, messages,
# a CLI round trip (export -> import into a fresh database -> export: same bytes).
set -u
MAKE_FIXTURE=$1
R=${RETORT:?}
T=$(mktemp -d /tmp/retort-mix-cli.XXXXXX)
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect() {   # expect STATUS PATTERN CMD...: exit status and a pattern in stderr
    want=$1; pat=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; got=$?
    [ "$got" = "$want" ] || fail "$* -> exit $got, want $want: $(cat "$T/err")"
    [ -z "$pat" ] || grep -q -- "$pat" "$T/err" || fail "$* -> stderr lacks '$pat': $(cat "$T/err")"
}

"$MAKE_FIXTURE" "$T/f.db" 600 || { echo "fixture failed"; exit 1; }
D="--db $T/f.db"

expect 2 "--name is required" $R mix $D --filter 1
expect 2 "--filter is required" $R mix $D --name m
expect 2 "--pass-rate" $R mix $D --name m --filter 1 --pass-rate 0.9:0.1
expect 1 "no such filter" $R mix $D --name m --filter 7
expect 0 "mix 'm'" $R mix $D --name m --filter 1 --total 200 --seed 3 --val-share 0.1
grep -q '"decontamination"' "$T/out" || fail "mix printed no report"
expect 1 "pass --replace" $R mix $D --name m --filter 1 --total 200
expect 0 "" $R mix $D --name m --filter 1 --total 200 --seed 3 --val-share 0.1 --replace
expect 1 "need 90000, available" $R mix $D --name big --filter 1 --total 120000
expect 1 "refused" $R mix $D --name q --filter 1 --query "DELETE FROM traces"
expect 1 "refused" $R mix $D --name q --filter 1 --query "SELECT 1; DROP TABLE traces"
expect 1 "refused" $R mix $D --name q --filter 1 --where "1); ATTACH '$T/x.db' AS x; --"
[ -e "$T/x.db" ] && fail "ATTACH through --where created a file"
expect 0 "" $R mix $D --name q --filter 1 --total 0 --where "lang = 'zh'"

expect 2 "--format" $R export $D --mix m --format csv --out "$T/a.jsonl"
expect 1 "no mix named" $R export $D --mix nope --out "$T/a.jsonl"
expect 0 "exported 180 lines" $R export $D --mix m --out "$T/a.jsonl"
[ "$(wc -l <"$T/a.jsonl")" = 180 ] || fail "export wrote $(wc -l <"$T/a.jsonl") lines"
expect 0 "exported 20 lines" $R export $D --mix m --split val --format sharegpt --system "Be brief." --out "$T/v.jsonl"
expect 2 "system" $R export $D --mix m --format prompt-completion --system x --out "$T/p.jsonl"

# round trip through the CLI, for two formats
for fmt in messages reasoning; do
    expect 0 "" $R export $D --mix m --format $fmt --out "$T/rt-a.jsonl"
    rm -f "$T/rt.db"*
    expect 0 "new traces" $R import --db "$T/rt.db" --format $fmt --source ext --answer-from-boxed --mix rt "$T/rt-a.jsonl"
    expect 0 "" $R export --db "$T/rt.db" --mix rt --format $fmt --out "$T/rt-b.jsonl"
    cmp -s "$T/rt-a.jsonl" "$T/rt-b.jsonl" || fail "round trip of $fmt differs"
    expect 0 "0 new problems" $R import --db "$T/rt.db" --format $fmt --source ext --answer-from-boxed --mix rt "$T/rt-a.jsonl"
done

# bad lines: reported with their numbers; all or nothing unless --skip-bad
printf '%s\n' '{"messages":[{"role":"user","content":"a b"},{"role":"assistant","content":"x \\boxed{1}"}]}' \
    '{"messages":' '{"prompt":"p"}' >"$T/bad.jsonl"
rm -f "$T/b.db"*
expect 1 "bad.jsonl:2: not valid JSON" $R import --db "$T/b.db" --source s --answer-from-boxed "$T/bad.jsonl"
grep -q "bad.jsonl:3: no array 'messages'" "$T/err" || fail "line 3 not reported: $(cat "$T/err")"
expect 0 "skipped 2 bad lines" $R import --db "$T/b.db" --source s --answer-from-boxed --skip-bad "$T/bad.jsonl"
expect 2 "missing argument" $R import --db "$T/b.db" --source s
expect 1 "No such file" $R import --db "$T/b.db" --source s "$T/none.jsonl"

$R help mix | grep -q -- "--decontaminate-against" || fail "help lacks --decontaminate-against"
rm -rf "$T"
[ $fails = 0 ] && echo "mix cli: ok" || echo "mix cli: $fails failed"
[ $fails = 0 ]
