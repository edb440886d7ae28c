// Writes the tokenizer equality corpus to stdout: one JSON string per line.
// Fixed cases cover the hard spots of byte-level BPE pre-tokenization; the
// rest are seeded random mixes of the same material, so the corpus is the
// same on every run. Lines marked RAW carry invalid UTF-8 bytes inside the
// JSON string: both sides replace them with U+FFFD before encoding (the JS
// side through TextDecoder, retort through utf8_sanitize).
'use strict';
const out = [];
const add = (s) => out.push(Buffer.from(JSON.stringify(s) + '\n', 'utf8'));
const raw = (bytes) => out.push(Buffer.concat([Buffer.from('"'), Buffer.from(bytes), Buffer.from('"\n')]));

const fixed = [
  'Hello, world! This is a test of the tokenizer.',
  "I'm sure they'LL say it's fine; DON'T you think? We've, you'd, she's, 'S 'T 're",
  "long s: 'ſ and Kelvin 'K",
  '你好，世界！今天天气很好。我们来做一道数学题：3+5等于多少？',
  '日本語のテキストとカタカナ、ひらがな。한국어 텍스트입니다. Русский текст. العربية النص. हिन्दी पाठ। ภาษาไทย',
  'GPT-4o是一个model，它在2024年发布。Mixed русский and English и 中文.',
  '12345678901234567890123456789012345678901234567890',
  '3.14159265358979 1,000,000 0.5e-10 -42 +7 1/3 2^10=1024',
  '\\frac{1}{2} + \\sqrt{x^2+y^2} = \\boxed{42}',
  '$$\\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}$$ and \\(a_{n+1} = a_n \\cdot r\\)',
  '<think>\nLet me compute 17 * 23.\n17 * 20 = 340, 17 * 3 = 51, total 391.\n</think>\n\nThe answer is \\boxed{391}.',
  '<think>\nreasoning\n</think>\n<answer>\n391\n</answer>',
  '<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
  '<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜><think>\n4</think>4<｜end▁of▁sentence｜>',
  '<|endoftext|><|endoftext|>x<|im_end|><|im_end',
  'Emoji: 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇯🇵 ❤️ ✨🎉 🧪🧬',
  'tab\tseparated\tvalues\t\t\tend',
  'windows\r\nline\r\nendings\r\n\r\n',
  'old mac\rline\r',
  'many     spaces      between   words',
  '   leading spaces',
  'trailing spaces   ',
  '\n\n\nnewlines\n\n',
  ' \t \n  \r\n \t',
  '',
  ' ',
  'a',
  'e\u0301 cafe\u0301 A\u030A \u1100\u1161\u11A8 \u212B \u2126',
  'nbsp\u00a0here, nel\u0085there, bom\ufeffhere, ls\u2028ps\u2029, ideo\u3000space, thin\u2009space',
  'zero\u200bwidth and soft\u00adhyphen and \u0000 nul and \u001b esc',
  'def f(x):\n\treturn x**2  # square\n\nprint(f(3))\n',
  '{"key": [1, 2, 3], "nested": {"a": null}}',
  'https://example.com/path?query=1&other=two#frag',
  '='.repeat(200),
  'a'.repeat(300),
  ' '.repeat(500) + 'x',
  '\n'.repeat(100),
  'ab'.repeat(150),
  '1'.repeat(100),
  '中'.repeat(120),
  '😀'.repeat(80),
];
fixed.forEach(add);

// Invalid UTF-8 (RAW): bad lead byte, truncated sequences, a surrogate,
// overlongs, beyond U+10FFFF, stray continuation bytes.
raw([0xff]);
raw([0x61, 0x62, 0x63, 0xc3, 0x28, 0x64, 0x65, 0x66]);
raw([0xe2, 0x82]);
raw([0x78, 0xe2, 0x82, 0x79]);
raw([0xed, 0xa0, 0x80, 0x41]);
raw([0xf0, 0x9f, 0x98]);
raw([0xc0, 0xaf, 0xe0, 0x80, 0xaf]);
raw([0xf4, 0x90, 0x80, 0x80, 0x42]);
raw([0x80, 0x80, 0xbf, 0x20, 0x43]);
raw([0xe4, 0xbd, 0xa0, 0xe5, 0xa5, 0x20, 0xf0, 0x9f, 0x98, 0x80]);

// Seeded random mixes.
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const pieces = [
  'the', ' quick', ' brown', ' fox', "'s", "'ll", ' ', '  ', '\t', '\n', '\r\n', '数学', '答案', '是',
  '，', '。', '123', '4567', '0', '.', ',', '!', '?', '\\boxed{', '}', '$', '^', '_', '(', ')', '<think>',
  '</think>', '<answer>', '</answer>', '<|im_end|>', '😀', '👍🏽', 'é', 'e\u0301', 'Ω', 'ñ', 'straße',
  'Привет', 'مرحبا', 'नमस्ते', '\u00a0', '\u3000', '---', '...', '**', '#', '@', 'x', 'Y', 'z2',
  'CamelCase', 'snake_case', 'ALLCAPS', '  \n', ' \n\n ', '\u200d', '\ufeff',
];
for (let i = 0; i < 400; i++) {
  let s = '';
  const n = 1 + rnd(30);
  for (let j = 0; j < n; j++) s += pieces[rnd(pieces.length)];
  add(s);
}
process.stdout.write(Buffer.concat(out));
