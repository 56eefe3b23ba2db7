/**
 * Tiny random-init llama models for tests (milliseconds to write). The default vocabulary holds
 * common English letters and words (with every prefix of each word, so llama.cpp's merge-based
 * tokenizer can reach the whole word), so tokenize/detokenize are meaningful.
 */
import path from 'node:path';
import { forgeRandomModel, type RandomModelOptions } from '../../lib/forge.js';

const WORDS = [
  'the', 'a', 'an', 'and', 'of', 'to', 'is', 'was', 'it', 'in', 'this', 'that', 'with', 'film', 'movie',
  'review', 'good', 'bad', 'great', 'story', 'plot', 'acting', 'music', 'ending', 'not', 'very', 'but',
];
const LETTERS = 'etaoinshrdlcumwfgypbvkjxqz';
const PUNCT = ['.', ',', '!', '?', ':', "'", '-'];

/** The default tiny vocabulary: letters, ' '+letter, punctuation, then words and their prefixes. */
export function tinyVocab(): string[] {
  const pieces: string[] = [' '];
  for (const c of LETTERS) pieces.push(c);
  for (const c of LETTERS.toUpperCase()) pieces.push(c);
  pieces.push(...PUNCT);
  for (const c of LETTERS) pieces.push(` ${c}`);
  for (const w of [...WORDS, ...WORDS.map((w) => w[0]!.toUpperCase() + w.slice(1))]) {
    for (const lead of [' ', '']) {
      for (let n = 2; n <= w.length; n++) pieces.push(lead + w.slice(0, n));
    }
  }
  return [...new Set(pieces)];
}

export interface TinyModelOptions extends RandomModelOptions {
  /** File name inside dir (default tiny-<seed>.gguf). */
  fileName?: string;
}

/** Writes a tiny random-init model into dir and returns its path. */
export async function makeTinyModel(dir: string, opts: Partial<TinyModelOptions> = {}): Promise<string> {
  const seed = opts.seed ?? 1;
  const file = path.join(dir, opts.fileName ?? `tiny-${seed}.gguf`);
  const { fileName: _f, ...rest } = opts;
  await forgeRandomModel(file, { nEmbd: 32, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 64, nCtxTrain: 512, ...rest, vocab: opts.vocab ?? tinyVocab(), seed });
  return file;
}
