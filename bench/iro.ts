/**
 * `iro-native bench`, the main job: on held-out prompts of a task, compare base sampling,
 * Best-of-N (N = 4, 16, 64) and IRO iterations 1..T (value-guided search with V_1..V_t at
 * w = 4, k = 4, l = 8: 16 candidates, the budget of BoN-16), plus engine and kernel throughput.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../lib/atomic-file.js';
import { Engine } from '../lib/engine.js';
import { throwIfAborted } from '../lib/errors.js';
import { engineBackend, DEFAULT_IRO_SEARCH, type IroSearchSettings } from '../lib/iro-backend.js';
import { resample, scoreValues } from '../lib/kernels.js';
import type { Progress } from '../lib/progress.js';
import { scoreRewards, type Reward } from '../lib/reward-scoring.js';
import { IroTrainer, type RunManifest } from '../lib/trainer.js';
import { ValueFunction, type ValueTrainOptions } from '../lib/value.js';
import { rng } from './prng.js';
import { rewardChartSvg, summarize, type MethodRun, type MethodSummary } from './report.js';

export interface IroBenchSizes {
  evalPrompts: number;
  iterations: number;
  trainPromptsPerIteration: number;
  rolloutsPerPrompt: number;
  bestOfN: number[];
  maxTokens: number;
  valueEpochs: number;
}

// Value functions are data-hungry on this task: 16 rollouts for each of 64 prompts per iteration
// (1024 rows) gave held-out Spearman 0.6-0.76 at the full response, 384 rows only 0.1-0.4.
export const FULL_SIZES: IroBenchSizes = { evalPrompts: 64, iterations: 3, trainPromptsPerIteration: 64, rolloutsPerPrompt: 16, bestOfN: [4, 16, 64], maxTokens: 96, valueEpochs: 40 };
export const QUICK_SIZES: IroBenchSizes = { evalPrompts: 16, iterations: 3, trainPromptsPerIteration: 24, rolloutsPerPrompt: 16, bestOfN: [4, 16, 64], maxTokens: 96, valueEpochs: 30 };

/**
 * Reweighting temperature of the bench's IRO run. With rewards in [-1, 1], τ = 2 keeps every
 * rollout with weights in [e^-1, 1] relative: on this task, keeping only each prompt's best
 * rollout (τ = 0) leaves too few examples for a value function (16 in --quick), which then
 * collapses to a constant; see README, "The main job".
 */
export const BENCH_RESAMPLE_TEMPERATURE = 2;

/** Value-function settings of the bench: the task prompts are near-identical review openings, so prompt crosses only add noise. */
export const BENCH_VALUE_OPTIONS: ValueTrainOptions = { featurizer: { promptWindow: 0 } };

export interface IroBenchOptions {
  model: string;
  /** Prompts for IRO training (at least iterations × trainPromptsPerIteration). */
  trainPrompts: string[];
  /** Held-out prompts the methods are compared on. */
  evalPrompts: string[];
  reward: Reward;
  rewardName: string;
  sizes: IroBenchSizes;
  outDir: string;
  threads?: number;
  seed?: number;
  search?: IroSearchSettings;
  resampleTemperature?: number;
  valueOptions?: ValueTrainOptions;
  progress: Progress;
  signal?: AbortSignal;
}

export interface IroBenchResult {
  model: string;
  reward: string;
  sizes: IroBenchSizes;
  search: Required<IroSearchSettings>;
  methods: MethodSummary[];
  iro: { runDir: string; iterations: RunManifest['iterations'] };
  throughput: Record<string, number>;
  files: { json: string; chart: string };
}

async function rewardsOf(reward: Reward, prompts: string[], responses: string[], signal?: AbortSignal): Promise<number[]> {
  const out = await scoreRewards(reward, prompts.map((prompt, i) => ({ prompt, response: responses[i]! })), { signal });
  return out.map((o) => (o.ok ? o.score : Number.NaN));
}

