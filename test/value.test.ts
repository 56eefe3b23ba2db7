import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gguf, GGUFValueType, serializeGgufMetadata } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IroError } from '../lib/errors.js';
import { featurizeStates, ValueEnsemble, ValueFunction, vocabOfModelFile, type ValueRow, type ValueState } from '../lib/value.js';
import { fuzzValueFile, makeFuzzBase } from '../bench/fuzz-value-file.js';
import { synthRows, SYNTH_VOCAB } from '../bench/value-synthetic.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'iro-value-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const OTHER_VOCAB = { size: 200, fingerprint: '0123456789abcdef' };
// Crosses with the (random) prompts are pure noise in the synthetic task; leave them out here.
const BASE = { nBuckets: 1 << 14, embeddingWidth: 16, hiddenWidth: 32, maxEpochs: 12, featurizer: { promptWindow: 0 } } as const;

async function rejects(p: Promise<unknown> | (() => unknown), code: string): Promise<IroError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(IroError);
    expect((e as IroError).code).toBe(code);
    return e as IroError;
  }
  throw new Error(`expected ${code}`);
}

/** Every prefix of every row as a state (the last one ended). */
function prefixStates(rows: readonly ValueRow[], fraction: number): ValueState[] {
  return rows.map((r) => {
    const n = Math.max(1, Math.ceil(fraction * r.response.length));
    return { prompt: r.prompt, response: Array.from(r.response).slice(0, n), ended: n === r.response.length };
  });
}

function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const rank = (x: ArrayLike<number>) => {
    const idx = Array.from(x, (_, i) => i).sort((i, j) => x[i]! - x[j]!);
    const r = new Array<number>(x.length);
    idx.forEach((i, k) => (r[i] = k));
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  const m = (n - 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i]! - m) * (rb[i]! - m);
    saa += (ra[i]! - m) ** 2;
    sbb += (rb[i]! - m) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('featurizer', () => {
  it('emits exactly the documented feature set, incrementally', () => {
    const prompt = [5, 6, 7];
    const response = [40, 41, 42, 43, 44];
    const states = [0, 1, 2, 3, 5].map((n) => ({ prompt, response: response.slice(0, n), ended: n === 5 }));
    const f = featurizeStates({ seed: 9, promptWindow: 2 }, states);
    const keys = 2 + 1; // 2 prompt unigrams + 1 bigram from the last 2 prompt tokens
    const perToken = (j: number) => 1 + (j >= 2 ? 1 : 0) + (j >= 3 ? 1 : 0) + keys;
    states.forEach((s, i) => {
      const n = s.response.length;
      let acc = 0;
      for (let j = 1; j <= n; j++) acc += perToken(j);
      const count = f.offsets[i + 1]! - f.offsets[i]!;
      expect(count).toBe(acc + 1 + (s.ended ? 1 : 0));
      // Accumulated ids of a shorter prefix are a prefix of the longer one's (O(chunk) extension).
      if (i > 0) {
        const prevLen = f.offsets[i]! - f.offsets[i - 1]! - 1;
        expect(Array.from(f.ids.subarray(f.offsets[i]!, f.offsets[i]! + prevLen))).toEqual(Array.from(f.ids.subarray(f.offsets[i - 1]!, f.offsets[i - 1]! + prevLen)));
      }
      // Sum pooling: accumulated ids weigh 1, as do position and end flag.
      expect(Array.from(f.weights.subarray(f.offsets[i]!, f.offsets[i + 1]!)).every((w) => w === 1)).toBe(true);
    });
    const sqrt = featurizeStates({ seed: 9, promptWindow: 2, pooling: 'sqrt' }, [states[4]!]);
    expect(sqrt.weights[0]).toBeCloseTo(1 / Math.sqrt(5), 6);
    expect(sqrt.weights[sqrt.weights.length - 1]).toBe(1);
    const other = featurizeStates({ seed: 10, promptWindow: 2 }, [states[4]!]);
    expect(Array.from(other.ids)).not.toEqual(Array.from(sqrt.ids));
    const uni = featurizeStates({ ngramMax: 1, promptWindow: 0 }, [states[4]!]);
    expect(uni.ids.length).toBe(5 + 1 + 1);
  });

  it('rejects bad settings and tokens', async () => {
    await rejects(() => featurizeStates({ ngramMax: 4 }, []), 'INVALID_ARGUMENT');
    await rejects(() => featurizeStates({}, [{ prompt: [1], response: [-1] }]), 'INVALID_ARGUMENT');
    await rejects(() => featurizeStates({}, [{ prompt: [1], response: [1.5] }]), 'INVALID_ARGUMENT');
  });
});

