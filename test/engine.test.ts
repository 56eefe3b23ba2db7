import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../lib/engine.js';
import { IroError } from '../lib/errors.js';
import { makeTinyModel } from './helpers/tiny-model.js';

// A tiny random-init llama model with peaked distributions (large init std) so that greedy paths
// and sampled tokens are well separated; 1 thread keeps the suite light.
let dir: string;
let modelPath: string;
let engine: Engine;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'iro-engine-'));
  modelPath = await makeTinyModel(dir, { initStd: 0.5, seed: 7 });
  engine = await Engine.load({ model: modelPath, contextSize: 1024, maxSequences: 16, threads: 1 });
});

afterAll(async () => {
  await engine?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(IroError);
    return (e as IroError).code;
  }
  return 'no error';
}

function logSoftmax(logits: Float32Array, token: number): number {
  let mx = -Infinity;
  for (const v of logits) mx = Math.max(mx, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - mx);
  return logits[token]! - mx - Math.log(sum);
}

/** A GGUF header with one key (general.architecture) and no tensors. */
function writeGgufWithArchitecture(file: string, arch: string): void {
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(b.length));
    return Buffer.concat([len, b]);
  };
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const u64 = (v: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };
  writeFileSync(file, Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(1), str('general.architecture'), u32(8), str(arch)]));
}