/** Best-of-N: N plain samples per prompt, all scored by the reward, the best kept. */
async function bestOfN(engine: Engine, prompts: string[], n: number, o: IroBenchOptions, seed: number): Promise<MethodRun> {
  const t0 = performance.now();
  const results = await engine.decodeBatch(prompts, {
    n, maxTokens: o.sizes.maxTokens, temperature: DEFAULT_IRO_SEARCH.temperature, topK: DEFAULT_IRO_SEARCH.topK, seed, signal: o.signal,
  });
  const decodeMs = performance.now() - t0;
  const flatPrompts = results.flatMap((r, i) => r.candidates.map(() => prompts[i]!));
  const flatTexts = results.flatMap((r) => r.candidates.map((c) => c.text));
  const scores = await rewardsOf(o.reward, flatPrompts, flatTexts, o.signal);
  const rewards: number[] = [];
  let at = 0;
  for (const r of results) {
    const mine = scores.slice(at, at + r.candidates.length).filter((x) => Number.isFinite(x));
    at += r.candidates.length;
    rewards.push(mine.length ? Math.max(...mine) : Number.NaN);
  }
  return {
    name: n === 1 ? 'base' : `BoN-${n}`,
    family: n === 1 ? 'base' : 'Best-of-N',
    rewards,
    generatedTokens: results.map((r) => r.stats.tokensSampled),
    wallMs: decodeMs,
  };
}

/** Value-guided search with V_1..V_t, final candidates reranked by the reward (as the authors do). */
async function guided(engine: Engine, prompts: string[], values: { vf: ValueFunction; beta: number }[], t: number, o: IroBenchOptions, search: Required<IroSearchSettings>, seed: number): Promise<{ run: MethodRun; scoreMs: number; decodeMs: number }> {
  const t0 = performance.now();
  const results = await engine.decode({
    prompts, values, w: search.w, k: search.k, l: search.l, maxTokens: o.sizes.maxTokens, temperature: search.temperature, topK: search.topK,
    topP: search.topP, minP: search.minP, strategy: search.strategy, rerank: 'reward', reward: o.reward, seed, signal: o.signal,
  });
  const wallMs = performance.now() - t0;
  return {
    run: {
      name: `IRO-${t}`,
      family: 'IRO',
      rewards: results.map((r) => (r.candidates[0]?.reward ?? Number.NaN)),
      generatedTokens: results.map((r) => r.stats.tokensSampled),
      wallMs,
    },
    scoreMs: results.reduce((a, r) => a + r.stats.time.featurizeScoreMs + r.stats.time.selectMs, 0),
    decodeMs: results.reduce((a, r) => a + r.stats.time.decodeMs, 0),
  };
}

/** Kernel throughput on a fixed synthetic shape (B = 1024 states, 30 ids, d = 64, 2^16 buckets). */
function kernelThroughput(): Record<string, number> {
  const B = 1024, ids = 30, d = 64, hidden = 64, nBuckets = 1 << 16;
  const rnd = rng(12345);
  const offsets = Int32Array.from({ length: B + 1 }, (_, i) => i * ids);
  const idArr = Uint32Array.from({ length: B * ids }, () => Math.floor(rnd() * nBuckets));
  const f = (n: number) => Float32Array.from({ length: n }, () => rnd() - 0.5);
  const net = { nBuckets, d, hidden, E: f(nBuckets * d), b0: f(d), W1: f(hidden * d), b1: f(hidden), w2: f(hidden), b2: 0 };
  const time = (fn: () => void, reps: number) => {
    fn();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    return (performance.now() - t0) / reps;
  };
  const scoreMs = time(() => scoreValues({ offsets, ids: idArr }, [net], [1]), 20);
  const N = 1 << 16;
  const scores = f(N);
  const resampleMs = time(() => resample({ scores, offsets: Int32Array.from([0, N]), tau: 1, method: 'systematic', draws: N, seed: 1 }), 20);
  return { valueScoringStatesPerSecond: B / (scoreMs / 1000), resamplingDrawsPerSecond: N / (resampleMs / 1000) };
}

