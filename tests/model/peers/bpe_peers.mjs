// The peers for tests/model/bpe_test.cc, from the npm registry (installed outside the repository):
// llama3-tokenizer-js (Llama 3's vocabulary and merges) and js-tiktoken (OpenAI's cl100k_base).
// Usage: node bpe_peers.mjs NODE_MODULES OUT TEXTS — TEXTS holds NUL-terminated texts. Writes into OUT:
//   llama3.tokenizer.json  the Llama 3 vocabulary, merges and special tokens as a HuggingFace file
//   llama3.tiktoken        the same ranks as a tiktoken file (base64 bytes, rank)
//   llama3.ids             per text, the peer's token ids (no BOS/EOS), one line each
//   cl100k.tiktoken, cl100k.ids   the same for cl100k_base
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, out, textsFile] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(path.join(modules, p)).href);
const texts = fs.readFileSync(textsFile, 'utf8').split('\0').slice(0, -1);

// GPT-2's byte-to-unicode spelling, to turn the peer's token strings into bytes.
const byteOf = new Map();
{
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    byteOf.set(String.fromCodePoint(printable ? b : next++), b);
  }
}
const spellingToBytes = (s) => Buffer.from(Array.from(s, (c) => byteOf.get(c)));

const llama3 = (await load('llama3-tokenizer-js/bundle/llama3-tokenizer-with-baked-data.js')).default;
const vocab = {};
const added = [];
const ranks = [];
llama3.vocabById.forEach((text, id) => {
  if (id < 128000) {
    vocab[text] = id;
    ranks.push(spellingToBytes(text).toString('base64') + ' ' + id);
  } else {
    added.push({ id, content: text, special: true });
  }
});
const merges = [...llama3.merges.entries()].sort((a, b) => a[1] - b[1]).map(([pair]) => pair);
const regex = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
fs.writeFileSync(path.join(out, 'llama3.tokenizer.json'), JSON.stringify({
  version: '1.0',
  added_tokens: added,
  pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
  model: { type: 'BPE', ignore_merges: true, byte_fallback: false, vocab, merges },
}));
fs.writeFileSync(path.join(out, 'llama3.tiktoken'), ranks.join('\n') + '\n');
fs.writeFileSync(path.join(out, 'llama3.ids'),
  texts.map((t) => llama3.encode(t, { bos: false, eos: false }).join(' ')).join('\n') + '\n');

const { Tiktoken } = await load('js-tiktoken/dist/lite.js');
const cl100k = new Tiktoken((await load('js-tiktoken/dist/ranks/cl100k_base.js')).default);
const clRanks = [];
for (const [rank, bytes] of cl100k.textMap) clRanks.push(Buffer.from(bytes).toString('base64') + ' ' + rank);
fs.writeFileSync(path.join(out, 'cl100k.tiktoken'), clRanks.join('\n') + '\n');
fs.writeFileSync(path.join(out, 'cl100k.ids'), texts.map((t) => cl100k.encode(t, [], []).join(' ')).join('\n') + '\n');
