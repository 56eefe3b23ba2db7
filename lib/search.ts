/**
 * Value-guided chunk-level search (DESIGN.md §6): options, validation, result types, the JS-side
 * reward rerank, and the driver that submits one search per prompt to the engine's native
 * scheduler (bindings/engine_search_binding.cpp -> native/search).
 */
import { awaitNative, callNative, invalidArgument, IroError, throwIfAborted } from './errors.js';
import { native } from './native.js';
import { scoreRewards, type Reward } from './reward-scoring.js';

export type SearchStrategy = 'diverse' | 'topw' | 'group' | 'softmax';
export type SearchRerank = 'value' | 'reward' | 'none';

/** A value function: a ValueFunction (anything with a value-file `source` path or a native handle) or a value-file path. */
export type SearchValueFunction = string | { readonly source?: string; readonly handle?: unknown };

export interface SearchValue {
  vf: SearchValueFunction;
  /** score = sum_i V_i / beta_i. Default: the value function's own beta, else 1. */
  beta?: number;
}

/** Streamed after each selection (and once at the end): the current best beam of one prompt. */
export interface SearchChunk {
  promptIndex: number;
  chunk: number;
  /** Candidate index of the best kept beam. */
  index: number;
  text: string;
  tokens: number[];
  score: number;
  live: number;
  final: boolean;
}

export interface SearchOptions {
  /** Text (tokenized with the model's special tokens) or token ids; or `prompts` for several. */
  prompt?: string | readonly number[];
  prompts?: readonly (string | readonly number[])[];
  /** Value functions with their beta; none = every candidate scores 0 (plain sampling / Best-of-N). */
  values?: readonly SearchValue[];
  /** Beams kept at each chunk boundary. Default 4. */
  w?: number;
  /** Children per kept beam. Default 4. */
  k?: number;
  /** Tokens per chunk. Default 8. */
  l?: number;
  /** Response tokens per candidate. Default 64. */
  maxTokens?: number;
  /** Default 0.7 (0 = greedy). */
  temperature?: number;
  /** Default 50 (0 = no limit). */
  topK?: number;
  /** Default 1. */
  topP?: number;
  /** Default 0. */
  minP?: number;
  /** Parent selection. Default 'diverse'. */
  strategy?: SearchStrategy;
  /** 'softmax' strategy: weights exp(score / T). Default 1. */
  selectionTemperature?: number;
  /** Final order of the candidates. Default 'value' ('reward' when a reward is given and rerank is unset). */
  rerank?: SearchRerank;
  /** Needed for rerank 'reward'. A reward that throws or returns a non-finite number fails that candidate only. */
  reward?: Reward;
  /** Default 0. Same seed => same result, whatever runs alongside. */
  seed?: number;
  signal?: AbortSignal;
  onChunk?: (chunk: SearchChunk) => void;
}

export interface SearchCandidate {
  /** Candidate index inside the request (part of the RNG key). */
  index: number;
  parent: number;
  text: string;
  tokens: number[];
  /** Combined value sum_i V_i / beta_i of the final state. */
  value: number;
  /** V_i of every value function, in option order. */
  values: number[];
  /** Reward when reranked by reward; undefined when the reward failed (see rewardError). */
  reward?: number;
  rewardError?: string;
  /** True when the candidate ended by itself (end of generation), false when cut by maxTokens. */
  finished: boolean;
  finishReason: 'stop' | 'length';
}

export interface SearchStats {
  promptTokens: number;
  tokensSampled: number;
  /** Prompt + generated tokens put through llama_decode. */
  tokensEvaluated: number;
  /** Prefix states scored (each by every value function). */
  valueEvaluations: number;
  chunks: number;
  forks: number;
  prunes: number;
  decodeSteps: number;
  maxLiveSequences: number;
  /** KV cells this request held at its peak (seen at chunk boundaries). */
  peakKvCells: number;
  time: { queueMs: number; prefillMs: number; decodeMs: number; sampleMs: number; featurizeScoreMs: number; selectMs: number; rewardMs: number; totalMs: number };
}

export interface SearchResult {
  /** Text, tokens and score of the best candidate (after the rerank). */
  text: string;
  tokens: number[];
  /** Its reward when reranked by reward, else its value. */
  score: number;
  /** All final candidates, best first. */
  candidates: SearchCandidate[];
  stats: SearchStats;
}