describe('ValueFunction', () => {
  const rows = synthRows({ rows: 1000, seed: 3 });
  const fresh = synthRows({ rows: 300, seed: 99 });
  let vf: ValueFunction;
  const progress: number[] = [];

  beforeAll(async () => {
    vf = await ValueFunction.train(SYNTH_VOCAB, rows, { ...BASE, seed: 1, beta: 2, iteration: 3, onProgress: (p) => progress.push(p.epoch) });
  });
  afterAll(() => vf?.dispose());

  it('learns which early tokens predict the reward (held-out Spearman at 50% >= 0.8)', async () => {
    const rep = vf.report!;
    expect(rep.evaluatedOn).toBe('heldout');
    expect(rep.heldOutRows).toBe(100);
    expect(rep.evaluation.spearman['0.5']).toBeGreaterThanOrEqual(0.8);
    // Seeing more of the early part helps: 25% sees only part of it.
    expect(rep.evaluation.spearman['0.5']!).toBeGreaterThan(rep.evaluation.spearman['0.25']!);
    expect(rep.evaluation.calibration).toHaveLength(10);
    expect(rep.evaluation.calibration.reduce((s, b) => s + b.count, 0)).toBe(rep.evaluation.states);
    // Calibration is monotone at the extremes: the top decile's targets beat the bottom's.
    expect(rep.evaluation.calibration[9]!.meanTarget).toBeGreaterThan(rep.evaluation.calibration[0]!.meanTarget);
    expect(progress).toEqual(Array.from({ length: rep.epochs }, (_, i) => i + 1));
    expect(rep.history[rep.bestEpoch]!.heldOutMse).toBeCloseTo(rep.evaluation.mse!, 5);
    // Fresh data scored through the kernel ranks as well.
    const v = vf.score(prefixStates(fresh, 0.5));
    expect(spearman(v, fresh.map((r) => r.reward))).toBeGreaterThanOrEqual(0.8);
    expect(vf.info).toMatchObject({ nBuckets: 1 << 14, embeddingWidth: 16, hiddenWidth: 32, denseWidth: 0, beta: 2, iteration: 3, vocab: SYNTH_VOCAB });
    expect(vf.info.stats.rows).toBe(1000);
  });

  it('scores through the kernel exactly what training evaluates', async () => {
    const ev = await vf.evaluate(fresh);
    const full = vf.score(prefixStates(fresh, 1));
    const mse = fresh.reduce((s, r, i) => s + (full[i]! - r.reward) ** 2, 0) / fresh.length;
    expect(ev.mseAtFraction['1']).toBeCloseTo(mse, 4);
    const half = vf.score(prefixStates(fresh, 0.5));
    expect(ev.spearman['0.5']).toBeCloseTo(spearman(half, fresh.map((r) => r.reward)), 2);
  });

  it('save -> load -> score gives identical numbers; other GGUF readers list the metadata', async () => {
    const file = path.join(tmp, 'v.gguf');
    await vf.save(file);
    const loaded = await ValueFunction.load(file, { vocab: { vocab: SYNTH_VOCAB } });
    const states = prefixStates(fresh, 0.75);
    expect(Array.from(loaded.score(states))).toEqual(Array.from(vf.score(states)));
    expect(loaded.info).toEqual(vf.info);
    expect(loaded.report).toEqual(vf.report);
    loaded.dispose();

    const parsed = await gguf(file, { allowLocalFile: true });
    const md = parsed.metadata as Record<string, unknown>;
    expect(md['general.architecture']).toBe('iro.value');
    expect(md['iro.value.vocab.fingerprint']).toBe(SYNTH_VOCAB.fingerprint);
    expect(md['iro.value.vocab.size']).toBe(200);
    expect(md['iro.value.n_buckets']).toBe(1 << 14);
    expect(md['iro.value.embedding_width']).toBe(16);
    expect(md['iro.value.dense_width']).toBe(0);
    expect(md['iro.value.beta']).toBe(2);
    expect(md['iro.value.iteration']).toBe(3);
    expect(md['iro.value.featurizer.prompt_window']).toBe(0);
    expect(md['iro.value.dataset.rows']).toBe(1000n);
    expect(JSON.parse(md['iro.value.train.report'] as string)).toEqual(vf.report);
    expect(parsed.tensorInfos.map((t) => t.name).sort()).toEqual(['value.b0', 'value.b1', 'value.b2', 'value.embedding', 'value.w1', 'value.w2']);
    expect(parsed.tensorInfos.find((t) => t.name === 'value.embedding')!.shape).toEqual([16n, BigInt(1 << 14)]);

    // The report is writable as JSON.
    const rp = path.join(tmp, 'report.json');
    await vf.writeReport(rp);
    expect(JSON.parse(readFileSync(rp, 'utf8'))).toEqual(vf.report);
  });

  it('is deterministic for a seed, whatever the thread count', async () => {
    const small = rows.slice(0, 300);
    const opts = { ...BASE, maxEpochs: 3, seed: 7 };
    const a = await ValueFunction.train(SYNTH_VOCAB, small, { ...opts, threads: 1 });
    const b = await ValueFunction.train(SYNTH_VOCAB, small, { ...opts, threads: 2 });
    const c = await ValueFunction.train(SYNTH_VOCAB, small, { ...opts, threads: 1, seed: 8 });
    const states = prefixStates(fresh, 0.5);
    expect(Array.from(b.score(states))).toEqual(Array.from(a.score(states)));
    expect(b.report!.history).toEqual(a.report!.history);
    expect(Array.from(c.score(states))).not.toEqual(Array.from(a.score(states)));
    for (const x of [a, b, c]) x.dispose();
  });

  it('warm start resumes from the saved state', async () => {
    const file = path.join(tmp, 'warm.gguf');
    await vf.save(file);
    // No epochs: exactly the saved function.
    const same = await ValueFunction.train(SYNTH_VOCAB, rows, { warmStart: file, maxEpochs: 0, seed: 1 });
    const states = prefixStates(fresh, 0.5);
    expect(Array.from(same.score(states))).toEqual(Array.from(vf.score(states)));
    same.dispose();
    // Same seed, so the same held-out rows: training continues from where the first run kept its best.
    const more = await ValueFunction.train(SYNTH_VOCAB, rows, { warmStart: vf, maxEpochs: 2, seed: 1 });
    const start = more.report!.history[0]!.heldOutMse!;
    expect(more.report!.warmStart).toBe(true);
    expect(start).toBeCloseTo(vf.report!.evaluation.mse!, 5);
    expect(more.report!.evaluation.mse!).toBeLessThanOrEqual(start);
    expect(more.info.nBuckets).toBe(vf.info.nBuckets);
    more.dispose();
    await rejects(ValueFunction.train(SYNTH_VOCAB, rows, { warmStart: vf, embeddingWidth: 8 }), 'INVALID_ARGUMENT');
  });

  it('refuses a value function made for another vocabulary (VOCAB_MISMATCH)', async () => {
    const file = path.join(tmp, 'vocab.gguf');
    await vf.save(file);
    await rejects(ValueFunction.load(file, { vocab: OTHER_VOCAB }), 'VOCAB_MISMATCH');
    await rejects(ValueFunction.load(file, { vocab: { vocab: { size: 201, fingerprint: SYNTH_VOCAB.fingerprint } } }), 'VOCAB_MISMATCH');
    await rejects(ValueFunction.train(OTHER_VOCAB, rows.slice(0, 50), { warmStart: vf }), 'VOCAB_MISMATCH');
    await rejects(ValueFunction.train(OTHER_VOCAB, rows.slice(0, 50), { warmStart: file }), 'VOCAB_MISMATCH');
    await rejects(async () => new ValueEnsemble([{ vf, beta: 1 }], { vocab: OTHER_VOCAB }), 'VOCAB_MISMATCH');
    const other = await ValueFunction.train(OTHER_VOCAB, rows.slice(0, 50), { ...BASE, maxEpochs: 1 });
    await rejects(async () => new ValueEnsemble([{ vf }, { vf: other }]), 'VOCAB_MISMATCH');
    other.dispose();
  });

  it('ensembles score sum V_i / beta_i through the kernel', async () => {
    const second = await ValueFunction.train(SYNTH_VOCAB, rows.slice(0, 400), { ...BASE, maxEpochs: 2, seed: 5 });
    const ens = new ValueEnsemble([{ vf }, { vf: second, beta: 0.5 }]);
    expect(ens.members.map((m) => m.beta)).toEqual([2, 0.5]); // default: the stored beta
    const states = prefixStates(fresh.slice(0, 50), 0.6);
    const { values, combined } = ens.scoreAll(states);
    const v1 = vf.score(states);
    const v2 = second.score(states);
    states.forEach((_, s) => {
      expect(values[2 * s]).toBe(v1[s]);
      expect(values[2 * s + 1]).toBe(v2[s]);
      expect(combined[s]).toBeCloseTo(v1[s]! / 2 + v2[s]! / 0.5, 5);
    });
    expect(Array.from(ens.score(states))).toEqual(Array.from(combined));
    await rejects(async () => new ValueEnsemble([{ vf, beta: 0 }]), 'INVALID_ARGUMENT');
    const diffFeat = await ValueFunction.train(SYNTH_VOCAB, rows.slice(0, 50), { ...BASE, maxEpochs: 1, featurizer: { promptWindow: 3 } });
    await rejects(async () => new ValueEnsemble([{ vf }, { vf: diffFeat }]), 'INVALID_ARGUMENT');
    second.dispose();
    diffFeat.dispose();
    await rejects(async () => ens.score(states), 'DISPOSED');
  });
});