export async function runIroBench(o: IroBenchOptions): Promise<IroBenchResult> {
  const seed = o.seed ?? 1;
  const search = { ...DEFAULT_IRO_SEARCH, ...o.search, maxTokens: o.sizes.maxTokens };
  const maxN = Math.max(16, search.w * search.k, ...o.sizes.bestOfN);
  mkdirSync(o.outDir, { recursive: true });
  const { progress } = o;
  // Room for every concurrent request's candidates: the scheduler queues what does not fit.
  const engine = await Engine.load({ model: o.model, threads: o.threads, maxSequences: Math.min(256, maxN * 4), contextSize: Math.min(32768, maxN * 4 * (o.sizes.maxTokens + 8) / 2) , signal: o.signal });
  try {
    const runs: MethodRun[] = [];
    const step = progress.task('bench: baselines', 1 + o.sizes.bestOfN.length);
    runs.push(await bestOfN(engine, o.evalPrompts, 1, o, seed));
    step.update(1);
    for (const [i, n] of o.sizes.bestOfN.entries()) {
      runs.push(await bestOfN(engine, o.evalPrompts, n, o, seed));
      step.update(i + 2, `BoN-${n}`);
    }
    step.done();

    // IRO training (resumable: a rerun with the same settings reuses finished iterations).
    const runDir = path.join(o.outDir, 'iro-run');
    const STAGES = ['rollouts', 'rewards', 'value', 'metrics'];
    const train = progress.task('bench: IRO training', o.sizes.iterations * STAGES.length);
    const trainer = new IroTrainer({
      backend: engineBackend(engine, { search, valueOptions: { ...BENCH_VALUE_OPTIONS, maxEpochs: o.sizes.valueEpochs, ...o.valueOptions } }),
      prompts: o.trainPrompts, reward: o.reward, runDir, iterations: o.sizes.iterations,
      promptsPerIteration: o.sizes.trainPromptsPerIteration, rolloutsPerPrompt: o.sizes.rolloutsPerPrompt,
      resampleTemperature: o.resampleTemperature ?? BENCH_RESAMPLE_TEMPERATURE, seed, signal: o.signal,
      extraConfig: { model: path.basename(o.model), reward: o.rewardName, search, maxTokens: o.sizes.maxTokens, valueEpochs: o.sizes.valueEpochs },
      onProgress: (e) => train.update((e.iteration - 1) * STAGES.length + STAGES.indexOf(e.stage) + (e.done >= e.total ? 1 : 0), `iteration ${e.iteration}: ${e.stage}`),
    });
    const manifest = await trainer.run();
    train.done();

    const evalTask = progress.task('bench: IRO evaluation', o.sizes.iterations);
    const values: { vf: ValueFunction; beta: number }[] = [];
    let scoreMs = 0;
    let decodeMs = 0;
    try {
      for (let t = 1; t <= o.sizes.iterations; t++) {
        throwIfAborted(o.signal, 'bench');
        values.push({ vf: await ValueFunction.load(path.join(runDir, `iter-${t}`, 'value.gguf'), { vocab: engine }), beta: 1 });
        const g = await guided(engine, o.evalPrompts, values, t, o, search, seed);
        runs.push(g.run);
        scoreMs += g.scoreMs;
        decodeMs += g.decodeMs;
        evalTask.update(t);
      }
    } finally {
      for (const v of values) v.vf.dispose();
    }
    evalTask.done();

    const methods = summarize(runs);
    const bon16 = methods.find((m) => m.name === 'BoN-16');
    const iroLast = methods.find((m) => m.name === `IRO-${o.sizes.iterations}`);
    const throughput: Record<string, number> = {
      ...kernelThroughput(),
      plainSamplingTokensPerSecond: bon16?.tokensPerSecond ?? Number.NaN,
      guidedSearchTokensPerSecond: iroLast?.tokensPerSecond ?? Number.NaN,
      guidedOverPlainThroughput: iroLast && bon16 ? iroLast.tokensPerSecond / bon16.tokensPerSecond : Number.NaN,
      valueScoringShareOfDecode: decodeMs > 0 ? scoreMs / decodeMs : Number.NaN,
    };
    const json = path.join(o.outDir, 'bench-results.json');
    const chart = path.join(o.outDir, 'bench-reward-vs-tokens.svg');
    const result: IroBenchResult = {
      model: o.model, reward: o.rewardName, sizes: o.sizes, search, methods,
      iro: { runDir, iterations: manifest.iterations }, throughput, files: { json, chart },
    };
    await writeJsonAtomic(json, result);
    await writeFileAtomic(chart, rewardChartSvg(methods, `IRO vs Best-of-N (${path.basename(o.model)}, ${o.rewardName})`));
    return result;
  } finally {
    await engine.dispose();
  }
}
