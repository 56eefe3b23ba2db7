/**
 * The IRO loop (DESIGN.md §7): for t = 1..T, roll out π_{t-1} on a fresh prompt slice, score the
 * rollouts with the reward, reweight each prompt's candidates (∝ exp(r/τ); τ = 0 keeps the best),
 * train V_t on the kept samples, evaluate and save. A run is a folder; every write is atomic and a
 * killed run resumes where it stopped with the same result as an uninterrupted one.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from './atomic-file.js';
import { IroError, throwIfAborted } from './errors.js';
import { scoreRewards, type Reward, type RewardOutcome } from './reward-scoring.js';
import { mean } from './stats.js';

/** One sampled response of the current policy. */
export interface Rollout {
  promptIndex: number;
  prompt: string;
  candidate: number;
  response: string;
  promptTokens: number[];
  responseTokens: number[];
  finished: boolean;
}

/** What the loop needs from a trained value function. */
export interface TrainedValue {
  save(file: string): Promise<void>;
  /** Training report with the held-out evaluation (MSE, Spearman by prefix fraction, …), as JSON. */
  readonly report: unknown;
}

/** A row of the value-training dataset: the final reward is the target of every prefix. */
export interface ValueExample {
  promptTokens: number[];
  responseTokens: number[];
  reward: number;
  weight: number;
  /** The response ended by itself (end of generation), not cut by the token limit. */
  ended: boolean;
}

/** The engine-facing side of the loop (see `engineBackend` for the local llama.cpp engine). */
export interface IroBackend<V> {
  /** Samples `perPrompt` responses per prompt from π_{t-1} (values empty: the base model). */
  rollouts(args: { prompts: string[]; firstPromptIndex: number; values: { value: V; beta: number }[]; perPrompt: number; seed: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void }): Promise<Rollout[]>;
  trainValue(args: { examples: ValueExample[]; iteration: number; beta: number; seed: number; warmStart?: V; signal?: AbortSignal; onProgress?: (done: number, total: number) => void }): Promise<V & TrainedValue>;
  loadValue(file: string): Promise<V>;
}

export interface IroTrainerOptions<V> {
  backend: IroBackend<V>;
  prompts: string[];
  reward: Reward;
  runDir: string;
  iterations?: number;
  betas?: number[];
  rolloutsPerPrompt?: number;
  promptsPerIteration?: number;
  /** τ of the reweighting: 0 keeps each prompt's best candidate. */
  resampleTemperature?: number;
  warmStart?: boolean;
  seed?: number;
  /** Stop the iteration with REWARD_FAILED when more than this fraction of rewards fail (default 0.5). */
  maxRewardFailureFraction?: number;
  signal?: AbortSignal;
  onProgress?: (event: IroProgress) => void;
  /** Extra configuration recorded in the manifest (search settings, value options, …). */
  extraConfig?: Record<string, unknown>;
}

export type IroStage = 'rollouts' | 'rewards' | 'value' | 'metrics';
export interface IroProgress {
  iteration: number;
  stage: IroStage;
  done: number;
  total: number;
}

export type IterationStatus = 'pending' | 'rolled-out' | 'trained' | 'done';

export interface IterationRecord {
  iteration: number;
  status: IterationStatus;
  prompts: [number, number];
  seed: number;
  metrics?: IterationMetrics;
}

export interface IterationMetrics {
  rollouts: number;
  rewardFailures: number;
  meanReward: number;
  keptSamples: number;
  keptMeanReward: number;
  value: unknown;
}

export interface RunManifest {
  format: 'iro-native.run/1';
  config: Record<string, unknown>;
  iterations: IterationRecord[];
}

const MANIFEST = 'manifest.json';

function iterDir(runDir: string, t: number) {
  return path.join(runDir, `iter-${t}`);
}

