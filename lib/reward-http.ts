import { IroError } from './errors.js';
import type { BatchReward, RewardItem, RewardOutcome } from './reward-scoring.js';

export interface HttpRewardOptions {
  /** Items per POST (default 32). */
  batchSize?: number;
  /** Per-request timeout in ms (default 30000). */
  timeoutMs?: number;
  /** Retries after the first attempt, for network errors, timeouts, 408, 429 and 5xx (default 3). */
  retries?: number;
  /** First backoff in ms, doubled each retry (default 250). */
  backoffMs?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  headers?: Record<string, string>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new IroError('ABORTED', 'reward scoring was aborted'));
    }, { once: true });
  });

class RetryableError extends Error {}

/**
 * A reward served over HTTP: POSTs `{ items: [{ prompt, response }] }` and reads
 * `{ scores: number[] }` (same length and order). A batch that still fails after the retries fails
 * its items (with the reason); a non-finite score fails that item only.
 */
export function httpReward(url: string, options: HttpRewardOptions = {}): BatchReward {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new IroError('INVALID_ARGUMENT', `reward URL is not valid: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new IroError('INVALID_ARGUMENT', `reward URL must be http(s): ${url}`);
  const batchSize = options.batchSize ?? 32;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const retries = options.retries ?? 3;
  const backoffMs = options.backoffMs ?? 250;
  const concurrency = options.concurrency ?? 4;
  for (const [k, v] of Object.entries({ batchSize, timeoutMs, concurrency })) {
    if (!Number.isInteger(v) || v < 1) throw new IroError('INVALID_ARGUMENT', `${k} must be a positive integer (got ${v})`);
  }
  if (!Number.isInteger(retries) || retries < 0) throw new IroError('INVALID_ARGUMENT', `retries must be a non-negative integer (got ${retries})`);

  async function postOnce(items: RewardItem[], signal?: AbortSignal): Promise<number[]> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(parsed, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: JSON.stringify({ items }),
        signal: combined,
      });
    } catch (e) {
      if (signal?.aborted) throw new IroError('ABORTED', 'reward scoring was aborted');
      throw new RetryableError(timeout.aborted ? `timed out after ${timeoutMs} ms` : `request failed: ${(e as Error).message}`);
    }
    if (!res.ok) {
      const msg = `HTTP ${res.status} ${res.statusText}`;
      if (res.status === 408 || res.status === 429 || res.status >= 500) throw new RetryableError(msg);
      throw new Error(msg);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new Error('response is not JSON');
    }
    const scores = (body as { scores?: unknown })?.scores;
    if (!Array.isArray(scores) || scores.length !== items.length) {
      throw new Error(`response must be {"scores": [...]} with ${items.length} entries`);
    }
    return scores as number[];
  }

  async function postBatch(items: RewardItem[], signal?: AbortSignal): Promise<RewardOutcome[]> {
    let lastError = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1), signal);
      try {
        const scores = await postOnce(items, signal);
        return scores.map((s) => (typeof s === 'number' && Number.isFinite(s) ? { ok: true, score: s } : { ok: false, reason: `reward endpoint returned a non-finite score (${JSON.stringify(s)})` }));
      } catch (e) {
        if (e instanceof IroError) throw e;
        lastError = (e as Error).message;
        if (!(e instanceof RetryableError)) break;
      }
    }
    return items.map(() => ({ ok: false as const, reason: `reward endpoint ${parsed.href}: ${lastError}` }));
  }

  return {
    name: parsed.href,
    async scoreBatch(items, signal) {
      const batches: RewardItem[][] = [];
      for (let i = 0; i < items.length; i += batchSize) batches.push(items.slice(i, i + batchSize));
      const results = new Array<RewardOutcome[]>(batches.length);
      let next = 0;
      const worker = async () => {
        for (;;) {
          const b = next++;
          if (b >= batches.length) return;
          results[b] = await postBatch(batches[b]!, signal);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
      return results.flat();
    },
  };
}
