#!/usr/bin/env bash
# End to end: a token file -> retort distill (tiny preset) -> a checkpoint that
# `retort model` loads; train_log rows in the DB; --resume continues the curve;
# usage errors exit 2 naming the flag.
. "$(dirname "$0")/../lib.sh" cli-distill

# token file in the format of src/core/tokset.h: BOS a b c SEP c b a EOS, loss on the answer
python3 - "$W/data.tok" <<'EOF'
import random, struct, sys
random.seed(1)
V, BOS, SEP, EOS = 64, 1, 2, 3
samples = []
for i in range(600):
    x = [random.randrange(4, V) for _ in range(random.randrange(2, 7))]
    ids = [BOS] + x + [SEP] + x[::-1] + [EOS]
    mask = [0] * (len(x) + 2) + [1] * (len(x) + 1)
    samples.append((ids, mask, 1 if i % 10 == 9 else 0))
ns = len(samples); nt = sum(len(s[0]) for s in samples)
with open(sys.argv[1], "wb") as f:
    f.write(b"RETORTTK" + struct.pack("<IIQQIIII", 1, 64, ns, nt, V, BOS, EOS, 0xFFFFFFFF) + bytes(16))
    off = 0; offs = [0]
    for s in samples:
        off += len(s[0]); offs.append(off)
    f.write(struct.pack(f"<{ns+1}Q", *offs))
    f.write(struct.pack(f"<{ns}q", *range(1, ns + 1)))
    sp = bytes(s[2] for s in samples); f.write(sp + bytes((-ns) % 8))
    for s in samples: f.write(struct.pack(f"<{len(s[0])}I", *s[0]))
    for s in samples: f.write(bytes(s[1]))
EOF

# OpenBLAS kernels: a CPU that OpenBLAS does not recognise (a VM hiding its model)
# gets the best family its flags support, not the generic SSE3 ones; a user's
# OPENBLAS_CORETYPE wins.
kern=$(env -u OPENBLAS_CORETYPE "$R" --version | sed -n 's/^openblas kernels: //p')
check "--version names the OpenBLAS kernels ($kern)" "[ -n '$kern' ]"
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  check "AVX2 CPU does not run the generic kernels ($kern)" "! echo '$kern' | grep -qiE '^(prescott|core2|katmai|northwood|banias|atom)$'"
fi
check "OPENBLAS_CORETYPE set by the user is kept" "[ \"\$(OPENBLAS_CORETYPE=Prescott "$R" --version | sed -n 's/^openblas kernels: //p')\" = Prescott ]"

common=(--db "$W/t.db" --data "$W/data.tok" --init tiny --seq-len 64 --batch 4 --accum 2 --lr 5e-3 --warmup 5 --threads 1 --quiet)
"$R" distill "${common[@]}" --out "$W/a" --steps 40 --eval-every 10 --save-every 20 --save-dtype f32 2>"$W/err"
check "distill exits 0" "[ $? -eq 0 ]"
check "checkpoint files written" "[ -f $W/a/config.json ] && [ -f $W/a/model.safetensors ] && [ -f $W/a/generation_config.json ]"
check "intermediate checkpoint with optimizer state" "[ -f $W/a/checkpoint-20/optimizer.bin ] && [ -f $W/a/checkpoint-20/trainer_state.json ]"
check "40 train_log rows" "[ \"\$(sqlite3 $W/t.db 'SELECT count(*) FROM train_log')\" = 40 ]"
check "4 validation losses" "[ \"\$(sqlite3 $W/t.db 'SELECT count(*) FROM train_log WHERE val_loss IS NOT NULL')\" = 4 ]"
check "loss falls" "[ \"\$(sqlite3 $W/t.db 'SELECT (SELECT loss FROM train_log WHERE step=40) < (SELECT loss FROM train_log WHERE step=1) - 0.5')\" = 1 ]"
check "train_runs row ok" "[ \"\$(sqlite3 $W/t.db \"SELECT status FROM train_runs\")\" = ok ]"
check "runs row ok" "[ \"\$(sqlite3 $W/t.db \"SELECT status FROM runs WHERE command='distill'\")\" = ok ]"
"$R" model logits --model "$W/a" --ids 1,5,9 >"$W/logits.json"
check "model logits loads the student" "python3 -c \"import json; a=json.load(open('$W/logits.json')); assert len(a)==3 and len(a[0])==64\""