describe('dense features', () => {
  it('trains, saves and scores with a dense row per prefix state', async () => {
    const dw = 4;
    const rows = synthRows({ rows: 600, seed: 11, denseWidth: dw });
    const withDense = await ValueFunction.train(SYNTH_VOCAB, rows, { ...BASE, seed: 2 });
    const without = await ValueFunction.train(SYNTH_VOCAB, rows.map(({ dense: _d, ...r }) => r), { ...BASE, seed: 2 });
    expect(withDense.info.denseWidth).toBe(dw);
    // Column 0 carries a noisy copy of the final reward, so early prefixes rank far better with it.
    expect(withDense.report!.evaluation.spearman['0.25']!).toBeGreaterThan(without.report!.evaluation.spearman['0.25']! + 0.05);

    const states: ValueState[] = rows.slice(0, 20).map((r) => {
      const n = 5;
      return { prompt: r.prompt, response: Array.from(r.response).slice(0, n), dense: r.dense!.slice((n - 1) * dw, n * dw) };
    });
    const file = path.join(tmp, 'dense.gguf');
    await withDense.save(file);
    const loaded = await ValueFunction.load(file);
    expect(Array.from(loaded.score(states))).toEqual(Array.from(withDense.score(states)));
    const parsed = await gguf(file, { allowLocalFile: true });
    expect((parsed.metadata as Record<string, unknown>)['iro.value.dense_width']).toBe(dw);
    expect(parsed.tensorInfos.find((t) => t.name === 'value.dense_proj')!.shape).toEqual([16n, BigInt(dw)]);
    // The trainer's forward and the kernel agree on dense inputs too.
    const ev = await loaded.evaluate(rows.slice(0, 100));
    const full = loaded.score(rows.slice(0, 100).map((r) => ({ prompt: r.prompt, response: r.response, ended: true, dense: r.dense!.slice((r.response.length - 1) * dw) })));
    const mse = rows.slice(0, 100).reduce((s, r, i) => s + (full[i]! - r.reward) ** 2, 0) / 100;
    expect(ev.mseAtFraction['1']).toBeCloseTo(mse, 4);

    await rejects(async () => loaded.score([{ prompt: [1], response: [2] }]), 'INVALID_ARGUMENT');
    await rejects(ValueFunction.train(SYNTH_VOCAB, [{ prompt: [1], response: [2, 3], reward: 1, dense: new Float32Array(3) }], { denseWidth: 2 } as never), 'INVALID_ARGUMENT');
    for (const x of [withDense, without, loaded]) x.dispose();
  });
});

