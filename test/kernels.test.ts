import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  diverseTopW, expandBeams, groupBest, hugePageFloat32Array, resample, scoreValues, softmaxWeights, topW,
  type ResampleMethod, type SamplingOptions, type ValueNetParams,
} from '../lib/kernels.js';
import { getNative } from '../lib/native.js';
import {
  DEFAULT_SAMPLING, diverseTopWRef, groupBestRef, planBeamsRef, resampleRef, sampleTokenRef, scoreValuesRef, softmaxWeightsRef,
  tokenLogprobRef, topWRef,
} from './helpers/kernel-reference.js';
import { repoRoot } from './helpers/paths.js';
import { rng } from '../bench/prng.js';

const normal = (r: () => number) => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
const randArray = (r: () => number, n: number, scale = 0.5) => Float32Array.from({ length: n }, () => normal(r) * scale);

function randomNet(r: () => number, nBuckets: number, d: number, hidden: number, dDense = 0): ValueNetParams {
  return {
    nBuckets, d, hidden, dDense, E: randArray(r, nBuckets * d), P: dDense ? randArray(r, dDense * d) : undefined,
    b0: randArray(r, d), W1: randArray(r, hidden * d), b1: randArray(r, hidden), w2: randArray(r, hidden), b2: Math.fround(normal(r)),
  };
}

function randomFeatures(r: () => number, B: number, maxIds: number, weights: boolean, dDense = 0) {
  const offsets = [0];
  const ids: number[] = [];
  for (let s = 0; s < B; ++s) {
    const c = Math.floor(r() * (maxIds + 1));
    for (let j = 0; j < c; ++j) ids.push(Math.floor(r() * 2 ** 32));
    offsets.push(ids.length);
  }
  return {
    offsets: Int32Array.from(offsets), ids: Uint32Array.from(ids),
    weights: weights ? randArray(r, ids.length, 1) : undefined,
    dense: dDense ? randArray(r, B * dDense, 1) : undefined, dDense,
  };
}

function segmentsOf(r: () => number, sizes: number[], { ties = false, negInf = false } = {}) {
  const offsets = [0];
  for (const n of sizes) offsets.push(offsets.at(-1)! + n);
  const scores = new Float32Array(offsets.at(-1)!);
  for (let s = 0; s < sizes.length; ++s) {
    for (let j = offsets[s]!; j < offsets[s + 1]!; ++j) {
      scores[j] = ties ? Math.floor(r() * 4) * 0.5 : normal(r) * 2;
      if (negInf && j > offsets[s]! && r() < 0.2) scores[j] = -Infinity;
    }
  }
  return { scores, offsets: Int32Array.from(offsets) };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-6) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; ++i) {
    const a = actual[i]!, e = expected[i]!;
    if (a === e) continue;
    if (Math.abs(a - e) > rel * Math.max(1, Math.abs(e))) expect.fail(`index ${i}: got ${a}, expected ${e}`);
  }
}

const invalid = expect.objectContaining({ name: 'IroError', code: 'INVALID_ARGUMENT' });
const METHODS: ResampleMethod[] = ['systematic', 'stratified', 'multinomial'];

