import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../lib/engine.js';
import { ValueFunction } from '../lib/value.js';
import { makeTinyModel } from './helpers/tiny-model.js';

// engine.decode's search mode (DESIGN.md §6) with in-memory ValueFunction handles.
let dir: string;
let engine: Engine;
let vf: ValueFunction;
let target: number;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'iro-engine-search-'));
  const model = await makeTinyModel(dir, { initStd: 0.5, seed: 11 });
  engine = await Engine.load({ model, contextSize: 1024, maxSequences: 32, threads: 1 });
  // A value function that learned "responses containing token `target` score 1": trained on
  // plain samples of the model itself, labelled by that rule.
  const base = await engine.decode({ prompt: 'the', n: 32, maxTokens: 12, seed: 3, temperature: 1 });
  const counts = new Map<number, number>();
  for (const c of base.candidates) for (const t of new Set(c.tokens)) counts.set(t, (counts.get(t) ?? 0) + 1);
  target = [...counts.entries()].sort((a, b) => Math.abs(a[1] - 16) - Math.abs(b[1] - 16))[0]![0];
  const prompt = engine.tokenize('the', { addSpecial: true });
  const rows = base.candidates.map((c) => ({ prompt, response: c.tokens, reward: c.tokens.includes(target) ? 1 : 0 }));
  vf = await ValueFunction.train(engine, rows, { seed: 1, nBuckets: 1 << 12, embeddingWidth: 8, hiddenWidth: 8, maxEpochs: 30, validationFraction: 0 });
});

afterAll(async () => {
  vf?.dispose();
  await engine?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('engine.decode search mode', () => {
  it('runs value-guided search with a ValueFunction and returns ranked candidates with stats', async () => {
    const r = await engine.decode({ prompt: 'the', values: [{ vf, beta: 1 }], w: 2, k: 4, l: 4, maxTokens: 12, seed: 5 });
    expect(r.candidates.length).toBeGreaterThan(0);
    expect(r.candidates.length).toBeLessThanOrEqual(8); // the final w·k candidates
    expect(r.text).toBe(r.candidates[0]!.text);
    expect(r.score).toBe(r.candidates[0]!.value);
    for (let i = 1; i < r.candidates.length; i++) expect(r.candidates[i - 1]!.value).toBeGreaterThanOrEqual(r.candidates[i]!.value);
    expect(r.stats.valueEvaluations).toBeGreaterThan(0);
    expect(r.stats.tokensSampled).toBeGreaterThan(0);
    // Same seed, same result; several prompts return one result each.
    const again = await engine.decode({ prompt: 'the', values: [{ vf, beta: 1 }], w: 2, k: 4, l: 4, maxTokens: 12, seed: 5 });
    expect(again.candidates.map((c) => c.tokens)).toEqual(r.candidates.map((c) => c.tokens));
    const many = await engine.decode({ prompts: ['the', 'a'], values: [{ vf, beta: 1 }], w: 2, k: 2, l: 4, maxTokens: 8, seed: 5 });
    expect(many).toHaveLength(2);
  });

  it('steers towards what the value function rewards', async () => {
    let guided = 0;
    let plain = 0;
    for (let seed = 0; seed < 6; seed++) {
      const g = await engine.decode({ prompt: 'the', values: [{ vf, beta: 0.1 }], w: 2, k: 4, l: 3, maxTokens: 12, seed, temperature: 1 });
      const p = await engine.decode({ prompt: 'the', n: 1, maxTokens: 12, seed, temperature: 1 });
      guided += g.tokens.includes(target) ? 1 : 0;
      plain += p.best.tokens.includes(target) ? 1 : 0;
    }
    expect(guided).toBeGreaterThan(plain);
  });

  it('rejects a disposed value function and plain options still decode plainly', async () => {
    const tmp = await ValueFunction.train(engine, [{ prompt: [1], response: [2, 3], reward: 1 }, { prompt: [1], response: [4], reward: 0 }], { nBuckets: 256, embeddingWidth: 4, hiddenWidth: 4, maxEpochs: 1, validationFraction: 0 });
    tmp.dispose();
    await expect(engine.decode({ prompt: 'the', values: [{ vf: tmp, beta: 1 }], maxTokens: 4 })).rejects.toMatchObject({ code: 'DISPOSED' });
    const plain = await engine.decode({ prompt: 'the', n: 2, maxTokens: 4, seed: 1 });
    expect(plain.candidates).toHaveLength(2);
    expect('best' in plain).toBe(true);
  });
});
