/**
 * A synthetic value-learning task with a known answer, shared by test/value.test.ts and the value
 * benches. Vocabulary of 200 tokens; the first `early` response tokens are drawn from a mix in which
 * tokens 10..29 carry a known weight (-1..+1); every later token is neutral (30..199). The reward
 * is the sum of the weights of the early tokens plus small noise: once a prefix covers the early
 * part, its final reward is (nearly) determined by which tokens appeared.
 */
import type { ValueRow } from '../lib/value.js';
import { rng } from './prng.js';

export const SYNTH_VOCAB = { size: 200, fingerprint: '00000000000000c8' } as const;

export const tokenWeight = (t: number): number => (t >= 10 && t < 30 ? -1 + (2 * (t - 10)) / 19 : 0);

export interface SynthOptions {
  rows: number;
  seed?: number;
  early?: number;
  minLength?: number;
  maxLength?: number;
  noise?: number;
  /** Dense width (0 = none): dense rows carry a noisy copy of the final reward in column 0. */
  denseWidth?: number;
}

export function synthRows(o: SynthOptions): ValueRow[] {
  const r = rng(o.seed ?? 1);
  const early = o.early ?? 8;
  const minL = o.minLength ?? 16;
  const maxL = o.maxLength ?? 32;
  const noise = o.noise ?? 0.1;
  const dw = o.denseWidth ?? 0;
  const rows: ValueRow[] = [];
  for (let i = 0; i < o.rows; i++) {
    const prompt = Array.from({ length: 6 }, () => 30 + Math.floor(r() * 170));
    const len = minL + Math.floor(r() * (maxL - minL + 1));
    const response: number[] = [];
    let reward = 0;
    for (let j = 0; j < len; j++) {
      const t = j < early && r() < 0.6 ? 10 + Math.floor(r() * 20) : 30 + Math.floor(r() * 170);
      response.push(t);
      if (j < early) reward += tokenWeight(t);
    }
    reward += noise * (r() * 2 - 1);
    const row: ValueRow = { prompt, response, reward };
    if (dw > 0) {
      const dense = new Float32Array(len * dw);
      for (let j = 0; j < len; j++) {
        dense[j * dw] = reward + 0.2 * (r() * 2 - 1);
        for (let c = 1; c < dw; c++) dense[j * dw + c] = r() * 2 - 1;
      }
      row.dense = dense;
    }
    rows.push(row);
  }
  return rows;
}
