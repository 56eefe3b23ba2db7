import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IroTrainer, reweight, type IroBackend, type Rollout, type TrainedValue } from '../lib/trainer.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'iro-trainer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// A deterministic stand-in for the engine and the value trainer, so that these tests exercise the
// loop's orchestration (slices, reweighting, run folder, resume) in milliseconds. The real engine
// runs through the same loop in the end-to-end test.
interface FakeValue { bias: number }
function hash(...xs: number[]): number {
  let h = 2166136261;
  for (const x of xs) h = Math.imul(h ^ x, 16777619) >>> 0;
  return h;
}
function fakeBackend(opts: { crashAt?: { iteration: number; stage: 'rollouts' | 'value' } } = {}) {
  const calls: string[] = [];
  const backend: IroBackend<FakeValue> = {
    async rollouts({ prompts, firstPromptIndex, values, perPrompt, seed }) {
      calls.push(`rollouts:${seed}:${values.length}`);
      if (opts.crashAt?.stage === 'rollouts' && values.length + 1 === opts.crashAt.iteration) throw new Error('simulated crash');
      const bias = values.reduce((a, v) => a + v.value.bias / v.beta, 0);
      const out: Rollout[] = [];
      prompts.forEach((prompt, p) => {
        for (let c = 0; c < perPrompt; c++) {
          const n = 1 + (hash(seed, p, c) % 5);
          const tokens = Array.from({ length: n }, (_, j) => hash(seed, p, c, j) % 7);
          const response = tokens.map((x) => (x + Math.round(bias)) % 7).join(' ');
          out.push({ promptIndex: firstPromptIndex + p, prompt, candidate: c, response, promptTokens: [p], responseTokens: tokens, finished: true });
        }
      });
      return out;
    },
    async trainValue({ examples, iteration, seed }) {
      calls.push(`train:${iteration}`);
      if (opts.crashAt?.stage === 'value' && iteration === opts.crashAt.iteration) throw new Error('simulated crash');
      const sw = examples.reduce((a, e) => a + e.weight, 0);
      const bias = examples.reduce((a, e) => a + e.weight * e.reward, 0) / sw;
      const v: FakeValue & TrainedValue = {
        bias,
        report: { examples: examples.length, seed },
        async save(file) { await fs.writeFile(file, JSON.stringify({ bias, iteration, seed })); },
      };
      return v;
    },
    async loadValue(file) {
      return { bias: JSON.parse(readFileSync(file, 'utf8')).bias };
    },
  };
  return { backend, calls };
}

const prompts = Array.from({ length: 12 }, (_, i) => `Review ${i}:`);
const reward = (_p: string, r: string) => r.split(' ').reduce((a, x) => a + Number(x), 0) / 10;

async function runFresh(dir: string, extra: Partial<ConstructorParameters<typeof IroTrainer<FakeValue>>[0]> = {}) {
  const { backend, calls } = fakeBackend();
  const m = await new IroTrainer({ backend, prompts, reward, runDir: dir, iterations: 3, promptsPerIteration: 4, seed: 7, ...extra }).run();
  return { m, calls };
}

describe('reweight', () => {
  it('keeps only the best at τ = 0 and spreads by exp(r/τ) otherwise', () => {
    expect(reweight([0.1, 0.5, undefined, 0.5], 0)).toEqual([0, 1, 0, 0]);
    const w = reweight([0, Math.log(3), undefined], 1);
    expect(w[2]).toBe(0);
    expect(w[0]! + w[1]!).toBeCloseTo(2);
    expect(w[1]! / w[0]!).toBeCloseTo(3);
    expect(reweight([undefined, undefined], 1)).toEqual([0, 0]);
  });
});