export const SEARCH_DEFAULTS = {
  w: 4,
  k: 4,
  l: 8,
  maxTokens: 64,
  temperature: 0.7,
  topK: 50,
  topP: 1,
  minP: 0,
  strategy: 'diverse' as SearchStrategy,
  selectionTemperature: 1,
  rerank: 'value' as SearchRerank,
  seed: 0,
} as const;

export interface ResolvedSearchOptions {
  prompts: (string | readonly number[])[];
  values: { vf: SearchValueFunction; beta: number }[];
  w: number;
  k: number;
  l: number;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  strategy: SearchStrategy;
  selectionTemperature: number;
  rerank: SearchRerank;
  reward?: Reward;
  seed: number;
}

function int(name: string, v: unknown, fallback: number, min: number, max = 2 ** 31 - 1): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalidArgument(`${name} must be an integer in [${min}, ${max}] (got ${String(v)})`);
  return v;
}

function num(name: string, v: unknown, fallback: number, ok: (x: number) => boolean, range: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw invalidArgument(`${name} must be a number ${range} (got ${String(v)})`);
  return v;
}

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw invalidArgument(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${String(v)})`);
  return v as T;
}

function betaOf(vf: SearchValueFunction): number | undefined {
  if (typeof vf === 'object' && vf !== null) {
    const b = (vf as { beta?: unknown }).beta;
    if (typeof b === 'number') return b;
  }
  return undefined;
}

/** Applies the defaults and checks every option; throws IroError(INVALID_ARGUMENT) naming the first bad one. */
export function resolveSearchOptions(o: SearchOptions): ResolvedSearchOptions {
  if (!o || typeof o !== 'object') throw invalidArgument('search needs an options object with a prompt');
  if ((o.prompt === undefined) === (o.prompts === undefined)) throw invalidArgument('give exactly one of prompt or prompts');
  const prompts = o.prompts !== undefined ? [...o.prompts] : [o.prompt!];
  if (!Array.isArray(o.prompts) && o.prompts !== undefined) throw invalidArgument('prompts must be an array');
  if (prompts.length === 0) throw invalidArgument('prompts is empty');
  for (const [i, p] of prompts.entries()) {
    if (typeof p !== 'string' && !Array.isArray(p)) throw invalidArgument(`prompt ${i} must be a string or an array of token ids`);
  }
  if (o.values !== undefined && !Array.isArray(o.values)) throw invalidArgument('values must be an array of { vf, beta }');
  const values = (o.values ?? []).map((v, i) => {
    if (!v || typeof v !== 'object' || v.vf === undefined || v.vf === null) throw invalidArgument(`values[${i}] must be { vf: ValueFunction | path, beta? }`);
    const beta = num(`values[${i}].beta`, v.beta ?? betaOf(v.vf), 1, (x) => x > 0, '> 0');
    return { vf: v.vf, beta };
  });
  const w = int('w', o.w, SEARCH_DEFAULTS.w, 1, 256);
  const k = int('k', o.k, SEARCH_DEFAULTS.k, 1, 256);
  const l = int('l', o.l, SEARCH_DEFAULTS.l, 1);
  const maxTokens = int('maxTokens', o.maxTokens, SEARCH_DEFAULTS.maxTokens, 1);
  const temperature = num('temperature', o.temperature, SEARCH_DEFAULTS.temperature, (x) => x >= 0, '>= 0');
  const topK = int('topK', o.topK, SEARCH_DEFAULTS.topK, 0);
  const topP = num('topP', o.topP, SEARCH_DEFAULTS.topP, (x) => x > 0 && x <= 1, 'in (0, 1]');
  const minP = num('minP', o.minP, SEARCH_DEFAULTS.minP, (x) => x >= 0 && x < 1, 'in [0, 1)');
  const strategy = oneOf('strategy', o.strategy, ['diverse', 'topw', 'group', 'softmax'] as const, SEARCH_DEFAULTS.strategy);
  const selectionTemperature = num('selectionTemperature', o.selectionTemperature, SEARCH_DEFAULTS.selectionTemperature, (x) => x > 0, '> 0');
  const rerank = oneOf('rerank', o.rerank, ['value', 'reward', 'none'] as const, o.reward !== undefined ? 'reward' : SEARCH_DEFAULTS.rerank);
  if (rerank === 'reward' && o.reward === undefined) throw invalidArgument("rerank 'reward' needs a reward (prompt, response) => number");
  if (o.reward !== undefined && typeof o.reward !== 'function' && typeof (o.reward as { scoreBatch?: unknown }).scoreBatch !== 'function') {
    throw invalidArgument('reward must be a function (prompt, response) => number or a batch reward');
  }
  const seed = int('seed', o.seed, SEARCH_DEFAULTS.seed, 0, Number.MAX_SAFE_INTEGER);
  if (o.onChunk !== undefined && typeof o.onChunk !== 'function') throw invalidArgument('onChunk must be a function');
  const r: ResolvedSearchOptions = { prompts, values, w, k, l, maxTokens, temperature, topK, topP, minP, strategy, selectionTemperature, rerank, seed };
  if (o.reward !== undefined) r.reward = o.reward;
  return r;
}

/** What the native search returns for one prompt (engineSearchSubmit). */
export interface RawSearchResult {
  candidates: {
    index: number;
    parent: number;
    tokens: Int32Array;
    logprobs: Float32Array;
    text: string;
    finishReason: 'stop' | 'length' | 'pruned' | 'none';
    value: number;
    values: Float32Array;
  }[];
  ranking: Int32Array;
  order: Int32Array;
  stats: Omit<SearchStats, 'time'> & { time: Omit<SearchStats['time'], 'rewardMs'> };
}

/**
 * Scores each candidate with the reward and stores it (or the failure reason) on the candidate.
 * A reward that throws or returns a non-finite number marks that candidate only; never throws for it.
 */
export async function scoreCandidatesByReward(prompt: string, candidates: SearchCandidate[], reward: Reward, signal?: AbortSignal): Promise<void> {
  const outcomes = await scoreRewards(reward, candidates.map((c) => ({ prompt, response: c.text })), signal ? { signal } : {});
  outcomes.forEach((out, i) => {
    const c = candidates[i]!;
    if (out.ok) c.reward = out.score;
    else c.rewardError = out.reason;
  });
}

/** Orders candidates best first: by reward (failed rewards last, ties by value), by value, or in the search's own order. */
export function rankCandidates(candidates: SearchCandidate[], rerank: SearchRerank, order: readonly number[] = []): SearchCandidate[] {
  const byValue = (a: SearchCandidate, b: SearchCandidate) => (b.value - a.value) || (a.index - b.index);
  const out = [...candidates];
  if (rerank === 'value') return out.sort(byValue);
  if (rerank === 'reward') {
    return out.sort((a, b) => {
      const ra = a.reward ?? -Infinity;
      const rb = b.reward ?? -Infinity;
      return ra !== rb ? rb - ra : byValue(a, b);
    });
  }
  const pos = new Map(order.map((idx, i) => [idx, i]));
  return out.sort((a, b) => (pos.get(a.index) ?? Infinity) - (pos.get(b.index) ?? Infinity) || a.index - b.index);
}

/** Builds the public result of one prompt from the native one; reranks by reward when asked. */
export async function finishSearchResult(raw: RawSearchResult, prompt: string, o: ResolvedSearchOptions, signal?: AbortSignal): Promise<SearchResult> {
  let candidates: SearchCandidate[] = raw.candidates
    .filter((c) => c.finishReason !== 'pruned')
    .map((c) => ({
      index: c.index,
      parent: c.parent,
      text: c.text,
      tokens: Array.from(c.tokens),
      value: c.value,
      values: Array.from(c.values),
      finished: c.finishReason === 'stop',
      finishReason: c.finishReason === 'stop' ? 'stop' : 'length',
    }));
  let rewardMs = 0;
  if (o.rerank === 'reward' && o.reward !== undefined) {
    const t0 = performance.now();
    await scoreCandidatesByReward(prompt, candidates, o.reward, signal);
    rewardMs = performance.now() - t0;
  }
  candidates = rankCandidates(candidates, o.rerank, Array.from(raw.order));
  const best = candidates[0];
  if (!best) throw new IroError('INTERNAL', 'the search returned no candidate');
  const score = o.rerank === 'reward' ? (best.reward ?? -Infinity) : best.value;
  const stats: SearchStats = { ...raw.stats, time: { ...raw.stats.time, rewardMs, totalMs: raw.stats.time.totalMs + rewardMs } };
  return { text: best.text, tokens: best.tokens, score, candidates, stats };
}

type Handle = unknown;

/** Native functions this module calls (engine_search_binding.cpp + the engine's tokenizer/abort). */
export interface SearchNative {
  engineSearchSubmit(h: Handle, request: Record<string, unknown>, values: unknown[], onChunk?: (c: Omit<SearchChunk, 'promptIndex' | 'tokens'> & { tokens: Int32Array }) => void): { id: number; promise: Promise<RawSearchResult> };
  engineAbort(h: Handle, id: number): void;
  engineRelease(h: Handle): void;
  engineTokenize(h: Handle, text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  engineDetokenize(h: Handle, tokens: Int32Array, special: boolean): string;
}

function addon(): SearchNative {
  return native() as unknown as SearchNative;
}

/** What the native side accepts for a value function: its native handle (shared), else a file path. */
function valueArg(vf: SearchValueFunction, i: number): unknown {
  if (typeof vf === 'string') return vf;
  if (vf && typeof vf === 'object' && 'handle' in vf && vf.handle !== undefined) return vf.handle; // DISPOSED when disposed
  if (typeof vf?.source === 'string') return vf.source;
  throw invalidArgument(`values[${i}].vf must be a ValueFunction or a value-file path`);
}

/**
 * Runs a search for every prompt on the engine behind `handle` (prompt i gets request index i; all
 * share the scheduler's steps). Engine.decode calls this in search mode.
 */
export async function runSearch(handle: Handle, options: SearchOptions): Promise<SearchResult[]> {
  const o = resolveSearchOptions(options);
  const { signal, onChunk } = options;
  throwIfAborted(signal, 'search');
  const values = o.values.map((v, i) => valueArg(v.vf, i));
  const betas = new Float32Array(o.values.map((v) => v.beta));
  // All prompts are submitted as one group (held until the last), so they are admitted together
  // the same way every time.
  const last = o.prompts.length - 1;
  const submitted: { id: number; promise: Promise<RawSearchResult>; text: string }[] = [];
  try {
    o.prompts.forEach((p, promptIndex) => {
    const tokens = typeof p === 'string' ? callNative(() => addon().engineTokenize(handle, p, true, false)) : Int32Array.from(p);
    const text = typeof p === 'string' ? p : callNative(() => addon().engineDetokenize(handle, tokens, false));
    const request: Record<string, unknown> = {
      prompt: tokens, w: o.w, k: o.k, l: o.l, maxTokens: o.maxTokens, temperature: o.temperature, topK: o.topK, topP: o.topP, minP: o.minP,
      strategy: o.strategy, selectionTemperature: o.selectionTemperature, rerank: o.rerank, seed: o.seed, requestIndex: promptIndex, betas,
      hold: promptIndex < last,
    };
    const cb = onChunk
      ? (c: Omit<SearchChunk, 'promptIndex' | 'tokens'> & { tokens: Int32Array }) => {
          try {
            onChunk({ ...c, tokens: Array.from(c.tokens), promptIndex });
          } catch {
            // A failing onChunk must not stop the search.
          }
        }
      : undefined;
    const sub = callNative(() => addon().engineSearchSubmit(handle, request, values, cb));
    submitted.push({ ...sub, text });
    });
  } catch (e) {
    // A prompt failed validation: let the held ones go and stop them.
    addon().engineRelease(handle);
    for (const s of submitted) addon().engineAbort(handle, s.id);
    await Promise.allSettled(submitted.map((s) => s.promise));
    throw e;
  }
  const onAbort = () => {
    for (const s of submitted) addon().engineAbort(handle, s.id);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const raws = await Promise.all(submitted.map((s) => awaitNative(s.promise))).catch((e: unknown) => {
      onAbort();  // one prompt failed: stop the others (already settled ids are ignored)
      throw e;
    });
    return await Promise.all(raws.map((raw, i) => finishSearchResult(raw, submitted[i]!.text, o, signal)));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
