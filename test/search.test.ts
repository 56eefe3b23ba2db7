import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine, type EngineNative } from '../lib/engine.js';
import { IroError } from '../lib/errors.js';
import { native } from '../lib/native.js';
import { rankCandidates, resolveSearchOptions, runSearch, scoreCandidatesByReward, SEARCH_DEFAULTS, type SearchCandidate } from '../lib/search.js';
import { makeTinyModel } from './helpers/tiny-model.js';

// lib/search.ts: options, rerank, and the native search driven through the engine's handle
// (Engine.decode's search mode is wired by the lead; the raw handle is used here).
let dir: string;
let modelPath: string;
let handle: unknown;
let engine: Engine;
const raw = () => native() as unknown as EngineNative;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'iro-search-'));
  modelPath = await makeTinyModel(dir, { initStd: 0.5, seed: 7 });
  handle = await raw().engineLoad(modelPath, { threads: 1, contextSize: 1024, maxSequences: 16 }).promise;
  engine = await Engine.load({ model: modelPath, contextSize: 1024, maxSequences: 16, threads: 1 });
});

afterAll(async () => {
  if (handle) await raw().engineDispose(handle as never);
  await engine?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IroError);
    return (e as IroError).code;
  }
  return 'none';
}

async function asyncCodeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IroError);
    return (e as IroError).code;
  }
  return 'none';
}

const cand = (index: number, value: number, reward?: number): SearchCandidate => ({
  index, parent: -1, text: `c${index}`, tokens: [], value, values: [value], finished: true, finishReason: 'stop', ...(reward === undefined ? {} : { reward }),
});

describe('search options', () => {
  it('applies the defaults', () => {
    const o = resolveSearchOptions({ prompt: 'the film' });
    expect([o.w, o.k, o.l, o.strategy, o.rerank]).toEqual([SEARCH_DEFAULTS.w, SEARCH_DEFAULTS.k, SEARCH_DEFAULTS.l, 'diverse', 'value']);
    expect(resolveSearchOptions({ prompt: 'x', reward: () => 1 }).rerank).toBe('reward');
    expect(resolveSearchOptions({ prompt: 'x', values: [{ vf: 'v.gguf' }] }).values[0]!.beta).toBe(1);
  });

  it('rejects bad options with INVALID_ARGUMENT', () => {
    for (const bad of [{ l: 0 }, { w: 1.5 }, { k: -1 }, { strategy: 'best' }, { rerank: 'reward' }, { topP: 0 }, { selectionTemperature: 0 }, { values: [{ vf: 'v', beta: 0 }] }]) {
      expect(codeOf(() => resolveSearchOptions({ prompt: 'x', ...(bad as object) }))).toBe('INVALID_ARGUMENT');
    }
    expect(codeOf(() => resolveSearchOptions({}))).toBe('INVALID_ARGUMENT');
  });

  it('ranks by reward with failures last, by value, or in search order', () => {
    const cs = [cand(0, 0.1, 2), cand(1, 0.9), cand(2, 0.5, 3)];
    expect(rankCandidates(cs, 'reward').map((c) => c.index)).toEqual([2, 0, 1]);
    expect(rankCandidates(cs, 'value').map((c) => c.index)).toEqual([1, 2, 0]);
    expect(rankCandidates(cs, 'none', [2, 1, 0]).map((c) => c.index)).toEqual([2, 1, 0]);
  });

  it('a throwing reward fails that candidate only', async () => {
    const cs = [cand(0, 0), cand(1, 0)];
    await scoreCandidatesByReward('p', cs, (_p, r) => {
      if (r === 'c1') throw new Error('boom');
      return 5;
    });
    expect(cs[0]!.reward).toBe(5);
    expect(cs[1]!.reward).toBeUndefined();
    expect(cs[1]!.rewardError).toMatch(/boom/);
  });
});

describe('native search', () => {
  it('w = k = 1 is plain sampling', async () => {
    const [r] = await runSearch(handle, { prompt: 'the film', w: 1, k: 1, l: 4, maxTokens: 12, temperature: 1, topK: 0, seed: 3 });
    const plain = await engine.decode({ prompt: 'the film', n: 1, maxTokens: 12, temperature: 1, topK: 0, seed: 3 });
    expect(r!.tokens).toEqual(plain.candidates[0]!.tokens);
    expect(r!.stats.forks).toBe(0);
  });

  it('Best-of-N reranked by a reward that sometimes throws', async () => {
    const chunks: number[] = [];
    const [r] = await runSearch(handle, {
      prompt: 'the film', w: 2, k: 4, l: 10, maxTokens: 10, temperature: 1, topK: 0, seed: 9,
      reward: (_p, resp) => {
        if (resp.length % 3 === 0) throw new Error('no');
        return resp.length;
      },
      onChunk: (c) => chunks.push(c.chunk),
    });
    expect(r!.candidates.length).toBe(8);
    const ok = r!.candidates.filter((c) => c.reward !== undefined);
    const failed = r!.candidates.filter((c) => c.rewardError !== undefined);
    expect(ok.length + failed.length).toBe(8);
    expect(r!.candidates.slice(0, ok.length)).toEqual(ok);
    for (let i = 1; i < ok.length; i++) expect(ok[i - 1]!.reward!).toBeGreaterThanOrEqual(ok[i]!.reward!);
    expect(r!.text).toBe(r!.candidates[0]!.text);
    expect(chunks.length).toBeGreaterThan(0);
  });

  it('several prompts share the steps and each is reproducible', async () => {
    const opts = { prompts: ['the film', 'a bad movie'], w: 2, k: 2, l: 3, maxTokens: 9, temperature: 1, topK: 0, seed: 5, strategy: 'topw' as const };
    const a = await runSearch(handle, opts);
    const b = await runSearch(handle, { ...opts, prompts: [opts.prompts[1]!] });
    expect(a.length).toBe(2);
    expect(a[1]!.candidates.length).toBeGreaterThan(0);
    // Prompt index is part of the RNG key: alone at index 0 it differs from index 1 in the pair.
    const again = await runSearch(handle, opts);
    expect(again.map((r) => r.candidates.map((c) => c.tokens))).toEqual(a.map((r) => r.candidates.map((c) => c.tokens)));
    expect(b[0]!.stats.tokensSampled).toBeGreaterThan(0);
  });

  it('maps capacity and context errors to codes', async () => {
    expect(await asyncCodeOf(runSearch(handle, { prompt: 'x', w: 8, k: 8 }))).toBe('TOO_MANY_SEQUENCES');
    expect(await asyncCodeOf(runSearch(handle, { prompt: 'x', maxTokens: 5000 }))).toBe('CONTEXT_OVERFLOW');
    expect(await asyncCodeOf(runSearch(handle, { prompt: 'x', values: [{ vf: path.join(dir, 'missing.gguf') }] }))).not.toBe('none');
  });

  it('an abort signal stops the search', async () => {
    const ac = new AbortController();
    const p = runSearch(handle, { prompt: 'the', w: 2, k: 2, l: 2, maxTokens: 200, temperature: 1, topK: 0, signal: ac.signal, onChunk: (c) => c.chunk === 2 && ac.abort() });
    expect(await asyncCodeOf(p)).toBe('ABORTED');
  });
});
