import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isIroError } from '../lib/errors.js';
import {
  detokenizeWithModel, forgeInspectModel, forgeModel, forgeRandomModel, learnVocab, sampleFromModel, tokenizeWithModel, type ForgeProgress,
} from '../lib/forge.js';
import { DEFAULT_MODEL_FILE, defaultModelPath, measureBasePositivity, readModelManifest, sha256File } from '../lib/forge-default.js';
import { reviewPositivity, reviewPositivityDetail, UNFINISHED_PENALTY } from '../lib/rewards.js';
import { generateReviewCorpus, REVIEW_PROMPT_OPENINGS, reviewPrompts } from '../lib/task/reviews.js';
import { makeTinyModel, tinyVocab } from './helpers/tiny-model.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'iro-forge-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function expectIroError(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isIroError(err), `expected IroError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  if (message) expect((err as Error).message).toMatch(message);
}

describe('random-init model writer', () => {
  it('writes a tiny llama model that llama.cpp loads and samples from', async () => {
    const file = await makeTinyModel(tmp, { seed: 3 });
    const s = await forgeInspectModel(file);
    expect(s.vocabType).toBe('spm');
    expect(s.nVocab).toBe(3 + 256 + tinyVocab().length);
    expect(s).toMatchObject({ nEmbd: 32, nLayer: 2, nHead: 4, nHeadKv: 2, nCtxTrain: 512, bos: 1, eos: 2, addBos: true });
    // token_embd + output (untied) + output_norm + per layer: norms, q, k, v, o, gate/up/down.
    const e = 32, kv = 16, ff = 64, v = s.nVocab;
    expect(s.nParams).toBe(2 * v * e + e + 2 * (2 * e + 2 * e * e + 2 * e * kv + 3 * e * ff));
    const [out] = await sampleFromModel(file, ['The film'], { maxTokens: 8, seed: 5 });
    expect(out!.tokens.length + (out!.ended ? 1 : 0)).toBeGreaterThan(0);
    for (const t of out!.tokens) expect(t).toBeGreaterThanOrEqual(0), expect(t).toBeLessThan(v);
  });

  it('is deterministic in its seed', async () => {
    const a = await makeTinyModel(tmp, { seed: 9, fileName: 'a.gguf' });
    const b = await makeTinyModel(tmp, { seed: 9, fileName: 'b.gguf' });
    const c = await makeTinyModel(tmp, { seed: 10, fileName: 'c.gguf' });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(readFileSync(a).equals(readFileSync(c))).toBe(false);
  });

  it('tokenizes with the pieces and round-trips text through llama.cpp', async () => {
    const file = await makeTinyModel(tmp, { seed: 4 });
    const texts = ['the film was good', 'The movie is bad, but the music was great!', '  odd  spacing\nand ünïcode ✓ 123'];
    const toks = await tokenizeWithModel(file, texts);
    // whole words in the vocabulary become single tokens
    expect(toks[0]!.length).toBe(4);
    expect(await detokenizeWithModel(file, toks)).toEqual(texts);
  });

  it('rejects impossible dims, bad vocabularies and unwritable paths before writing', async () => {
    const out = path.join(tmp, 'bad.gguf');
    await expectIroError(forgeRandomModel(out, { nEmbd: 30, nHead: 4 }), 'INVALID_ARGUMENT', /must divide nEmbd/);
    await expectIroError(forgeRandomModel(out, { nEmbd: 32, nHead: 4, nHeadKv: 3 }), 'INVALID_ARGUMENT', /nHeadKv/);
    await expectIroError(forgeRandomModel(out, { nEmbd: 24, nHead: 8 }), 'INVALID_ARGUMENT', /even/);
    await expectIroError(forgeRandomModel(out, { nLayer: 0 }), 'INVALID_ARGUMENT', /nLayer/);
    await expectIroError(forgeRandomModel(out, { vocab: ['a', 'a'] }), 'INVALID_ARGUMENT', /twice/);
    await expectIroError(forgeRandomModel(out, { vocab: ['<s>'] }), 'INVALID_ARGUMENT');
    await expectIroError(forgeRandomModel(path.join(tmp, 'missing', 'x.gguf')), 'IO_ERROR', /does not exist/);
    const dir = path.join(tmp, 'adir');
    mkdirSync(dir);
    await expectIroError(forgeRandomModel(dir), 'INVALID_ARGUMENT', /directory/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).some((f) => f.includes('.partial-'))).toBe(false);
  });

  it('reports a missing or invalid model file', async () => {
    await expectIroError(forgeInspectModel(path.join(tmp, 'nope.gguf')), 'MODEL_NOT_FOUND');
    const { writeFileSync } = await import('node:fs');
    const junk = path.join(tmp, 'junk.gguf');
    writeFileSync(junk, 'not a gguf');
    await expectIroError(forgeInspectModel(junk), 'INVALID_GGUF');
  });
});

describe('piece learner', () => {
  it('learns a vocabulary whose llama.cpp tokenization round-trips the corpus exactly', async () => {
    const docs = generateReviewCorpus({ count: 60, seed: 3 }).map((r) => r.text);
    docs.push('Odd  spacing,\ttabs and ünïcode ✓ — 42!', ' leading space', 'trailing space ');
    const learned = await learnVocab(docs, { vocabSize: 300 });
    expect(learned.pieces.length).toBeLessThanOrEqual(300);
    expect(learned.nMerges).toBeGreaterThan(100);
    // SentencePiece conventions: spaces are U+2581 and start pieces; merges come first, by score.
    expect(learned.pieces.some((p) => p.startsWith('\u2581') && p.length > 3)).toBe(true);
    expect(learned.pieces.every((p) => !p.includes(' '))).toBe(true);
    for (let i = 1; i < learned.scores.length; i++) expect(learned.scores[i]!).toBeLessThan(learned.scores[i - 1]!);
    const file = path.join(tmp, 'learned.gguf');
    await forgeRandomModel(file, { vocab: learned.pieces, scores: learned.scores, nEmbd: 16, nLayer: 1, nHead: 2, nFf: 32 });
    const toks = await tokenizeWithModel(file, docs);
    expect(await detokenizeWithModel(file, toks)).toEqual(docs);
    // Learned pieces compress: far fewer tokens than characters.
    const nTok = toks.reduce((a, t) => a + t.length, 0);
    const nChar = docs.reduce((a, d) => a + d.length, 0);
    expect(nTok).toBeLessThan(nChar / 2);
    // With BOS, llama.cpp adds the space prefix and detokenization keeps it after the BOS.
    const [withBos] = await tokenizeWithModel(file, [docs[0]!], { addSpecial: true });
    expect(withBos![0]).toBe(1);
    expect(withBos!.slice(1)).toEqual(toks[0]);
  });

  it('is deterministic', async () => {
    const docs = generateReviewCorpus({ count: 20, seed: 5 }).map((r) => r.text);
    expect(await learnVocab(docs, { vocabSize: 120 })).toEqual(await learnVocab(docs, { vocabSize: 120 }));
  });

  it('rejects an empty corpus and invalid text', async () => {
    await expectIroError(learnVocab([]), 'INVALID_ARGUMENT', /empty/);
    await expectIroError(learnVocab(['', '']), 'INVALID_ARGUMENT', /empty/);
    await expectIroError(learnVocab([new Uint8Array([0x66, 0xff, 0x66])]), 'INVALID_ARGUMENT', /UTF-8/);
    await expectIroError(learnVocab(['ok', 'bad \ud800 surrogate']), 'INVALID_ARGUMENT', /document 1/);
    await expectIroError(learnVocab(['uses \u2581 itself']), 'INVALID_ARGUMENT', /U\+2581/);
  });
});

describe('training', () => {
  const docs = generateReviewCorpus({ count: 40, seed: 11 }).map((r) => r.text);
  const small = { vocabSize: 200, nEmbd: 32, nLayer: 1, nHead: 2, nFf: 64, context: 256, threads: 1 } as const;

  it('a 2-step training run lowers the loss and saves a loadable model', async () => {
    // Repeated documents: the held-out text is like the training text, so the loss must fall.
    const repeated = Array.from({ length: 30 }, () => docs.slice(0, 3)).flat();
    const out = path.join(tmp, 'trained.gguf');
    const progress: ForgeProgress[] = [];
    const report = await forgeModel(out, repeated, { ...small, maxSteps: 2, learningRate: 1e-2, heldOut: 0.1, windowsPerChunk: 1, onProgress: (p) => progress.push(p) });
    expect(report.context).toBe(256);
    expect(report.steps).toBe(2);
    expect(report.epochs).toHaveLength(1);
    expect(report.initialHeldOutLoss).toBeGreaterThan(Math.log(report.nVocab) - 1);
    expect(report.epochs[0]!.heldOutLoss).toBeLessThan(report.initialHeldOutLoss - 0.1);
    expect(progress.filter((p) => p.phase === 'train').map((p) => p.step)).toEqual([1, 2]);
    expect(progress.at(-1)).toMatchObject({ phase: 'eval', epoch: 1 });
    const s = await forgeInspectModel(out);
    expect(s.nVocab).toBe(report.nVocab);
    expect(s.nParams).toBe(report.nParams);
    expect(s.nCtxTrain).toBe(256);
    const [sample] = await sampleFromModel(out, ['Review: The film'], { maxTokens: 4, seed: 1 });
    expect(sample!.tokens.length + (sample!.ended ? 1 : 0)).toBeGreaterThan(0);
  });

  it('pads the context like llama.cpp and trains on windows of that length', async () => {
    const out = path.join(tmp, 'padded.gguf');
    const report = await forgeModel(out, docs, { ...small, context: 100, maxSteps: 1, heldOut: 0 });
    expect(report.context).toBe(256);
    expect(report.trainWindows).toBe(Math.floor((report.trainTokens - 1) / 256));
    expect(Number.isNaN(report.initialHeldOutLoss)).toBe(true);
  });

  it('rejects bad input before any work and never leaves a partial model', async () => {
    const out = path.join(tmp, 'never.gguf');
    await expectIroError(forgeModel(out, [], small), 'INVALID_ARGUMENT', /empty/);
    await expectIroError(forgeModel(out, [new Uint8Array([0xc3])], small), 'INVALID_ARGUMENT', /UTF-8/);
    await expectIroError(forgeModel(out, docs, { ...small, nEmbd: 30, nHead: 4 }), 'INVALID_ARGUMENT', /divide/);
    await expectIroError(forgeModel(out, docs, { ...small, nHeadKv: 3 }), 'INVALID_ARGUMENT', /nHeadKv/);
    await expectIroError(forgeModel(out, docs, { ...small, epochs: 0 }), 'INVALID_ARGUMENT', /epochs/);
    await expectIroError(forgeModel(out, docs, { ...small, heldOut: 1 }), 'INVALID_ARGUMENT', /heldOut/);
    await expectIroError(forgeModel(path.join(tmp, 'no', 'dir.gguf'), docs, small), 'IO_ERROR');
    // too little text for one window of the padded context: fails during the forge, cleanly
    await expectIroError(forgeModel(out, ['a short review.'], { ...small, heldOut: 0 }), 'INVALID_ARGUMENT', /window/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).some((f) => f.includes('.partial-') || f.includes('.init'))).toBe(false);
  });

  it('stops when aborted and leaves nothing at the output path', async () => {
    const out = path.join(tmp, 'aborted.gguf');
    const controller = new AbortController();
    const p = forgeModel(out, docs, { ...small, epochs: 50, windowsPerChunk: 1, signal: controller.signal, onProgress: () => controller.abort() });
    await expectIroError(p, 'ABORTED');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).some((f) => f.startsWith('aborted.gguf'))).toBe(false);
  });
});

describe('review task', () => {
  it('generates a deterministic, mixed-sentiment corpus with a few hundred words', () => {
    const a = generateReviewCorpus({ count: 400, seed: 1 });
    expect(generateReviewCorpus({ count: 400, seed: 1 })).toEqual(a);
    expect(generateReviewCorpus({ count: 400, seed: 2 })).not.toEqual(a);
    const pos = a.filter((r) => r.polarity > 0).length / a.length;
    expect(pos).toBeGreaterThan(0.4);
    expect(pos).toBeLessThan(0.6);
    const words = new Set(a.flatMap((r) => r.text.toLowerCase().match(/[a-z']+/g) ?? []));
    expect(words.size).toBeGreaterThan(250);
    for (const r of a.slice(0, 20)) {
      expect(r.text.startsWith('Review: ')).toBe(true);
      expect(r.text.endsWith('.')).toBe(true);
    }
    // coherence: the lexicon score agrees with the latent polarity far more often than chance
    const agree = a.filter((r) => Math.sign(reviewPositivity('', r.text)) === r.polarity).length / a.length;
    expect(agree).toBeGreaterThan(0.8);
    expect(reviewPrompts(12, 3).every((p) => (REVIEW_PROMPT_OPENINGS as readonly string[]).includes(p))).toBe(true);
  });

  it('scores positivity in [-1, 1] with negation and an unfinished penalty', () => {
    expect(reviewPositivity('Review: The film', ' is brilliant and moving.')).toBeCloseTo(2 / 3);
    expect(reviewPositivity('Review: The film', ' is dull and tedious.')).toBeCloseTo(-2 / 3);
    expect(reviewPositivity('', ' is never boring.')).toBeCloseTo(0.5);
    expect(reviewPositivity('', ' and I cannot recommend it.')).toBeCloseTo(-0.5);
    expect(reviewPositivity('', ' is about a farmer.')).toBe(0);
    expect(reviewPositivity('', ' is brilliant and moving and')).toBeCloseTo(2 / 3 - UNFINISHED_PENALTY);
    expect(reviewPositivity('', ' dull dull dull dull dull')).toBe(-1);
    expect(reviewPositivityDetail('', ' is superb!').ended).toBe(true);
  });
});

describe('the committed default model', () => {
  const manifest = readModelManifest();
  const entry = manifest.models.find((m) => m.file === DEFAULT_MODEL_FILE)!;

  it('matches its manifest (sha256, size, vocabulary, dims)', async () => {
    expect(entry).toBeDefined();
    const file = defaultModelPath();
    expect(sha256File(file)).toBe(entry.sha256);
    expect(statSync(file).size).toBe(entry.bytes);
    expect(entry.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    const s = await forgeInspectModel(file);
    expect(s.nVocab).toBe(entry.vocabSize);
    expect(s.nParams).toBe(entry.nParams);
    expect({ nEmbd: s.nEmbd, nLayer: s.nLayer, nHead: s.nHead, nHeadKv: s.nHeadKv, nCtxTrain: s.nCtxTrain }).toEqual({
      nEmbd: entry.dims.nEmbd, nLayer: entry.dims.nLayer, nHead: entry.dims.nHead, nHeadKv: entry.dims.nHeadKv, nCtxTrain: entry.dims.nCtxTrain,
    });
    expect(entry.training.heldOutLoss).toBeLessThan(entry.training.initialHeldOutLoss);
  });

  it('writes reviews whose base positivity is centred near zero with a clear spread', async () => {
    // A small sample here; the manifest records 256 samples (npm run forge:default).
    const stats = await measureBasePositivity(defaultModelPath(), { samples: 48, seed: 11 });
    expect(Math.abs(stats.mean)).toBeLessThan(0.3);
    expect(stats.sd).toBeGreaterThan(0.2);
    expect(stats.positive).toBeGreaterThan(0.15);
    expect(stats.negative).toBeGreaterThan(0.15);
    expect(stats.ended).toBeGreaterThan(0.8);
    // recognisably reviews: several sentences each (the manifest's model averages about 6), about
    // the film, with cue words
    const sentences = stats.texts.map((t) => (t.text.match(/[.!?](\s|$)/g) ?? []).length);
    expect(sentences.reduce((a, b) => a + b, 0) / sentences.length).toBeGreaterThan(3);
    const text = stats.texts.map((t) => t.text).join(' ');
    expect(text).toMatch(/\b(plot|acting|music|story|cast|film)\b/);
    expect(text).toMatch(/\b(Overall|In the end|My verdict)\b/);
  });
});