describe('training control and errors', () => {
  const rows = synthRows({ rows: 200, seed: 4 });

  it('aborts with ABORTED (before start and between steps)', async () => {
    const ac = new AbortController();
    ac.abort();
    await rejects(ValueFunction.train(SYNTH_VOCAB, rows, { ...BASE, signal: ac.signal }), 'ABORTED');
    const ac2 = new AbortController();
    await rejects(ValueFunction.train(SYNTH_VOCAB, rows, { ...BASE, maxEpochs: 50, patience: 50, signal: ac2.signal, onProgress: () => ac2.abort() }), 'ABORTED');
    // An exception thrown by onProgress stops training and surfaces as is.
    await expect(ValueFunction.train(SYNTH_VOCAB, rows, { ...BASE, onProgress: () => { throw new Error('boom'); } })).rejects.toThrow('boom');
  });

  it('rejects bad datasets, options and handles with clear codes', async () => {
    await rejects(ValueFunction.train(SYNTH_VOCAB, [], BASE), 'INVALID_ARGUMENT');
    await rejects(ValueFunction.train(SYNTH_VOCAB, [{ prompt: [1], response: [250], reward: 1 }], BASE), 'INVALID_ARGUMENT');
    await rejects(ValueFunction.train(SYNTH_VOCAB, [{ prompt: [1], response: [2], reward: Number.NaN }], BASE), 'INVALID_ARGUMENT');
    await rejects(ValueFunction.train(SYNTH_VOCAB, rows, { ...BASE, nBuckets: 0 }), 'INVALID_ARGUMENT');
    await rejects(ValueFunction.train(SYNTH_VOCAB, rows, { ...BASE, nBuckets: 1 << 27 }), 'INVALID_ARGUMENT');
    await rejects(ValueFunction.train(SYNTH_VOCAB, rows, { ...BASE, validationFraction: 1 }), 'INVALID_ARGUMENT');
    await rejects(ValueFunction.train({ size: 10, fingerprint: 'xyz' }, rows, BASE), 'INVALID_ARGUMENT');
    await rejects(ValueFunction.load(path.join(tmp, 'missing.gguf')), 'IO_ERROR');
    const notGguf = path.join(tmp, 'not.gguf');
    writeFileSync(notGguf, 'hello world, not a gguf file');
    await rejects(ValueFunction.load(notGguf), 'INVALID_GGUF');
    const vf = await ValueFunction.train(SYNTH_VOCAB, rows.slice(0, 20), { ...BASE, maxEpochs: 1, validationFraction: 0 });
    expect(vf.report!.evaluatedOn).toBe('train');
    await rejects(async () => vf.score([{ prompt: [1], response: [200] }]), 'INVALID_ARGUMENT');
    vf.dispose();
    expect(vf.disposed).toBe(true);
    await rejects(async () => vf.score([{ prompt: [1], response: [2] }]), 'DISPOSED');
    await rejects(vf.save(path.join(tmp, 'x.gguf')), 'DISPOSED');
  });

  it('reads a model file\'s vocabulary (vocabOfModelFile)', async () => {
    const tokens = ['<s>', 'a', 'bb', 'ccc'];
    const header = serializeGgufMetadata({
      version: { value: 3, type: GGUFValueType.UINT32 },
      tensor_count: { value: 0n, type: GGUFValueType.UINT64 },
      kv_count: { value: 2n, type: GGUFValueType.UINT64 },
      'general.architecture': { value: 'llama', type: GGUFValueType.STRING },
      'tokenizer.ggml.tokens': { value: tokens, type: GGUFValueType.ARRAY, subType: GGUFValueType.STRING },
    } as never);
    const file = path.join(tmp, 'model.gguf');
    writeFileSync(file, header);
    // FNV-1a 64 over each token and a 0 byte, then the count as 4 little-endian bytes.
    let h = 0xcbf29ce484222325n;
    const byte = (c: number) => {
      h ^= BigInt(c);
      h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
    };
    for (const t of tokens) {
      for (const c of Buffer.from(t)) byte(c);
      byte(0);
    }
    for (let i = 0; i < 4; i++) byte((tokens.length >> (8 * i)) & 0xff);
    expect(await vocabOfModelFile(file)).toEqual({ size: 4, fingerprint: h.toString(16).padStart(16, '0') });
    await rejects(vocabOfModelFile(path.join(tmp, 'nope.gguf')), 'MODEL_NOT_FOUND');
  });
});

describe('value-file loader fuzz (short run; bench/fuzz-value-file.ts runs 10^4)', () => {
  it('turns every malformed file into a clean IroError', async () => {
    const dir = mkdtempSync(path.join(tmp, 'fuzz-'));
    const base = await makeFuzzBase(dir);
    const stats = await fuzzValueFile(base, 300, 123, dir);
    expect(stats.unexpected).toEqual([]);
    expect(stats.cases).toBe(300);
    expect(stats.rejected.INVALID_GGUF).toBeGreaterThan(150);
    expect(Object.keys(stats.byKind).sort()).toEqual(['extreme', 'flip', 'garbage', 'shape', 'truncate']);
  });
});