/** Per-iteration seed: a fixed function of the run seed, so a resumed run draws the same numbers. */
function iterationSeed(seed: number, t: number): number {
  let h = (seed ^ Math.imul(t, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

interface ScoredRollout extends Rollout {
  reward?: number;
  failed?: string;
  weight: number;
}

/**
 * Reweights one prompt's candidates: weights ∝ exp(r/τ) over the successful ones, scaled so that
 * they sum to the number of candidates (τ = 0: all weight on the best, lowest index on ties).
 */
export function reweight(rewards: (number | undefined)[], tau: number): number[] {
  const ok = rewards.map((r, i) => ({ r, i })).filter((x): x is { r: number; i: number } => x.r !== undefined);
  const w = new Array<number>(rewards.length).fill(0);
  if (ok.length === 0) return w;
  if (tau <= 0) {
    let best = ok[0]!;
    for (const x of ok) if (x.r > best.r) best = x;
    w[best.i] = 1;
    return w;
  }
  const top = Math.max(...ok.map((x) => x.r));
  const e = ok.map((x) => Math.exp((x.r - top) / tau));
  const z = e.reduce((a, b) => a + b, 0);
  ok.forEach((x, j) => (w[x.i] = (e[j]! / z) * ok.length));
  return w;
}

export class IroTrainer<V> {
  readonly options: Required<Omit<IroTrainerOptions<V>, 'signal' | 'onProgress' | 'extraConfig'>> & Pick<IroTrainerOptions<V>, 'signal' | 'onProgress' | 'extraConfig'>;

  constructor(given: IroTrainerOptions<V>) {
    // Options explicitly set to undefined take their defaults.
    const options = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as unknown as IroTrainerOptions<V>;
    const iterations = options.iterations ?? 3;
    const o = {
      iterations,
      betas: options.betas ?? Array.from({ length: iterations }, () => 1),
      rolloutsPerPrompt: options.rolloutsPerPrompt ?? 4,
      promptsPerIteration: options.promptsPerIteration ?? Math.floor(options.prompts.length / iterations),
      resampleTemperature: options.resampleTemperature ?? 0,
      warmStart: options.warmStart ?? false,
      seed: options.seed ?? 1,
      maxRewardFailureFraction: options.maxRewardFailureFraction ?? 0.5,
      ...options,
    };
    const int = (name: string, v: number, min: number) => {
      if (!Number.isInteger(v) || v < min) throw new IroError('INVALID_ARGUMENT', `${name} must be an integer >= ${min} (got ${v})`);
    };
    int('iterations', o.iterations, 1);
    int('rolloutsPerPrompt', o.rolloutsPerPrompt, 1);
    int('promptsPerIteration', o.promptsPerIteration, 1);
    int('seed', o.seed, 0);
    if (o.betas.length !== o.iterations || o.betas.some((b) => !(Number.isFinite(b) && b > 0))) {
      throw new IroError('INVALID_ARGUMENT', `betas must hold ${o.iterations} positive numbers (one per iteration)`);
    }
    if (!(o.resampleTemperature >= 0 && Number.isFinite(o.resampleTemperature))) throw new IroError('INVALID_ARGUMENT', 'resampleTemperature must be a finite number >= 0');
    if (!(o.maxRewardFailureFraction >= 0 && o.maxRewardFailureFraction <= 1)) throw new IroError('INVALID_ARGUMENT', 'maxRewardFailureFraction must be in [0, 1]');
    if (o.prompts.length < o.iterations * o.promptsPerIteration) {
      throw new IroError('INVALID_ARGUMENT', `${o.iterations} iterations × ${o.promptsPerIteration} prompts need ${o.iterations * o.promptsPerIteration} distinct prompts; got ${o.prompts.length}`);
    }
    this.options = o;
  }

  /** Configuration that must match for a resume (results depend on all of it). */
  private config(): Record<string, unknown> {
    const o = this.options;
    return {
      iterations: o.iterations, betas: o.betas, rolloutsPerPrompt: o.rolloutsPerPrompt, promptsPerIteration: o.promptsPerIteration,
      resampleTemperature: o.resampleTemperature, warmStart: o.warmStart, seed: o.seed, maxRewardFailureFraction: o.maxRewardFailureFraction,
      promptCount: o.prompts.length, ...(o.extraConfig ?? {}),
    };
  }

  private async loadOrCreateManifest(): Promise<RunManifest> {
    const file = path.join(this.options.runDir, MANIFEST);
    const existing = await readJsonIfExists<RunManifest>(file);
    const config = this.config();
    if (existing) {
      if (existing.format !== 'iro-native.run/1') throw new IroError('INVALID_ARGUMENT', `${file} is not an iro-native run manifest`);
      const a = JSON.stringify(existing.config);
      const b = JSON.stringify(config);
      if (a !== b) throw new IroError('INVALID_ARGUMENT', `${this.options.runDir} holds a run with a different configuration; resume it with the same options or use a new run folder.\n  stored: ${a}\n  given:  ${b}`);
      return existing;
    }
    const o = this.options;
    const manifest: RunManifest = {
      format: 'iro-native.run/1',
      config,
      iterations: Array.from({ length: o.iterations }, (_, i) => ({
        iteration: i + 1,
        status: 'pending' as const,
        prompts: [i * o.promptsPerIteration, (i + 1) * o.promptsPerIteration] as [number, number],
        seed: iterationSeed(o.seed, i + 1),
      })),
    };
    await fs.mkdir(this.options.runDir, { recursive: true });
    await writeJsonAtomic(file, manifest);
    return manifest;
  }

  private async saveManifest(m: RunManifest) {
    await writeJsonAtomic(path.join(this.options.runDir, MANIFEST), m);
  }

  /** Runs (or resumes) every iteration; returns the manifest with per-iteration metrics. */
  async run(): Promise<RunManifest> {
    const o = this.options;
    const manifest = await this.loadOrCreateManifest();
    const values: { value: V; beta: number }[] = [];
    for (const rec of manifest.iterations) {
      throwIfAborted(o.signal, 'IRO training');
      const t = rec.iteration;
      const dir = iterDir(o.runDir, t);
      await fs.mkdir(dir, { recursive: true });
      const valueFile = path.join(dir, 'value.gguf');
      const rolloutsFile = path.join(dir, 'rollouts.jsonl');

      if (rec.status !== 'done') {
        let scored: ScoredRollout[];
        if (rec.status === 'pending' || !existsSync(rolloutsFile)) {
          scored = await this.rolloutAndScore(rec, values);
          await writeFileAtomic(rolloutsFile, scored.map((r) => JSON.stringify(r)).join('\n') + '\n');
          rec.status = 'rolled-out';
          await this.saveManifest(manifest);
        } else {
          scored = (await fs.readFile(rolloutsFile, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as ScoredRollout);
        }
        const examples: ValueExample[] = scored
          .filter((r) => r.weight > 0 && r.reward !== undefined)
          .map((r) => ({ promptTokens: r.promptTokens, responseTokens: r.responseTokens, reward: r.reward!, weight: r.weight, ended: r.finished }));
        const warm = o.warmStart && values.length > 0 ? values[values.length - 1]!.value : undefined;
        const vf = await o.backend.trainValue({
          examples, iteration: t, beta: o.betas[t - 1]!, seed: rec.seed, warmStart: warm, signal: o.signal,
          onProgress: (done, total) => o.onProgress?.({ iteration: t, stage: 'value', done, total }),
        });
        await vf.save(valueFile);
        const ok = scored.filter((r) => r.reward !== undefined);
        const kept = scored.filter((r) => r.weight > 0);
        rec.metrics = {
          rollouts: scored.length,
          rewardFailures: scored.length - ok.length,
          meanReward: mean(ok.map((r) => r.reward!)),
          keptSamples: kept.length,
          keptMeanReward: mean(kept.map((r) => r.reward!)),
          value: vf.report,
        };
        await writeJsonAtomic(path.join(dir, 'metrics.json'), { iteration: t, ...rec.metrics });
        rec.status = 'done';
        await this.saveManifest(manifest);
        o.onProgress?.({ iteration: t, stage: 'metrics', done: 1, total: 1 });
      }
      values.push({ value: await o.backend.loadValue(valueFile), beta: o.betas[t - 1]! });
    }
    return manifest;
  }

  private async rolloutAndScore(rec: IterationRecord, values: { value: V; beta: number }[]): Promise<ScoredRollout[]> {
    const o = this.options;
    const t = rec.iteration;
    const prompts = o.prompts.slice(rec.prompts[0], rec.prompts[1]);
    const rollouts = await o.backend.rollouts({
      prompts, firstPromptIndex: rec.prompts[0], values: [...values], perPrompt: o.rolloutsPerPrompt, seed: rec.seed, signal: o.signal,
      onProgress: (done, total) => o.onProgress?.({ iteration: t, stage: 'rollouts', done, total }),
    });
    const outcomes: RewardOutcome[] = await scoreRewards(o.reward, rollouts.map((r) => ({ prompt: r.prompt, response: r.response })), {
      signal: o.signal,
      onProgress: (done, total) => o.onProgress?.({ iteration: t, stage: 'rewards', done, total }),
    });
    const failures = outcomes.filter((x) => !x.ok);
    if (failures.length > o.maxRewardFailureFraction * outcomes.length) {
      const reasons = [...new Set(failures.map((f) => (f as { reason: string }).reason))].slice(0, 3).join('; ');
      throw new IroError('REWARD_FAILED', `iteration ${t}: ${failures.length} of ${outcomes.length} rewards failed (limit ${Math.round(o.maxRewardFailureFraction * 100)}%): ${reasons}. Finished iterations are kept in ${o.runDir}; fix the reward and resume.`);
    }
    const scored: ScoredRollout[] = rollouts.map((r, i) => {
      const out = outcomes[i]!;
      return out.ok ? { ...r, reward: out.score, weight: 0 } : { ...r, failed: out.reason, weight: 0 };
    });
    const byPrompt = new Map<number, ScoredRollout[]>();
    for (const r of scored) byPrompt.set(r.promptIndex, [...(byPrompt.get(r.promptIndex) ?? []), r]);
    for (const group of byPrompt.values()) {
      const w = reweight(group.map((r) => r.reward), o.resampleTemperature);
      group.forEach((r, i) => (r.weight = w[i]!));
    }
    return scored;
  }
}
