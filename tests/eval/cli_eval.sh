#!/usr/bin/env bash
# End to end on the tiny preset: synthetic traces -> mix (SQL) -> tokenizer ->
# distill a few steps -> generate --teacher model:DIR (traces with provenance,
# resumed sample by sample) -> eval (rows stored, table printed) -> chat.
. "$(dirname "$0")/../lib.sh" cli-eval
D="$W/t.db"
q() { sqlite3 "$D" "$1"; }

"$R" init --db "$D" 2>/dev/null
"$R" generate --db "$D" --family arith --count 300 --samples 1 --operands 2:2 --digits 1:1 --eval-share 0.1 --quiet >/dev/null 2>&1
q "INSERT INTO mixes(name) VALUES ('all');
   INSERT INTO mix_items(mix_id, position, trace_id, split)
   SELECT 1, row_number() OVER (ORDER BY t.id) - 1, t.id, CASE WHEN t.id % 20 = 0 THEN 'val' ELSE 'train' END
   FROM traces t JOIN problems p ON p.id = t.problem_id WHERE p.split = 'train';"
"$R" tokenizer train --db "$D" --mix all --vocab 400 --template r1 --out "$W/tok" >/dev/null 2>&1
"$R" distill --db "$D" --mix all --tokenizer "$W/tok" --template r1 --init tiny --out "$W/m" --seq-len 128 --batch 4 \
    --steps 4 --lr 1e-3 --threads 1 --quiet --save-dtype f32 2>"$W/err"
check "distill tiny" "[ -f $W/m/model.safetensors ] && [ -f $W/m/tokenizer.json ]"

# the model teacher on stored problems, 3 samples each
G=(--db "$D" --teacher "model:$W/m" --split train --limit 6 --samples 3 --max-new-tokens 24 --threads 1 --quiet)
out=$("$R" generate "${G[@]}" 2>"$W/err")
check "model teacher exits 0" "[ $? -eq 0 ]"
check "18 new traces" "echo '$out' | grep -q 'traces_new=18'"
check "teacher row: name, template, prefill, params" \
  "[ \"\$(q \"SELECT count(*) FROM teachers WHERE name = 'model:$W/m' AND template = 'r1' AND think_prefill = 1 AND json_extract(params,'\$.temperature') = 0.6 AND json_extract(params,'\$.top_p') = 0.95 AND length(json_extract(params,'\$.model_hash')) = 32\")\" = 1 ]"
check "traces: prefilled, finish reason, tokens, latency" \
  "[ \"\$(q \"SELECT count(*) FROM traces t JOIN teachers tc ON tc.id = t.teacher_id WHERE tc.name LIKE 'model:%' AND t.think_prefilled = 1 AND t.finish_reason IN ('stop','length') AND t.n_tokens BETWEEN 0 AND 24 AND t.latency_ms > 0\")\" = 18 ]"
before=$(q "SELECT group_concat(text, '|') FROM (SELECT text FROM traces WHERE teacher_id = 2 ORDER BY problem_id, sample_index)")
# resume: delete two samples, run again: only those come back, identical
q "DELETE FROM traces WHERE teacher_id = 2 AND sample_index = 1 AND problem_id IN (SELECT DISTINCT problem_id FROM traces WHERE teacher_id = 2 ORDER BY problem_id LIMIT 2)"
check "two samples deleted" "[ \"\$(q 'SELECT count(*) FROM traces WHERE teacher_id = 2')\" = 16 ]"
out=$("$R" generate "${G[@]}" 2>/dev/null)
check "resume adds exactly the missing samples" "echo '$out' | grep -q 'traces_new=2 traces_existing=16'"
after=$(q "SELECT group_concat(text, '|') FROM (SELECT text FROM traces WHERE teacher_id = 2 ORDER BY problem_id, sample_index)")
check "resumed samples equal the uninterrupted ones" "[ \"\$before\" = \"\$after\" ]"
out=$("$R" generate "${G[@]}" 2>/dev/null)
check "a third run adds nothing" "echo '$out' | grep -q 'traces_new=0 traces_existing=18'"
# --count makes problems as the synthetic path does
out=$("$R" generate --db "$D" --teacher "model:$W/m" --count 4 --seed 77 --operands 3:3 --digits 2:2 --samples 2 --max-new-tokens 8 --threads 1 --quiet 2>/dev/null)
check "--count: new problems sampled" "echo '$out' | grep -q 'problems_new=4.*traces_new=8'"
"$R" generate --db "$D" --teacher "model:" >/dev/null 2>&1
check "model: without a directory is a usage error" "[ $? -eq 2 ]"
"$R" generate --db "$D" --teacher "model:$W/nope" --split train --limit 1 --quiet >/dev/null 2>"$W/err"
check "missing model dir is a runtime error naming it" "[ $? -eq 1 ] && grep -q nope $W/err"

# eval: greedy + 4 samples on the eval split
out=$("$R" eval --db "$D" --model "$W/m" --limit 8 --samples 4 --k 2 --max-new-tokens 24 --threads 1 --quiet 2>"$W/err")
check "eval exits 0" "[ $? -eq 0 ]"
check "eval table printed" "echo \"\$out\" | grep -q 'pass@1' && echo \"\$out\" | grep -q '^all '"
check "eval_items: 8 problems x (1 greedy + 4 samples)" "[ \"\$(q 'SELECT count(*) FROM eval_items WHERE eval_run_id = 1')\" = 40 ]"
check "eval_problems: 8 rows with pass@k and maj@k" "[ \"\$(q 'SELECT count(*) FROM eval_problems WHERE eval_run_id = 1 AND n = 4 AND pass_at_k IS NOT NULL AND maj_correct IS NOT NULL')\" = 8 ]"
check "eval_runs metrics recorded" "[ \"\$(q \"SELECT json_extract(metrics,'\$.pass1') IS NOT NULL AND k = 2 FROM eval_runs WHERE id = 1\")\" = 1 ]"
check "correct implies the ground truth answer" "[ \"\$(q \"SELECT count(*) FROM eval_items ei JOIN problems p ON p.id = ei.problem_id WHERE ei.correct = 1 AND ei.answer_norm <> p.answer\")\" = 0 ]"
check "eval --show prints the stored table" "\"$R\" eval --db $D --show 1 | grep -q '^all '"
"$R" eval --db "$D" --model "$W/m" --samples 2 --k 3 >/dev/null 2>&1
check "--k > --samples is a usage error" "[ $? -eq 2 ]"

# chat streams a reply
out=$("$R" chat --model "$W/m" --max-new-tokens 5 --threads 1 "Calculate 2 + 3." 2>"$W/err")
check "chat prints the prefill and a reply" "echo \"\$out\" | head -1 | grep -q '<think>' && grep -q 'finish' $W/err"
exit $fail