describe('Engine: loading and vocabulary', () => {
  it('reports the model and a stable vocabulary fingerprint', async () => {
    expect(engine.info.architecture).toBe('llama');
    expect(engine.info.maxSequences).toBe(16);
    expect(engine.info.contextSize).toBeGreaterThanOrEqual(1024);
    expect(engine.vocab.size).toBe(engine.info.nVocab);
    expect(engine.vocab.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    const other = await makeTinyModel(dir, { initStd: 0.5, seed: 8, vocab: ['x', 'y', 'z'] });
    await using e2 = await Engine.load({ model: other, contextSize: 256, maxSequences: 2, threads: 1 });
    expect(e2.vocab.fingerprint).not.toBe(engine.vocab.fingerprint);
    expect(e2.vocab.size).not.toBe(engine.vocab.size);
  });

  it('tokenizes and detokenizes', () => {
    const toks = engine.tokenize('the movie was good');
    expect(toks[0]).toBe(engine.info.bos);
    expect(engine.detokenize(toks.slice(1)).trim()).toBe('the movie was good');
    expect(engine.tokenize('the movie', { addSpecial: false })[0]).not.toBe(engine.info.bos);
  });

  it('fails with MODEL_NOT_FOUND, INVALID_GGUF and UNSUPPORTED_MODEL', async () => {
    expect(await codeOf(Engine.load({ model: path.join(dir, 'missing.gguf') }))).toBe('MODEL_NOT_FOUND');
    const text = path.join(dir, 'notes.gguf');
    writeFileSync(text, 'this is not a model\n');
    expect(await codeOf(Engine.load({ model: text }))).toBe('INVALID_GGUF');
    const truncated = path.join(dir, 'truncated.gguf');
    writeFileSync(truncated, Buffer.from('GGUF\x03\x00'));
    expect(await codeOf(Engine.load({ model: truncated }))).toBe('INVALID_GGUF');
    const alien = path.join(dir, 'alien.gguf');
    writeGgufWithArchitecture(alien, 'no-such-architecture');
    expect(await codeOf(Engine.load({ model: alien }))).toBe('UNSUPPORTED_MODEL');
    expect(await codeOf(Engine.load({ model: modelPath, threads: 0 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(Engine.load({ model: modelPath, maxSequences: 1000 }))).toBe('INVALID_ARGUMENT');
    const ac = new AbortController();
    ac.abort();
    expect(await codeOf(Engine.load({ model: modelPath, signal: ac.signal }))).toBe('ABORTED');
  });

  it('has no chat template in a bare model and says so', () => {
    expect(engine.info.hasChatTemplate).toBe(false);
    expect(() => engine.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MODEL' }));
  });
});

describe('Engine: correctness against llama.cpp', () => {
  const prompts = ['the movie was', 'a good story and', 'plot', 'this film is not very'];

  it('greedy decoding equals llama.cpp greedy sampler (llama_sampler_init_greedy)', async () => {
    for (const p of prompts) {
      const toks = engine.tokenize(p);
      const ours = await engine.decode({ prompt: toks, temperature: 0, maxTokens: 24 });
      const ref = await engine._reference.greedy(toks, 24);
      expect(ref.length).toBeGreaterThan(0);
      expect(ours.candidates[0]!.tokens).toEqual(ref);
    }
  });

  it('forked sequences continue exactly like a re-evaluated prefix', async () => {
    const toks = engine.tokenize(prompts[0]!);
    // Greedy: every fork of the prompt gives the re-evaluation's tokens.
    const g = await engine.decode({ prompt: toks, temperature: 0, n: 4, maxTokens: 16 });
    const ref = await engine._reference.greedy(toks, 16);
    expect(g.stats.forks).toBe(3);
    expect(g.stats.promptTokens).toBe(toks.length);
    for (const c of g.candidates) expect(c.tokens).toEqual(ref);
    // Sampled forks: every reported probability equals softmax of the logits llama.cpp gives when
    // the whole prefix is evaluated afresh in one sequence.
    const s = await engine.decode({ prompt: toks, temperature: 1, topK: 0, n: 3, maxTokens: 10, seed: 11 });
    expect(new Set(s.candidates.map((c) => c.tokens.join(','))).size).toBeGreaterThan(1);
    for (const c of s.candidates) {
      for (let j = 0; j < c.tokens.length; j++) {
        const logits = await engine._reference.logits([...toks, ...c.tokens.slice(0, j)]);
        expect(c.logprobs[j]!).toBeCloseTo(logSoftmax(logits, c.tokens[j]!), 4);
      }
    }
  });

  it('same seed gives the same tokens alone or beside 7 other requests', async () => {
    const opts = { prompt: engine.tokenize(prompts[1]!), n: 2, maxTokens: 20, temperature: 0.9, seed: 1234 };
    const alone = await engine.decode(opts);
    const others = Array.from({ length: 7 }, (_, i) =>
      engine.decode({ prompt: engine.tokenize(prompts[i % prompts.length]!), n: 1 + (i % 3), maxTokens: 5 + 4 * i, seed: i, temperature: 1 }),
    );
    const [together] = await Promise.all([engine.decode(opts), ...others]);
    expect(together!.candidates.map((c) => c.tokens)).toEqual(alone.candidates.map((c) => c.tokens));
    const otherSeed = await engine.decode({ ...opts, seed: 99 });
    expect(otherSeed.candidates.map((c) => c.tokens)).not.toEqual(alone.candidates.map((c) => c.tokens));
  });

  it('decodeBatch keys the RNG by request index', async () => {
    const ps = [prompts[0]!, prompts[0]!];
    const [a, b] = await engine.decodeBatch(ps, { maxTokens: 12, seed: 5, temperature: 1 });
    expect(a!.candidates[0]!.tokens).not.toEqual(b!.candidates[0]!.tokens);
    const b2 = await engine.decode({ prompt: ps[1]!, requestIndex: 1, maxTokens: 12, seed: 5, temperature: 1 });
    expect(b2.candidates[0]!.tokens).toEqual(b!.candidates[0]!.tokens);
  });

  it('returns final-layer hidden states when asked, without changing tokens', async () => {
    const toks = engine.tokenize(prompts[2]!);
    const plain = await engine.decode({ prompt: toks, n: 2, maxTokens: 6, seed: 3 });
    const withH = await engine.decode({ prompt: toks, n: 2, maxTokens: 6, seed: 3, hiddenStates: true });
    expect(withH.candidates.map((c) => c.tokens)).toEqual(plain.candidates.map((c) => c.tokens));
    for (const c of withH.candidates) {
      expect(c.hidden).toBeInstanceOf(Float32Array);
      expect(c.hidden!.length).toBe(engine.info.nEmbd);
      expect(c.hidden!.every(Number.isFinite)).toBe(true);
      expect(c.hidden!.some((v) => v !== 0)).toBe(true);
    }
    expect(plain.candidates[0]!.hidden).toBeUndefined();
  });
});

describe('Engine: Best-of-N', () => {
  it('ranks candidates by the scorer, evaluating the prompt once', async () => {
    const toks = engine.tokenize('the story');
    const calls: string[] = [];
    const r = await engine.decode({
      prompt: toks, mode: 'best-of-n', n: 6, maxTokens: 10, seed: 2, temperature: 1,
      scorer: (_p, response) => { calls.push(response); return response.length; },
    });
    expect(calls.length).toBe(6);
    expect(r.stats.promptTokens).toBe(toks.length);
    expect(r.stats.forks).toBe(5);
    const maxLen = Math.max(...r.candidates.map((c) => c.text.length));
    expect(r.best.score).toBe(maxLen);
    expect(r.text).toBe(r.best.text);
  });

  it('records a failing scorer per candidate and fails only when all fail', async () => {
    const toks = engine.tokenize('the story');
    let i = 0;
    const r = await engine.decode({ prompt: toks, mode: 'best-of-n', n: 3, maxTokens: 4, scorer: () => (i++ === 0 ? NaN : i) });
    expect(r.candidates[0]!.scoreError).toMatch(/finite/);
    expect(r.best.index).toBe(2);
    expect(await codeOf(engine.decode({ prompt: toks, mode: 'best-of-n', n: 2, maxTokens: 4, scorer: () => { throw new Error('down'); } }))).toBe('REWARD_FAILED');
    expect(await codeOf(engine.decode({ prompt: toks, mode: 'best-of-n', n: 2 }))).toBe('INVALID_ARGUMENT');
  });
});

describe('Engine: bad input, abort, dispose', () => {
  it('rejects bad requests with their codes while other requests carry on', async () => {
    const toks = engine.tokenize('the movie was');
    const expected = await engine.decode({ prompt: toks, n: 3, maxTokens: 40, seed: 8 });
    const inFlight = engine.decode({ prompt: toks, n: 3, maxTokens: 40, seed: 8 });
    const long = Array.from({ length: 1100 }, () => toks[1]!);
    const cases: [string, () => Promise<unknown>][] = [
      ['CONTEXT_OVERFLOW', () => engine.decode({ prompt: long, maxTokens: 4 })],
      ['CONTEXT_OVERFLOW', () => engine.decode({ prompt: toks, maxTokens: 1100 })],
      ['CONTEXT_OVERFLOW', () => engine.decode({ prompt: toks, n: 16, maxTokens: 200 })],
      ['TOO_MANY_SEQUENCES', () => engine.decode({ prompt: toks, n: 17, maxTokens: 4 })],
      ['INVALID_ARGUMENT', () => engine.decode({ prompt: toks, temperature: -1 })],
      ['INVALID_ARGUMENT', () => engine.decode({ prompt: toks, temperature: NaN })],
      ['INVALID_ARGUMENT', () => engine.decode({ prompt: toks, topP: 0 })],
      ['INVALID_ARGUMENT', () => engine.decode({ prompt: toks, minP: 1 })],
      ['INVALID_ARGUMENT', () => engine.decode({ prompt: toks, topK: -1 })],
      ['INVALID_ARGUMENT', () => engine.decode({ prompt: toks, maxTokens: 0 })],
      ['INVALID_ARGUMENT', () => engine.decode({ prompt: toks, n: 0 })],
      ['INVALID_ARGUMENT', () => engine.decode({ prompt: [] })],
      ['INVALID_ARGUMENT', () => engine.decode({ prompt: [engine.info.nVocab + 5] })],
      ['INVALID_ARGUMENT', () => engine.decode({ prompt: [1.5] })],
      ['INVALID_ARGUMENT', () => engine.decode({ prompt: toks, mode: 'beam' as never })],
    ];
    for (const [code, call] of cases) expect(await codeOf(call), `${code}: ${call.toString()}`).toBe(code);
    const got = await inFlight;
    expect(got.candidates.map((c) => c.tokens)).toEqual(expected.candidates.map((c) => c.tokens));
  });

  it('aborts a request between steps, frees its sequences, and leaves others unaffected', async () => {
    const toks = engine.tokenize('a good');
    const expected = await engine.decode({ prompt: toks, n: 2, maxTokens: 30, seed: 4 });
    const ac = new AbortController();
    const victim = engine.decode({ prompt: toks, n: 2, maxTokens: 400, temperature: 1, topK: 0, seed: 1, signal: ac.signal });
    const bystander = engine.decode({ prompt: toks, n: 2, maxTokens: 30, seed: 4 });
    setTimeout(() => ac.abort(), 5);
    expect(await codeOf(victim)).toBe('ABORTED');
    expect((await bystander).candidates.map((c) => c.tokens)).toEqual(expected.candidates.map((c) => c.tokens));
    const st = engine.stats();
    expect(st.liveSequences).toBe(0);
    expect(st.kvCellsUsed).toBe(0);
    expect(st.active).toBe(0);
    const pre = new AbortController();
    pre.abort();
    expect(await codeOf(engine.decode({ prompt: toks, signal: pre.signal }))).toBe('ABORTED');
  });

  it('counts shared prompt cells once (zero-copy forks)', async () => {
    // 16 greedy candidates of a 200-token prompt that each add up to 8 tokens: without sharing
    // this needs 16 x 200 cells, more than the 1024-cell context holds.
    const toks = engine.tokenize('the movie '.repeat(40)).slice(0, 200);
    const r = await engine.decode({ prompt: toks, n: 16, maxTokens: 8, temperature: 0 });
    expect(r.candidates.length).toBe(16);
    expect(r.stats.promptTokens).toBe(toks.length);
    expect(engine.stats().kvCellsUsed).toBe(0);
  });

  it('dispose rejects in-flight work with DISPOSED and later calls with DISPOSED', async () => {
    const e = await Engine.load({ model: modelPath, contextSize: 2048, maxSequences: 4, threads: 1 });
    const toks = e.tokenize('the plot');
    const running = codeOf(e.decode({ prompt: toks, n: 4, maxTokens: 500, temperature: 1, topK: 0 }));
    await new Promise((r) => setTimeout(r, 5));
    await e.dispose();
    expect(await running).toBe('DISPOSED');
    expect(await codeOf(() => e.tokenize('x'))).toBe('DISPOSED');
    expect(await codeOf(e.decode({ prompt: toks }))).toBe('DISPOSED');
    await e.dispose(); // idempotent
    {
      await using e2 = await Engine.load({ model: modelPath, contextSize: 256, maxSequences: 1, threads: 1 });
      expect((await e2.decode({ prompt: toks, maxTokens: 3, temperature: 0 })).candidates[0]!.tokens.length).toBeGreaterThan(0);
    }
  });
});