describe('IroTrainer', () => {
  it('writes a complete run folder with distinct prompt slices per iteration', async () => {
    const dir = path.join(tmp, 'full');
    const { m, calls } = await runFresh(dir);
    expect(m.iterations.map((r) => r.status)).toEqual(['done', 'done', 'done']);
    expect(m.iterations.map((r) => r.prompts)).toEqual([[0, 4], [4, 8], [8, 12]]);
    expect(calls.filter((c) => c.startsWith('rollouts')).map((c) => c.split(':')[2])).toEqual(['0', '1', '2']);
    for (const t of [1, 2, 3]) {
      for (const f of ['rollouts.jsonl', 'value.gguf', 'metrics.json']) expect(existsSync(path.join(dir, `iter-${t}`, f))).toBe(true);
      const rows = readFileSync(path.join(dir, `iter-${t}`, 'rollouts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(rows).toHaveLength(16);
      // τ = 0: exactly one kept candidate per prompt, the best one.
      for (let p = 0; p < 4; p++) {
        const group = rows.filter((r) => r.promptIndex === (t - 1) * 4 + p);
        const kept = group.filter((r) => r.weight > 0);
        expect(kept).toHaveLength(1);
        expect(kept[0].reward).toBe(Math.max(...group.map((r) => r.reward)));
      }
      const metrics = JSON.parse(readFileSync(path.join(dir, `iter-${t}`, 'metrics.json'), 'utf8'));
      expect(metrics).toMatchObject({ iteration: t, rollouts: 16, rewardFailures: 0, keptSamples: 4 });
    }
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.format).toBe('iro-native.run/1');
  });

  for (const crashAt of [{ iteration: 2, stage: 'rollouts' as const }, { iteration: 2, stage: 'value' as const }, { iteration: 3, stage: 'value' as const }]) {
    it(`resumes after a crash in iteration ${crashAt.iteration} (${crashAt.stage}) with identical value files`, async () => {
      const ref = path.join(tmp, `ref-${crashAt.iteration}-${crashAt.stage}`);
      await runFresh(ref);
      const dir = path.join(tmp, `crash-${crashAt.iteration}-${crashAt.stage}`);
      const crashing = fakeBackend({ crashAt });
      await expect(new IroTrainer({ backend: crashing.backend, prompts, reward, runDir: dir, iterations: 3, promptsPerIteration: 4, seed: 7 }).run()).rejects.toThrow('simulated crash');
      const before = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
      expect(before.iterations[crashAt.iteration - 1].status).not.toBe('done');
      const { calls } = await runFresh(dir);
      // Finished iterations are not redone.
      expect(calls.filter((c) => c.startsWith('train:')).map((c) => Number(c.split(':')[1]))).toEqual([1, 2, 3].filter((t) => t >= crashAt.iteration));
      for (const t of [1, 2, 3]) {
        expect(readFileSync(path.join(dir, `iter-${t}`, 'value.gguf'), 'utf8')).toBe(readFileSync(path.join(ref, `iter-${t}`, 'value.gguf'), 'utf8'));
        expect(readFileSync(path.join(dir, `iter-${t}`, 'rollouts.jsonl'), 'utf8')).toBe(readFileSync(path.join(ref, `iter-${t}`, 'rollouts.jsonl'), 'utf8'));
      }
    });
  }

  it('records failed rewards and goes on; too many failures stop with REWARD_FAILED and keep finished work', async () => {
    const dir = path.join(tmp, 'flaky');
    let calls = 0;
    const flaky = (p: string, r: string) => {
      calls++;
      if (calls % 5 === 0) throw new Error('reward service hiccup');
      return reward(p, r);
    };
    const { m } = await runFresh(dir, { reward: flaky, iterations: 1, promptsPerIteration: 4 });
    expect(m.iterations[0]!.metrics!.rewardFailures).toBeGreaterThan(0);
    const rows = readFileSync(path.join(dir, 'iter-1', 'rollouts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.filter((r) => r.failed).every((r) => r.failed === 'reward threw Error: reward service hiccup' && r.weight === 0)).toBe(true);

    const dir2 = path.join(tmp, 'broken');
    let n = 0;
    const breaksLater = (p: string, r: string) => (++n > 16 ? Number.NaN : reward(p, r));
    await expect(runFresh(dir2, { reward: breaksLater })).rejects.toMatchObject({ code: 'REWARD_FAILED' });
    const manifest = JSON.parse(readFileSync(path.join(dir2, 'manifest.json'), 'utf8'));
    expect(manifest.iterations.map((r: { status: string }) => r.status)).toEqual(['done', 'pending', 'pending']);
    expect(existsSync(path.join(dir2, 'iter-1', 'value.gguf'))).toBe(true);
  });

  it('refuses to resume a folder made with other settings, and checks its options', async () => {
    const dir = path.join(tmp, 'full');
    const { backend } = fakeBackend();
    await expect(new IroTrainer({ backend, prompts, reward, runDir: dir, iterations: 3, promptsPerIteration: 4, seed: 8 }).run()).rejects.toThrow(/different configuration/);
    expect(() => new IroTrainer({ backend, prompts, reward, runDir: dir, iterations: 3, promptsPerIteration: 5 })).toThrow(/need 15 distinct prompts; got 12/);
    expect(() => new IroTrainer({ backend, prompts, reward, runDir: dir, betas: [1, 0, 1] })).toThrow(/betas must hold 3 positive numbers/);
  });
});
