import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isIroError } from '../lib/errors.js';
import { detokenizeWithModel, forgeInspectModel, forgeRandomModel, sampleFromModel, tokenizeWithModel } from '../lib/forge.js';
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