describe('value scoring', () => {
  it('matches the reference over many shapes (weights, dense rows, several nets)', () => {
    const r = rng(1);
    for (const [B, M, d, hidden, nb, weights, dDense] of [
      [1, 1, 1, 1, 1, false, 0], [1, 3, 8, 5, 13, true, 0], [7, 2, 16, 24, 1000, true, 3], [33, 1, 64, 64, 4096, false, 0],
      [20, 3, 5, 9, 77, false, 4], [0, 2, 4, 4, 10, false, 0], [600, 2, 16, 12, 5000, true, 3], // several chunks of 256 states
    ] as const) {
      const nets = Array.from({ length: M }, (_, m) => randomNet(r, nb, d, hidden, m === 0 ? dDense : 0));
      const f = randomFeatures(r, B, 40, weights, dDense);
      const betas = Float32Array.from({ length: M }, () => Math.fround(0.25 + r() * 2));
      const got = scoreValues(f, nets, betas);
      const ref = scoreValuesRef(f, nets, betas);
      expectClose(got.values, ref.values);
      expectClose(got.combined, ref.combined);
    }
  });

  it('gives identical results for 1 and 2 threads', () => {
    const r = rng(2);
    const nets = [randomNet(r, 500, 16, 16), randomNet(r, 300, 16, 8)];
    const f = randomFeatures(r, 700, 30, true);
    const a = scoreValues(f, nets, [1, 0.5], { threads: 1 });
    const b = scoreValues(f, nets, [1, 0.5], { threads: 2 });
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
    expect(Array.from(b.combined)).toEqual(Array.from(a.combined));
  });

  it('hugePageFloat32Array: zero-filled table memory that scores exactly like a plain array', () => {
    const r = rng(21);
    const n = 1 << 20; // 4 MiB: takes the 2 MiB-aligned path
    const big = hugePageFloat32Array(n);
    expect(big).toBeInstanceOf(Float32Array);
    expect(big.length).toBe(n);
    expect(big.every((v) => v === 0)).toBe(true);
    expect(hugePageFloat32Array(0).length).toBe(0);
    expect(hugePageFloat32Array(3).length).toBe(3);
    const plain = randomNet(r, n / 16, 16, 8);
    big.set(plain.E);
    const f = randomFeatures(r, 300, 30, true);
    const a = scoreValues(f, [plain], [1]), b = scoreValues(f, [{ ...plain, E: big }], [1]);
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
    for (const bad of [-1, 1.5, NaN, 2 ** 31]) expect(() => hugePageFloat32Array(bad)).toThrow(invalid);
  });

  it('rejects bad betas, offsets, and dense widths with INVALID_ARGUMENT', () => {
    const r = rng(3);
    const net = randomNet(r, 10, 4, 4, 2);
    const f = randomFeatures(r, 3, 5, false, 2);
    expect(() => scoreValues(f, [net], [0])).toThrow(invalid);
    expect(() => scoreValues(f, [net], [NaN])).toThrow(/beta 0 must be finite and > 0/);
    expect(() => scoreValues({ ...f, dense: undefined, dDense: 0 }, [net], [1])).toThrow(/expects dense rows of width 2/);
    expect(() => scoreValues({ ...f, dense: randArray(r, 9), dDense: 3 }, [net], [1])).toThrow(/expects dense rows of width 2, got 3/);
    expect(() => scoreValues({ offsets: Int32Array.from([0, 2, 1]), ids: new Uint32Array(2) }, [randomNet(r, 4, 2, 2)], [1])).toThrow(/non-decreasing/);
    expect(() => scoreValues({ offsets: Int32Array.from([0, 5]), ids: new Uint32Array(2) }, [randomNet(r, 4, 2, 2)], [1])).toThrow(invalid);
    expect(() => scoreValues(f, [{ ...net, E: new Float32Array(3) }], [1])).toThrow(/net\.E must hold 40 values/);
    expect(() => scoreValues(f, [net], [1, 1])).toThrow(/one entry per net/);
  });

  it('device cuda is refused by the CPU variant with a clear message', () => {
    if (getNative().variant !== 'cpu') return;
    const r = rng(4);
    expect(() => scoreValues(randomFeatures(r, 2, 3, false), [randomNet(r, 4, 2, 2)], [1], { device: 'cuda' })).toThrow(/needs the CUDA variant/);
  });
});

