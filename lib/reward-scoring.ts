import { IroError, throwIfAborted } from './errors.js';

/** A reward: higher is better. May be async. Throwing or returning a non-finite number fails that sample only. */
export type RewardFn = (prompt: string, response: string) => number | Promise<number>;

export interface RewardItem {
  prompt: string;
  response: string;
}

export type RewardOutcome = { ok: true; score: number } | { ok: false; reason: string };

/** A reward that scores many items per call (e.g. an HTTP endpoint). */
export interface BatchReward {
  readonly name: string;
  scoreBatch(items: RewardItem[], signal?: AbortSignal): Promise<RewardOutcome[]>;
}

export type Reward = RewardFn | BatchReward;

export interface ScoreOptions {
  /** Concurrent calls of a function reward (default 8). */
  concurrency?: number;
  /** Per-item timeout for a function reward in ms (default 30000). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export function isBatchReward(r: Reward): r is BatchReward {
  return typeof r === 'object' && r !== null && typeof (r as BatchReward).scoreBatch === 'function';
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Scores every item; failures are recorded per item with their reason, never thrown. */
export async function scoreRewards(reward: Reward, items: RewardItem[], options: ScoreOptions = {}): Promise<RewardOutcome[]> {
  const { signal, onProgress } = options;
  throwIfAborted(signal, 'reward scoring');
  if (isBatchReward(reward)) {
    const out = await reward.scoreBatch(items, signal);
    if (out.length !== items.length) throw new IroError('INTERNAL', `reward ${reward.name} returned ${out.length} outcomes for ${items.length} items`);
    onProgress?.(items.length, items.length);
    return out;
  }
  if (typeof reward !== 'function') throw new IroError('INVALID_ARGUMENT', 'reward must be a function (prompt, response) => number or a batch reward');
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const out = new Array<RewardOutcome>(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      throwIfAborted(signal, 'reward scoring');
      const { prompt, response } = items[i]!;
      try {
        const v = await withTimeout(Promise.resolve().then(() => reward(prompt, response)), timeoutMs);
        out[i] = typeof v === 'number' && Number.isFinite(v) ? { ok: true, score: v } : { ok: false, reason: `reward returned a non-finite value (${String(v)})` };
      } catch (e) {
        out[i] = { ok: false, reason: `reward threw ${describeError(e)}` };
      }
      onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
