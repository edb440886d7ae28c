#!/usr/bin/env bash
# The filter's quality bar on the real synthetic teacher: generate traces with
# the default fault rates for every family (arith, word, general), language
# (en, zh), format (r1, tagged) and think prefill (off, on), judge them with
# the default filter, and print the report with the confusion matrix.
#
# usage: bench/filter/quality.sh [PROBLEMS_PER_COMBINATION=1100] [DB=/tmp/retort-filter-quality.db] [SAMPLES=4]
# 24 combinations x 1100 problems x 4 samples = 105,600 traces (>= 100k).
# RETORT (default build/retort) is the binary to run.
set -euo pipefail
n=${1:-1100}
db=${2:-/tmp/retort-filter-quality.db}
samples=${3:-4}
retort=${RETORT:-build/retort}
rm -f "$db" "$db-wal" "$db-shm"
seed=1
for family in arith word general; do
  for lang in en zh; do
    for format in r1 tagged; do
      for prefill in "" --think-prefill; do
        "$retort" generate --db "$db" --family "$family" --lang "$lang" --format "$format" $prefill \
          --count "$n" --samples "$samples" --seed "$seed" --quiet >/dev/null
        seed=$((seed + 1))
      done
    done
  done
done
id=$("$retort" filter --db "$db")
"$retort" filter --db "$db" --report "$id"