describe('softmax weights and resampling', () => {
  const shapes = [[1], [5], [16, 1, 7], [3, 0, 40, 2], [2500]];

  it('softmax log-weights and ESS match the reference; all-equal scores give ESS = n', () => {
    const r = rng(5);
    for (const sizes of shapes) {
      for (const tau of [0.05, 0.7, 3]) {
        const { scores, offsets } = segmentsOf(r, sizes, { negInf: true });
        const got = softmaxWeights(scores, offsets, tau);
        const ref = softmaxWeightsRef(scores, offsets, tau);
        expectClose(got.logWeights, Float32Array.from(ref.logWeights), 1e-5);
        expectClose(got.ess, Float32Array.from(ref.ess), 1e-5);
      }
    }
    const eq = softmaxWeights(new Float32Array(8).fill(1.5), Int32Array.from([0, 8]), 1);
    expect(eq.ess[0]).toBeCloseTo(8, 4);
    for (const lw of eq.logWeights) expect(lw).toBeCloseTo(-Math.log(8), 6);
  });

  it('draws exactly the reference indices for every method, shape and seed', () => {
    const r = rng(6);
    for (const sizes of shapes) {
      for (const method of METHODS) {
        const { scores, offsets } = segmentsOf(r, sizes, { negInf: true, ties: r() < 0.5 });
        const draws = Int32Array.from([0, ...sizes.map((n) => (n ? 1 + Math.floor(r() * 30) : 0))].map((_, i, a) => a.slice(0, i + 1).reduce((x, y) => x + y, 0)));
        const seed = BigInt(Math.floor(r() * 2 ** 40));
        const got = resample({ scores, offsets, tau: 0.8, method, draws, seed, step: 5 });
        expect(Array.from(got)).toEqual(Array.from(resampleRef(scores, offsets, 0.8, method, draws, seed, 5)));
        for (let s = 0; s < sizes.length; ++s) {
          for (let i = draws[s]!; i < draws[s + 1]!; ++i) expect(scores[offsets[s]! + got[i]!]).not.toBe(-Infinity);
        }
      }
    }
  });

  it('draws exactly the reference indices on large segments (parallel CDF, guide table, long runs), at 1 and 2 threads', () => {
    // Sizes past the parallel CDF threshold (64 blocks of 1024) and the multinomial guide table
    // (> 64 candidates and draws); few draws, about one per candidate, and many per candidate; a
    // peaked distribution (small tau: a few candidates take long runs of draws, most weights
    // underflow to 0) and ties with dead (-inf) candidates.
    const r = rng(61);
    const cases: { n: number; nd: number; tau: number; ties?: boolean }[] = [
      { n: 70_000, nd: 70_000, tau: 1 },
      { n: 70_000, nd: 500, tau: 0.7, ties: true },
      { n: 3_000, nd: 90_000, tau: 0.9 },
      { n: 80_000, nd: 40_000, tau: 0.02 },
    ];
    for (const { n, nd, tau, ties } of cases) {
      const { scores, offsets } = segmentsOf(r, [n], { negInf: true, ties });
      const draws = Int32Array.from([0, nd]);
      for (const method of METHODS) {
        const seed = BigInt(Math.floor(r() * 2 ** 40));
        const ref = Array.from(resampleRef(scores, offsets, tau, method, draws, seed, 3));
        for (const threads of [1, 2]) {
          const got = resample({ scores, offsets, tau, method, draws, seed, step: 3 }, { threads });
          const bad = ref.findIndex((v, i) => v !== got[i]);
          expect(bad, `${method} n=${n} nd=${nd} tau=${tau} threads=${threads}: draw ${bad} is ${got[bad]}, reference ${ref[bad]}`).toBe(-1);
        }
      }
    }
  });

  it('is deterministic per seed, independent of threads and of batching (requestIds)', () => {
    const r = rng(7);
    const { scores, offsets } = segmentsOf(r, [12, 9, 30]);
    for (const method of METHODS) {
      const args = { scores, offsets, tau: 1, method, draws: 10, seed: 123, step: 2, requestIds: Uint32Array.from([4, 5, 6]) };
      const a = resample(args, { threads: 1 });
      expect(Array.from(resample(args, { threads: 2 }))).toEqual(Array.from(a));
      expect(Array.from(resample({ ...args, seed: 124 }))).not.toEqual(Array.from(a));
      // Segment 1 alone, with its request id, draws what it drew inside the batch.
      const alone = resample({ ...args, scores: scores.slice(12, 21), offsets: Int32Array.from([0, 9]), requestIds: Uint32Array.from([5]) });
      expect(Array.from(alone)).toEqual(Array.from(a.slice(10, 20)));
    }
  });

  it('writes into a caller-provided out array and checks its length', () => {
    const r = rng(8);
    const { scores, offsets } = segmentsOf(r, [50, 20]);
    const args = { scores, offsets, tau: 1, method: 'stratified' as const, draws: 7, seed: 3 };
    const fresh = resample(args);
    const out = new Int32Array(14).fill(-5);
    expect(resample({ ...args, out })).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(fresh));
    expect(() => resample({ ...args, out: new Int32Array(13) })).toThrow(/out must have one entry per draw \(14\), got 13/);
    expect(() => resample({ ...args, out: new Float32Array(14) as unknown as Int32Array })).toThrow(invalid);
  });

  it('draw frequencies match the softmax weights (chi-square)', () => {
    const scores = Float32Array.from([0, 1, -1, 0.5, 2, -Infinity]);
    const tau = 0.9, n = 20000;
    const w = Array.from(scores, (s) => (s === -Infinity ? 0 : Math.exp(s / Math.fround(tau))));
    const total = w.reduce((a, b) => a + b, 0);
    for (const method of METHODS) {
      const draws = resample({ scores, offsets: Int32Array.from([0, 6]), tau, method, draws: n, seed: 99 });
      const counts = new Array(6).fill(0);
      for (const d of draws) counts[d]++;
      expect(counts[5]).toBe(0);
      let chi2 = 0;
      for (let i = 0; i < 5; ++i) chi2 += (counts[i] - (n * w[i]!) / total) ** 2 / ((n * w[i]!) / total);
      expect(chi2).toBeLessThan(20.5); // df = 4, p = 0.0004
      if (method === 'systematic') {
        for (let i = 0; i < 5; ++i) expect(Math.abs(counts[i] - (n * w[i]!) / total)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('rejects NaN, +Infinity, all -Infinity segments and bad tau with INVALID_ARGUMENT', () => {
    const offsets = Int32Array.from([0, 2, 4]);
    const cases: [Float32Array, RegExp][] = [
      [Float32Array.from([0, 1, NaN, 2]), /score 0 of segment 1 is NaN/],
      [Float32Array.from([Infinity, 1, 0, 2]), /score 0 of segment 0 is \+Infinity/],
      [Float32Array.from([0, 1, -Infinity, -Infinity]), /every score of segment 1 is -Infinity/],
    ];
    for (const [scores, msg] of cases) {
      expect(() => softmaxWeights(scores, offsets, 1)).toThrow(msg);
      expect(() => resample({ scores, offsets, tau: 1, method: 'multinomial', draws: 2, seed: 1 })).toThrow(msg);
      expect(() => topW(scores, offsets, 1)).toThrow(msg);
      expect(() => diverseTopW(scores, new BigUint64Array(4), offsets, 1)).toThrow(msg);
      expect(() => groupBest(scores, offsets, 2)).toThrow(invalid);
    }
    const ok = Float32Array.from([0, 1, 2, 3]);
    expect(() => softmaxWeights(ok, offsets, 0)).toThrow(/tau must be finite and > 0/);
    expect(() => resample({ scores: ok, offsets, tau: 1, method: 'bogus' as ResampleMethod, draws: 1, seed: 1 })).toThrow(invalid);
    expect(() => topW(ok, offsets, 3)).toThrow(/fewer than w = 3/);
    expect(() => groupBest(ok, Int32Array.from([0, 3, 4]), 2)).toThrow(/not a multiple of k = 2/);
    expect(() => topW(ok, Int32Array.from([0, 9]), 1)).toThrow(invalid);
  });
});

describe('selection', () => {
  it('top-w, diverse top-w and group-best match the reference (ties, -inf, B = 1, all equal)', () => {
    const r = rng(8);
    for (const sizes of [[1], [16], [16, 16, 16], [12, 8], [64]]) {
      for (const opts of [{ ties: true }, { ties: false, negInf: true }, { ties: true, negInf: true }]) {
        const { scores, offsets } = segmentsOf(r, sizes, opts);
        const w = Math.min(...sizes, 1 + Math.floor(r() * 6));
        expect(Array.from(topW(scores, offsets, w))).toEqual(Array.from(topWRef(scores, offsets, w)));
        const hashes = BigUint64Array.from(scores, () => BigInt(Math.floor(r() * 3)) << 40n);
        expect(Array.from(diverseTopW(scores, hashes, offsets, w))).toEqual(Array.from(diverseTopWRef(scores, hashes, offsets, w)));
        const k = sizes.every((n) => n % 4 === 0) ? 4 : 1;
        expect(Array.from(groupBest(scores, offsets, k))).toEqual(Array.from(groupBestRef(scores, offsets, k)));
      }
    }
    const equal = new Float32Array(6).fill(2);
    expect(Array.from(topW(equal, Int32Array.from([0, 6]), 3))).toEqual([0, 1, 2]);
    expect(Array.from(groupBest(equal, Int32Array.from([0, 6]), 3))).toEqual([0, 3]);
  });

  it('diverse top-w takes the best of each continuation first, then the best duplicates, never -inf before finite', () => {
    const scores = Float32Array.from([5, 4, 3, 2, -Infinity, 1]);
    const hashes = BigUint64Array.from([7n, 7n, 7n, 8n, 9n, 8n]);
    expect(Array.from(diverseTopW(scores, hashes, Int32Array.from([0, 6]), 4))).toEqual([0, 3, 1, 2]);
    expect(Array.from(diverseTopW(scores, hashes, Int32Array.from([0, 6]), 6))).toEqual([0, 3, 1, 2, 5, 4]);
  });

  it('selection is independent of the thread count', () => {
    const r = rng(9);
    const { scores, offsets } = segmentsOf(r, Array(50).fill(16), { ties: true });
    const hashes = BigUint64Array.from(scores, () => BigInt(Math.floor(r() * 5)));
    expect(Array.from(topW(scores, offsets, 4, { threads: 2 }))).toEqual(Array.from(topW(scores, offsets, 4, { threads: 1 })));
    expect(Array.from(diverseTopW(scores, hashes, offsets, 4, { threads: 2 }))).toEqual(Array.from(diverseTopW(scores, hashes, offsets, 4)));
    expect(Array.from(groupBest(scores, offsets, 4, { threads: 2 }))).toEqual(Array.from(groupBest(scores, offsets, 4)));
  });
});

describe('beam expansion', () => {
  function randomBatch(r: () => number, requests: number, V: number, cap: number) {
    const parentOffsets = [0], parents: number[] = [], k: number[] = [];
    for (let q = 0; q < requests; ++q) {
      const w = 1 + Math.floor(r() * 4), kk = 1 + Math.floor(r() * 4);
      for (let i = 0; i < w; ++i) parents.push(Math.floor(r() * w * kk));
      parentOffsets.push(parents.length);
      k.push(kk);
    }
    const slots = k.reduce((acc, kk, q) => acc + kk * (parentOffsets[q + 1]! - parentOffsets[q]!), 0);
    const lengths = Int32Array.from({ length: slots }, () => Math.floor(r() * (cap - 1)));
    const tokens = new Int32Array(slots * cap).fill(-1);
    lengths.forEach((len, s) => { for (let t = 0; t < len; ++t) tokens[s * cap + t] = s * 1000 + t; });
    const logits = Float32Array.from({ length: slots * V }, () => (r() < 0.3 ? Math.floor(r() * 3) : normal(r) * 2));
    return { parentOffsets: Int32Array.from(parentOffsets), parents: Int32Array.from(parents), k: Int32Array.from(k), lengths, tokens, logits, slots };
  }

  const paramSets: Required<SamplingOptions>[] = [
    DEFAULT_SAMPLING, { temperature: 0, topK: 0, topP: 1, minP: 0 }, { temperature: 1.3, topK: 0, topP: 0.8, minP: 0 },
    { temperature: 0.5, topK: 5, topP: 0.9, minP: 0.05 }, { temperature: 1, topK: 1, topP: 1, minP: 0 },
  ];

  it('lays out children, plans minimal forks, copies histories and samples like the reference', () => {
    const r = rng(10);
    const V = 37, cap = 9;
    for (const params of paramSets) {
      for (const requests of [1, 3]) {
        const b = randomBatch(r, requests, V, cap);
        const seed = BigInt(Math.floor(r() * 1e9));
        const out = expandBeams({ ...b, nVocab: V, params, seed, capacity: cap });
        let slotBase = 0;
        for (let q = 0; q < requests; ++q) {
          const ps = Array.from(b.parents.subarray(b.parentOffsets[q]!, b.parentOffsets[q + 1]!));
          const plan = planBeamsRef(ps, b.k[q]!);
          const n = ps.length * b.k[q]!;
          expect(out.slotOffsets[q]).toBe(slotBase);
          expect(Array.from(out.childParent.subarray(slotBase, slotBase + n))).toEqual(plan.childParent);
          expect(Array.from(out.childParentIndex.subarray(slotBase, slotBase + n))).toEqual(plan.childParentIndex);
          expect(Array.from(out.childNumber.subarray(slotBase, slotBase + n))).toEqual(plan.childNumber);
          const forks = Array.from(out.forks.subarray(2 * out.forkOffsets[q]!, 2 * out.forkOffsets[q + 1]!));
          expect(forks).toEqual(plan.forks.flat());
          expect(plan.forks.length).toBe(n - new Set(ps).size);
          for (let s = 0; s < n; ++s) {
            const g = slotBase + s, pg = slotBase + plan.childParent[s]!;
            const len = b.lengths[pg]!;
            const row = b.logits.subarray(pg * V, pg * V + V);
            const tok = sampleTokenRef(row, params, { seed, request: q, sequence: s, position: len, lane: 0 });
            expect(out.tokens[g]).toBe(tok);
            expect(out.logprobs[g]).toBeCloseTo(tokenLogprobRef(row, tok), 5);
            expect(out.lengths[g]).toBe(len + 1);
            expect(Array.from(out.history!.subarray(g * cap, g * cap + len + 1))).toEqual([...b.tokens.subarray(pg * cap, pg * cap + len), tok]);
          }
          slotBase += n;
        }
        // Inputs are not modified.
        expect(b.tokens.filter((t) => t >= 0).length).toBe(b.lengths.reduce((a, x) => a + x, 0));
      }
    }
  });

  it('does not depend on batching (requestIds), threads, or per-request params', () => {
    const r = rng(11);
    const V = 20, cap = 5;
    const b = randomBatch(r, 2, V, cap);
    const params = [paramSets[0]!, paramSets[2]!];
    const both = expandBeams({ ...b, nVocab: V, params, seed: 5, capacity: cap, requestIds: Uint32Array.from([10, 11]) }, { threads: 2 });
    const n0 = both.slotOffsets[1]!;
    const second = expandBeams({
      parentOffsets: Int32Array.from([0, b.parentOffsets[2]! - b.parentOffsets[1]!]), parents: b.parents.subarray(b.parentOffsets[1]!),
      k: b.k.subarray(1), logits: b.logits.subarray(n0 * V), nVocab: V, params: params[1], seed: 5, requestIds: Uint32Array.from([11]),
      lengths: b.lengths.subarray(n0), capacity: cap,
    });
    expect(Array.from(second.tokens)).toEqual(Array.from(both.tokens.subarray(n0)));
    const t1 = expandBeams({ ...b, nVocab: V, params, seed: 5, capacity: cap, requestIds: Uint32Array.from([10, 11]) }, { threads: 1 });
    expect(Array.from(t1.tokens)).toEqual(Array.from(both.tokens));
  });

  it('rejects bad parents, full histories and bad sampling params', () => {
    const base = { parentOffsets: Int32Array.from([0, 2]), k: Int32Array.from([2]), logits: new Float32Array(4 * 3), nVocab: 3, seed: 1, capacity: 4 };
    expect(() => expandBeams({ ...base, parents: Int32Array.from([0, 4]), lengths: new Int32Array(4) })).toThrow(/parent slot 4 is outside 0..3/);
    expect(() => expandBeams({ ...base, parents: Int32Array.from([0, 1]), lengths: Int32Array.from([4, 0, 0, 0]) }))
      .toThrow(expect.objectContaining({ code: 'CONTEXT_OVERFLOW' }));
    expect(() => expandBeams({ ...base, parents: Int32Array.from([0, 1]), lengths: new Int32Array(4), params: { topP: 0 } })).toThrow(/topP must be in/);
    expect(() => expandBeams({ ...base, parents: Int32Array.from([0, 1]), lengths: new Int32Array(3) })).toThrow(/one entry per slot/);
    expect(() => expandBeams({ ...base, logits: new Float32Array(5), parents: Int32Array.from([0, 3]), lengths: new Int32Array(4) })).toThrow(invalid);
  });
});

describe('native test binary', () => {
  const bin = path.join(repoRoot, 'build', 'Release', 'iro_native_tests');
  it.skipIf(!existsSync(bin))('iro_native_tests passes', () => {
    const res = spawnSync(bin, [], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/\d+ tests, 0 failed checks/);
  });
});