# resume: same schedule, interrupted after checkpoint-20 (simulated by copying it), equals the straight run
mkdir -p "$W/b" && cp -r "$W/a/checkpoint-20" "$W/b/"
"$R" distill "${common[@]}" --out "$W/b" --steps 40 --eval-every 10 --save-every 20 --save-dtype f32 --resume 2>"$W/err2"
check "resume exits 0" "[ $? -eq 0 ]"
check "resumed curve equals the straight one" "[ \"\$(sqlite3 $W/t.db 'SELECT count(*) FROM train_log x JOIN train_log y ON x.step=y.step WHERE x.train_run_id=1 AND y.train_run_id=2 AND x.loss=y.loss AND x.grad_norm=y.grad_norm')\" = 20 ]"
check "resumed weights identical" "cmp -s $W/a/model.safetensors $W/b/model.safetensors"

# usage errors
"$R" distill --data "$W/data.tok" --init tiny 2>"$W/e1"; rc=$?
check "missing --out exits 2" "[ $rc -eq 2 ] && grep -q -- --out $W/e1"
"$R" distill --data "$W/data.tok" --init nosuch --out "$W/c" 2>"$W/e2"; rc=$?
check "unknown preset exits 2" "[ $rc -eq 2 ] && grep -q -- --init $W/e2"
"$R" distill --data "$W/missing.tok" --init tiny --out "$W/c" --db "$W/t.db" 2>"$W/e3"; rc=$?
check "missing token file exits 1 naming it" "[ $rc -eq 1 ] && grep -q missing.tok $W/e3"
"$R" model bench --preset llama-3.1-8b --tokens 4096 --optimizer >/dev/null 2>"$W/e4"; rc=$?
check "a model that does not fit is refused" "[ $rc -eq 1 ] && grep -q 'refusing' $W/e4"
"$R" distill --db "$W/t.db" --data "$W/data.tok" --init llama-3.1-8b --out "$W/big" 2>"$W/e5"; rc=$?
check "training an 8B shape is refused before allocating" "[ $rc -eq 1 ] && grep -q 'does not fit' $W/e5 && [ ! -d $W/big ]"
# samples longer than --seq-len (here 4..15 tokens against 11): left out by default, cut with --long truncate
"$R" distill --db "$W/t.db" --data "$W/data.tok" --init tiny --seq-len 11 --batch 4 --steps 2 --threads 1 --out "$W/l1" 2>"$W/l1.err"
rc=$?
n_long=$(python3 -c "
import struct,sys
d=open('$W/data.tok','rb').read(); ns=struct.unpack_from('<Q',d,16)[0]
o=struct.unpack_from(f'<{ns+1}Q',d,64); print(sum(1 for i in range(ns) if o[i+1]-o[i]>11))")
check "long samples are left out by default ($n_long of them)" "[ $rc -eq 0 ] && grep -q \"^retort: $n_long samples are longer than --seq-len 11 and were left out\" $W/l1.err"
"$R" distill --db "$W/t.db" --data "$W/data.tok" --init tiny --seq-len 11 --batch 4 --steps 2 --threads 1 --out "$W/l2" --long truncate 2>"$W/l2.err"
rc=$?
check "--long truncate cuts them" "[ $rc -eq 0 ] && grep -q \"$n_long samples are longer than --seq-len 11 and were truncated\" $W/l2.err"
"$R" distill --db "$W/t.db" --data "$W/data.tok" --init tiny --seq-len 8 --batch 4 --steps 2 --threads 1 --out "$W/l3" --long keep 2>"$W/l3.err"
check "--long with a bad value exits 2 naming it" "[ $? -eq 2 ] && grep -q -- --long $W/l3.err"

exit $fail
