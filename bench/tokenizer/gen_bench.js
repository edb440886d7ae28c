// Writes a benchmark corpus of at least MB megabytes (default 50) to stdout:
// one text per line, drawn from varied material (English prose, Chinese,
// code, LaTeX, numbers, <think> traces, emoji, whitespace runs) with seeded
// random substitutions so the word cache sees realistic, not identical, text.
'use strict';
const target = (parseFloat(process.argv[2] || '50')) * 1e6;
let seed = 42;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const en = 'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no what up out them more some into could time two may then do first any like now my than its only other new very over just most'.split(' ');
const zh = '我们 今天 数学 问题 答案 计算 因为 所以 一共 多少 苹果 每个 盒子 需要 首先 然后 最后 结果 是 的 了 在 有 和 这个 一个 可以'.split(' ');
const templates = [
  () => { let s = ''; const n = 8 + rnd(40); for (let i = 0; i < n; i++) s += (i ? ' ' : '') + en[rnd(en.length)] + (rnd(12) === 0 ? ',' : ''); return s[0].toUpperCase() + s.slice(1) + '.'; },
  () => { let s = ''; const n = 6 + rnd(30); for (let i = 0; i < n; i++) s += zh[rnd(zh.length)] + (rnd(8) === 0 ? '，' : ''); return s + '。'; },
  () => `<think> Let me compute ${rnd(1000)} * ${rnd(1000)}. First ${rnd(100)} + ${rnd(100)} = ${rnd(200)}, then check the remainder mod ${1 + rnd(50)}. </think> The answer is \\boxed{${rnd(100000)}}.`,
  () => `\\frac{${rnd(99)}}{${1 + rnd(99)}} + \\sqrt{x^${rnd(9)} + y_{${rnd(9)}}} = \\int_0^{${rnd(10)}} e^{-t} \\, dt \\approx ${(rnd(100000) / 1000).toFixed(3)}`,
  () => `def f${rnd(100)}(x, y=${rnd(10)}):\t    return [i ** ${rnd(5)} for i in range(x)] if x > y else {"k": ${rnd(1000)}}  # note`,
  () => `Order #${rnd(1e9)} shipped on 2024-${1 + rnd(12)}-${1 + rnd(28)} for $${rnd(10000)}.${rnd(100)} 🚚📦 ${'👍🏽'.repeat(1 + rnd(3))}`,
  () => ' '.repeat(1 + rnd(12)) + en[rnd(en.length)] + '\t'.repeat(1 + rnd(3)) + String(rnd(1e12)) + ' '.repeat(rnd(6)),
  () => `Mixed 中文 and English: ${en[rnd(en.length)]}是${zh[rnd(zh.length)]} — ${rnd(1e6)}％ Привет мир ${en[rnd(en.length)]}!`,
];
const chunks = [];
let size = 0;
while (size < target) {
  const line = templates[rnd(templates.length)]() + (rnd(3) === 0 ? ' ' + templates[rnd(templates.length)]() : '');
  const b = Buffer.from(line + '\n', 'utf8');
  chunks.push(b);
  size += b.length;
}
process.stdout.write(Buffer.concat(chunks));
