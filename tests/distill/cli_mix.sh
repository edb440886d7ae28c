#!/usr/bin/env bash
# The pipeline into the student: generate -> a mix -> tokenizer train ->
# retort distill --mix; the loss falls and the checkpoint carries the tokenizer.
. "$(dirname "$0")/../lib.sh" cli-mix
D=$W/d.db
"$R" init --db "$D" 2>/dev/null
"$R" generate --db "$D" --family arith --count 300 --samples 1 --operands 2:3 --digits 1:2 --seed 1 --quiet 2>/dev/null
# a mix straight from SQL (every tenth trace for validation); the mix stage builds these from quotas
sqlite3 "$D" "INSERT INTO mixes(name) VALUES('m');
  INSERT INTO mix_items(mix_id, position, trace_id, split)
    SELECT 1, row_number() OVER (ORDER BY id) - 1, id, CASE WHEN id % 10 = 0 THEN 'val' ELSE 'train' END FROM traces;"
"$R" tokenizer train --db "$D" --mix m --vocab 400 --out "$W/tok" 2>/dev/null
check "tokenizer trained" "[ -f $W/tok/tokenizer.json ]"
"$R" distill --db "$D" --mix m --tokenizer "$W/tok" --init tiny --out "$W/stu" --seq-len 256 --batch 4 --steps 60 \
    --lr 3e-3 --eval-every 20 --threads 1 --quiet 2>"$W/err"
check "distill --mix exits 0" "[ $? -eq 0 ]" || cat "$W/err"
check "checkpoint carries the tokenizer" "[ -f $W/stu/tokenizer.json ] && [ -f $W/stu/tokenizer_config.json ]"
check "vocab comes from the tokenizer" "grep -q '\"vocab_size\":[[:space:]]*400' $W/stu/config.json"
check "loss falls by more than 1.5 nats" "[ \"\$(sqlite3 $D 'SELECT (SELECT loss FROM train_log WHERE step=60) < (SELECT loss FROM train_log WHERE step=1) - 1.5')\" = 1 ]"
check "val loss falls" "[ \"\$(sqlite3 $D 'SELECT (SELECT val_loss FROM train_log WHERE step=60) < (SELECT val_loss FROM train_log WHERE step=20)')\" = 1 ]"
check "train_runs names the mix" "[ \"\$(sqlite3 $D \"SELECT count(*) FROM train_runs WHERE mix='m' AND status='ok' AND n_val > 0\")\" = 1 ]"
exit $fail
