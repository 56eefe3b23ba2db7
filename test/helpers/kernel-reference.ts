/**
 * Plain TypeScript reference implementations of the kernels (native/kernels/*.h contracts), written
 * from the headers' descriptions: used by the tests (exact comparison) and by bench/kernels.ts
 * (speed ratio). Float32 steps are reproduced with Math.fround where the contract is float32.
 */
import type { SamplingOptions, SparseFeaturesInput, ValueNetParams } from '../../lib/kernels.js';

const f = Math.fround;

// ---- Philox4x32-10 (native/common/rng.h) ----

function mulhi(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const lo = a0 * b0, m1 = a1 * b0, m2 = a0 * b1;
  const carry = Math.floor(((lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff)) / 65536);
  return (a1 * b1 + Math.floor(m1 / 65536) + Math.floor(m2 / 65536) + carry) >>> 0;
}

export interface RngKeyRef { seed: bigint; request: number; sequence: number; position: number; lane: number }

export function rngBits(k: RngKeyRef): number {
  let c0 = k.request >>> 0, c1 = k.sequence >>> 0, c2 = k.position >>> 0, c3 = k.lane >>> 0;
  let k0 = Number(k.seed & 0xffffffffn) >>> 0, k1 = Number((k.seed >> 32n) & 0xffffffffn) >>> 0;
  for (let r = 0; r < 10; ++r) {
    const hi0 = mulhi(0xd2511f53, c0), lo0 = Math.imul(0xd2511f53, c0) >>> 0;
    const hi1 = mulhi(0xcd9e8d57, c2), lo1 = Math.imul(0xcd9e8d57, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0, n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return c0;
}

export const rngUniform = (k: RngKeyRef): number => (rngBits(k) >>> 8) / 16777216;

// ---- value scoring ----

export function scoreValuesRef(x: SparseFeaturesInput, nets: ValueNetParams[], betas: ArrayLike<number>): { values: Float32Array; combined: Float32Array } {
  const B = x.offsets.length - 1, M = nets.length;
  const values = new Float32Array(B * M), combined = new Float32Array(B);
  for (let s = 0; s < B; ++s) {
    let c = 0;
    for (let m = 0; m < M; ++m) {
      const n = nets[m]!;
      const a = new Float32Array(n.d), h = new Float32Array(n.hidden);
      for (let t = 0; t < n.d; ++t) a[t] = n.b0[t]!;
      for (let j = x.offsets[s]!; j < x.offsets[s + 1]!; ++j) {
        const row = (x.ids[j]! % n.nBuckets) * n.d;
        const w = x.weights ? x.weights[j]! : 1;
        for (let t = 0; t < n.d; ++t) a[t] = f(a[t]! + (x.weights ? f(w * n.E[row + t]!) : n.E[row + t]!));
      }
      if ((n.dDense ?? 0) > 0) {
        for (let q = 0; q < n.dDense!; ++q) {
          const xq = x.dense![s * x.dDense! + q]!;
          for (let t = 0; t < n.d; ++t) a[t] = f(a[t]! + f(xq * n.P![q * n.d + t]!));
        }
      }
      for (let u = 0; u < n.hidden; ++u) {
        let acc = n.b1[u]!;
        for (let t = 0; t < n.d; ++t) acc = f(acc + f(n.W1[u * n.d + t]! * a[t]!));
        h[u] = acc > 0 ? acc : 0;
      }
      let v = f(n.b2);
      for (let u = 0; u < n.hidden; ++u) v = f(v + f(n.w2[u]! * h[u]!));
      values[s * M + m] = v;
      c = f(c + f(v / betas[m]!));
    }
    combined[s] = c;
  }
  return { values, combined };
}

// ---- resampling ----

export const CDF_BLOCK = 1024;

export function checkScoresRef(scores: Float32Array, offsets: Int32Array): void {
  for (let s = 0; s + 1 < offsets.length; ++s) {
    let finite = false;
    for (let j = offsets[s]!; j < offsets[s + 1]!; ++j) {
      const v = scores[j]!;
      if (Number.isNaN(v) || v === Infinity) throw new Error(`bad score at ${j}`);
      finite ||= v !== -Infinity;
    }
    if (!finite && offsets[s + 1]! > offsets[s]!) throw new Error(`segment ${s} all -inf`);
  }
}

/** Weights and the blocked CDF of one segment (resample.h). */
export function segmentCdf(s: ArrayLike<number>, tau: number): { w: Float64Array; cdf: Float64Array; total: number; max: number } {
  tau = f(tau); // the kernels take tau as float32
  const n = s.length;
  let m = -Infinity;
  for (let i = 0; i < n; ++i) m = Math.max(m, s[i]!);
  const w = new Float64Array(n), cdf = new Float64Array(n);
  for (let i = 0; i < n; ++i) w[i] = s[i] === -Infinity ? 0 : Math.exp((s[i]! - m) / tau);
  let carry = 0;
  for (let b = 0; b < n; b += CDF_BLOCK) {
    const e = Math.min(n, b + CDF_BLOCK);
    let acc = 0;
    for (let i = b; i < e; ++i) { acc += w[i]!; cdf[i] = acc; }
    for (let i = b; i < e; ++i) cdf[i]! += carry;
    carry += acc;
  }
  return { w, cdf, total: n ? cdf[n - 1]! : 0, max: m };
}

export function softmaxWeightsRef(scores: Float32Array, offsets: Int32Array, tau: number): { logWeights: Float64Array; ess: Float64Array } {
  const n = offsets.length - 1;
  const logWeights = new Float64Array(scores.length), ess = new Float64Array(n);
  for (let s = 0; s < n; ++s) {
    const seg = scores.subarray(offsets[s]!, offsets[s + 1]!);
    if (!seg.length) continue;
    const { w, total, max } = segmentCdf(seg, tau);
    const t32 = f(tau);
    let sq = 0;
    for (let i = 0; i < seg.length; ++i) {
      sq += w[i]! * w[i]!;
      logWeights[offsets[s]! + i] = seg[i] === -Infinity ? -Infinity : (seg[i]! - max) / t32 - Math.log(total);
    }
    ess[s] = (total * total) / sq;
  }
  return { logWeights, ess };
}

function pick(w: Float64Array, cdf: Float64Array, target: number): number {
  let a = 0, b = cdf.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (cdf[mid]! > target) b = mid; else a = mid + 1;
  }
  if (a < cdf.length) return a;
  let i = w.length - 1;
  while (i > 0 && w[i]! <= 0) --i;
  return i;
}

export function resampleRef(scores: Float32Array, offsets: Int32Array, tau: number, method: 'systematic' | 'stratified' | 'multinomial',
  drawOffsets: Int32Array, seed: bigint, step: number, requestIds?: Uint32Array, into?: Int32Array): Int32Array {
  const out = into ?? new Int32Array(drawOffsets[drawOffsets.length - 1]!);
  for (let s = 0; s + 1 < offsets.length; ++s) {
    const nd = drawOffsets[s + 1]! - drawOffsets[s]!;
    if (!nd) continue;
    const { w, cdf, total } = segmentCdf(scores.subarray(offsets[s]!, offsets[s + 1]!), tau);
    const key: RngKeyRef = { seed, request: requestIds ? requestIds[s]! : s, sequence: 0, position: step, lane: 1 };
    const u0 = method === 'systematic' ? rngUniform(key) : 0;
    for (let i = 0; i < nd; ++i) {
      key.sequence = i;
      const p = method === 'systematic' ? (u0 + i) / nd : method === 'stratified' ? (i + rngUniform(key)) / nd : rngUniform(key);
      out[drawOffsets[s]! + i] = pick(w, cdf, p * total);
    }
  }
  return out;
}

const rankOrder = (seg: ArrayLike<number>): number[] =>
  Array.from({ length: seg.length }, (_, i) => i).sort((a, b) => (seg[a] === seg[b] ? a - b : seg[b]! > seg[a]! ? 1 : -1));

export function topWRef(scores: Float32Array, offsets: Int32Array, w: number): Int32Array {
  const out: number[] = [];
  for (let s = 0; s + 1 < offsets.length; ++s) out.push(...rankOrder(scores.subarray(offsets[s]!, offsets[s + 1]!)).slice(0, w));
  return Int32Array.from(out);
}

export function diverseTopWRef(scores: Float32Array, hashes: BigUint64Array, offsets: Int32Array, w: number): Int32Array {
  const out: number[] = [];
  for (let s = 0; s + 1 < offsets.length; ++s) {
    const seg = scores.subarray(offsets[s]!, offsets[s + 1]!);
    const hs = hashes.subarray(offsets[s]!, offsets[s + 1]!);
    const order = rankOrder(seg);
    const seen = new Set<bigint>(), taken = new Set<number>(), picked: number[] = [];
    for (const i of order) {
      if (picked.length >= w || seg[i] === -Infinity) break;
      if (!seen.has(hs[i]!)) { seen.add(hs[i]!); taken.add(i); picked.push(i); }
    }
    for (const i of order) if (picked.length < w && !taken.has(i)) picked.push(i);
    out.push(...picked);
  }
  return Int32Array.from(out);
}

export function groupBestRef(scores: Float32Array, offsets: Int32Array, k: number): Int32Array {
  const out: number[] = [];
  for (let s = 0; s + 1 < offsets.length; ++s) {
    const seg = scores.subarray(offsets[s]!, offsets[s + 1]!);
    for (let g = 0; g * k < seg.length; ++g) {
      let best = g * k;
      for (let j = g * k + 1; j < g * k + k; ++j) if (seg[j]! > seg[best]!) best = j;
      out.push(best);
    }
  }
  return Int32Array.from(out);
}

// ---- sampler (native/kernels/sampler.h) and beam expansion ----

export function tokenLogprobRef(logits: ArrayLike<number>, token: number): number {
  let mx = -Infinity;
  for (let i = 0; i < logits.length; ++i) mx = Math.max(mx, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; ++i) sum += Math.exp(logits[i]! - mx);
  return f(logits[token]! - mx - Math.log(sum));
}

export function sampleTokenRef(logits: ArrayLike<number>, p: Required<SamplingOptions>, key: RngKeyRef): number {
  const V = logits.length;
  if (p.temperature <= 0) {
    let best = 0;
    for (let i = 1; i < V; ++i) if (logits[i]! > logits[best]!) best = i;
    return best;
  }
  const cand = rankOrder(logits);
  const k = p.topK <= 0 || p.topK >= V ? V : p.topK;
  cand.length = k;
  const invT = 1 / f(p.temperature), top = logits[cand[0]!]!;
  const pr = cand.map((i) => Math.exp((logits[i]! - top) * invT));
  let total = 0;
  for (const x of pr) total += x;
  let kept = k;
  if (p.minP > 0) {
    const floor = f(p.minP) * (pr[0]! / total);
    let n = 1;
    while (n < kept && pr[n]! / total >= floor) ++n;
    kept = n;
  }
  if (f(p.topP) < 1) {
    let cum = 0, n = 0;
    while (n < kept) { cum += pr[n]! / total; ++n; if (cum >= f(p.topP)) break; }
    kept = Math.max(1, n);
  }
  let mass = 0;
  for (let i = 0; i < kept; ++i) mass += pr[i]!;
  const target = rngUniform(key) * mass;
  let cum = 0;
  for (let i = 0; i < kept; ++i) { cum += pr[i]!; if (cum > target) return cand[i]!; }
  return cand[kept - 1]!;
}

export interface BeamPlanRef { childParent: number[]; childParentIndex: number[]; childNumber: number[]; forks: [number, number][] }

export function planBeamsRef(parents: number[], k: number): BeamPlanRef {
  const w = parents.length, n = w * k;
  const childParent = new Array<number>(n).fill(-1), childParentIndex = new Array<number>(n).fill(-1), childNumber = new Array<number>(n).fill(-1);
  const kept = new Array<boolean>(w).fill(false);
  parents.forEach((p, i) => {
    if (childParent[p] === -1) { childParent[p] = p; childParentIndex[p] = i; childNumber[p] = 0; kept[i] = true; }
  });
  let free = 0;
  parents.forEach((p, i) => {
    for (let j = kept[i] ? 1 : 0; j < k; ++j) {
      while (childParent[free] !== -1) ++free;
      childParent[free] = p; childParentIndex[free] = i; childNumber[free] = j;
    }
  });
  const forks: [number, number][] = [];
  childParent.forEach((p, s) => { if (p !== s) forks.push([s, p]); });
  return { childParent, childParentIndex, childNumber, forks };
}

export const DEFAULT_SAMPLING: Required<SamplingOptions> = { temperature: 0.7, topK: 50, topP: 1, minP: 0 };
