/**
 * The decoding engine on llama.cpp: one context with a unified KV cache, a native scheduler that
 * advances every live sequence of every concurrent request in one llama_decode per step, our
 * sampler with a counter-based RNG, prompt-once-then-fork, Best-of-N.
 */
import { awaitNative, callNative, invalidArgument, IroError, throwIfAborted } from './errors.js';
import { native } from './native.js';
import { runSearch, type SearchOptions, type SearchResult, type SearchValue } from './search.js';
import { resolveThreads } from './threads.js';
import type {
  ChatMessage,
  DecodeCandidate,
  DecodeOptions,
  DecodeResult,
  EngineInfo,
  EngineLoadOptions,
  EngineStats,
  EngineVocab,
  FinishReason,
} from './engine-types.js';

export type * from './engine-types.js';

type Handle = { readonly __engineHandle: unique symbol };

interface RawCandidate {
  index: number;
  parent: number;
  tokens: Int32Array;
  logprobs: Float32Array;
  text: string;
  finishReason: FinishReason;
  hidden?: Float32Array;
}
interface RawResult {
  candidates: RawCandidate[];
  stats: Omit<DecodeResult['stats'], 'time'> & { time: Omit<DecodeResult['stats']['time'], 'scoreMs'> };
}

/** Native functions of the engine area. */
export interface EngineNative {
  engineLoad(path: string, options: Record<string, number>, onProgress?: (p: number) => void): { promise: Promise<Handle>; cancel(): void };
  engineDispose(h: Handle): Promise<void>;
  engineInfo(h: Handle): EngineInfo;
  engineTokenize(h: Handle, text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  engineDetokenize(h: Handle, tokens: Int32Array, special: boolean): string;
  engineApplyChatTemplate(h: Handle, messages: ChatMessage[], addAssistant: boolean): string;
  engineSubmit(h: Handle, request: Record<string, unknown>): { id: number; promise: Promise<RawResult> };
  engineAbort(h: Handle, id: number): void;
  engineRelease(h: Handle): void;
  engineStats(h: Handle): EngineStats;
  engineReferenceGreedy(h: Handle, prompt: Int32Array, maxTokens: number): Promise<Int32Array>;
  engineReferenceLogits(h: Handle, tokens: Int32Array): Promise<Float32Array>;
}

const addon = (): EngineNative => native() as unknown as EngineNative;

function checkInt(name: string, v: number | undefined, min: number, max: number): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < min || v > max) throw invalidArgument(`${name} must be an integer in [${min}, ${max}] (got ${v})`);
}

function checkNumber(name: string, v: number | undefined): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw invalidArgument(`${name} must be a finite number (got ${String(v)})`);
}

export class Engine implements AsyncDisposable {
  readonly info: EngineInfo;
  /** Vocabulary size and fingerprint (value files record it). */
  readonly vocab: EngineVocab;
  #handle: Handle | undefined;
  #disposing: Promise<void> | undefined;

  private constructor(handle: Handle) {
    this.#handle = handle;
    this.info = callNative(() => addon().engineInfo(handle));
    this.vocab = this.info.vocab;
  }

  /** Loads a GGUF model off the JS thread and creates the engine's context. */
  static async load(options: EngineLoadOptions): Promise<Engine> {
    if (!options || typeof options.model !== 'string') throw invalidArgument('Engine.load needs { model: "<path to a .gguf file>" }');
    checkInt('contextSize', options.contextSize, 16, 1 << 24);
    checkInt('maxSequences', options.maxSequences, 1, 256);
    checkInt('gpuLayers', options.gpuLayers, -1, 1 << 20);
    checkInt('poll', options.poll, -1, 100);
    const threads = resolveThreads(options.threads);
    throwIfAborted(options.signal, 'Engine.load');
    const opts: Record<string, number> = { threads };
    if (options.contextSize !== undefined) opts.contextSize = options.contextSize;
    if (options.maxSequences !== undefined) opts.maxSequences = options.maxSequences;
    if (options.gpuLayers !== undefined) opts.gpuLayers = options.gpuLayers;
    if (options.poll !== undefined) opts.poll = options.poll;
    const { promise, cancel } = callNative(() => addon().engineLoad(options.model, opts, options.onProgress));
    const onAbort = () => cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const handle = await awaitNative(promise);
      if (options.signal?.aborted) {
        await addon().engineDispose(handle);
        throwIfAborted(options.signal, 'Engine.load');
      }
      return new Engine(handle);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  #live(): Handle {
    if (!this.#handle || this.#disposing) throw new IroError('DISPOSED', 'the engine has been disposed; load a new one with Engine.load');
    return this.#handle;
  }

  /** Text -> token ids (adds BOS etc. when the model asks for it, unless addSpecial is false). */
  tokenize(text: string, options: { addSpecial?: boolean; parseSpecial?: boolean } = {}): number[] {
    if (typeof text !== 'string') throw invalidArgument('text must be a string');
    const h = this.#live();
    return Array.from(callNative(() => addon().engineTokenize(h, text, options.addSpecial ?? true, options.parseSpecial ?? false)));
  }

  /** Token ids -> text. */
  detokenize(tokens: readonly number[], options: { special?: boolean } = {}): string {
    const h = this.#live();
    return callNative(() => addon().engineDetokenize(h, toTokens(tokens, 'tokens'), options.special ?? false));
  }

  /** Formats messages with the chat template stored in the GGUF. */
  applyChatTemplate(messages: readonly ChatMessage[], options: { addAssistant?: boolean } = {}): string {
    if (!Array.isArray(messages)) throw invalidArgument('messages must be an array of { role, content }');
    const h = this.#live();
    return callNative(() => addon().engineApplyChatTemplate(h, messages as ChatMessage[], options.addAssistant ?? true));
  }

  /** KV-cache and scheduler counters. */
  stats(): EngineStats {
    const h = this.#live();
    return callNative(() => addon().engineStats(h));
  }

  /**
   * Decodes one prompt: `n` sampled continuations ('sample'), or Best-of-N ranked by `scorer`.
   * Concurrent calls share decode steps. The signal stops the request between steps (ABORTED).
   */
  decode(options: SearchDecodeOptions & { prompts: readonly (string | readonly number[])[] }): Promise<SearchResult[]>;
  decode(options: SearchDecodeOptions & ({ values: readonly SearchValue[] } | { mode: 'search' })): Promise<SearchResult>;
  decode(options: DecodeOptions): Promise<DecodeResult>;
  async decode(options: DecodeOptions | SearchDecodeOptions): Promise<DecodeResult | SearchResult | SearchResult[]> {
    if (!options || typeof options !== 'object') throw invalidArgument('decode needs an options object with a prompt');
    if (isSearch(options)) {
      const { mode: _mode, ...search } = options as SearchDecodeOptions;
      const results = await runSearch(this.#live(), search);
      return search.prompts !== undefined ? results : results[0]!;
    }
    return this.#decodePlain(options as DecodeOptions);
  }

  async #decodePlain(options: DecodeOptions, hold = false): Promise<DecodeResult> {
    const mode = options.mode ?? 'sample';
    if (mode !== 'sample' && mode !== 'best-of-n') throw invalidArgument(`mode must be 'sample' or 'best-of-n' (got ${String(mode)})`);
    if (mode === 'best-of-n' && typeof options.scorer !== 'function') throw invalidArgument("mode 'best-of-n' needs a scorer(prompt, response) function");
    const n = options.n ?? (mode === 'best-of-n' ? 4 : 1);
    checkInt('n', n, 1, 256);
    checkInt('maxTokens', options.maxTokens, 1, 1 << 24);
    checkInt('seed', options.seed, 0, Number.MAX_SAFE_INTEGER);
    checkInt('requestIndex', options.requestIndex, 0, 2 ** 31 - 1);
    checkInt('topK', options.topK, 0, 2 ** 31 - 1);
    checkNumber('temperature', options.temperature);
    checkNumber('topP', options.topP);
    checkNumber('minP', options.minP);
    throwIfAborted(options.signal, 'decode');
    const h = this.#live();
    const promptTokens = typeof options.prompt === 'string' ? callNative(() => addon().engineTokenize(h, options.prompt as string, true, false)) : toTokens(options.prompt, 'prompt');
    const promptText = typeof options.prompt === 'string' ? options.prompt : callNative(() => addon().engineDetokenize(h, promptTokens, false));
    const request: Record<string, unknown> = { prompt: promptTokens, n, hiddenStates: options.hiddenStates ?? false, hold };
    for (const k of ['maxTokens', 'temperature', 'topK', 'topP', 'minP', 'seed', 'requestIndex'] as const) {
      if (options[k] !== undefined) request[k] = options[k];
    }
    const { id, promise } = callNative(() => addon().engineSubmit(h, request));
    const onAbort = () => addon().engineAbort(h, id);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let raw: RawResult;
    try {
      raw = await awaitNative(promise);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    const candidates: DecodeCandidate[] = raw.candidates.map((c) => {
      const logprobs = Array.from(c.logprobs);
      const cand: DecodeCandidate = {
        index: c.index,
        parent: c.parent,
        tokens: Array.from(c.tokens),
        logprobs,
        logprob: logprobs.reduce((a, b) => a + b, 0),
        text: c.text,
        finishReason: c.finishReason,
      };
      if (c.hidden) cand.hidden = c.hidden;
      return cand;
    });
    let best = candidates[0]!;
    let scoreMs = 0;
    if (mode === 'best-of-n') {
      const t0 = performance.now();
      best = await rankByScorer(promptText, candidates, options.scorer!, options.signal);
      scoreMs = performance.now() - t0;
    }
    const stats = { ...raw.stats, time: { ...raw.stats.time, scoreMs, totalMs: raw.stats.time.totalMs + scoreMs } };
    return { text: best.text, best, candidates, stats };
  }

  /** Decodes several prompts concurrently; prompt i gets requestIndex i (same seed for all). */
  async decodeBatch(
    prompts: readonly (string | readonly number[])[],
    options: Omit<DecodeOptions, 'prompt' | 'requestIndex'> & { firstRequestIndex?: number } = {},
  ): Promise<DecodeResult[]> {
    if (!Array.isArray(prompts)) throw invalidArgument('prompts must be an array');
    const { firstRequestIndex = 0, ...rest } = options;
    checkInt('firstRequestIndex', firstRequestIndex, 0, 2 ** 31 - 1);
    // One group: every request is held until the last is submitted, so the group is admitted the
    // same way every time (results then never depend on thread timing).
    const stop = new AbortController();
    const signal = rest.signal ? AbortSignal.any([rest.signal, stop.signal]) : stop.signal;
    const last = prompts.length - 1;
    const pending = prompts.map((prompt, i) => this.#decodePlain({ ...rest, signal, prompt, requestIndex: firstRequestIndex + i }, i < last));
    try {
      return await Promise.all(pending);
    } catch (e) {
      if (this.#handle) addon().engineRelease(this.#handle);
      stop.abort();
      await Promise.allSettled(pending);
      throw e;
    }
  }

  /** Frees the context and the model; in-flight requests reject with DISPOSED. Idempotent. */
  dispose(): Promise<void> {
    if (!this.#handle) return Promise.resolve();
    this.#disposing ??= awaitNative(addon().engineDispose(this.#handle)).finally(() => {
      this.#handle = undefined;
    });
    return this.#disposing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  /** @internal Test hooks: llama.cpp's own reference paths on the same model. */
  get _reference(): { greedy(prompt: readonly number[], maxTokens: number): Promise<number[]>; logits(tokens: readonly number[]): Promise<Float32Array> } {
    return {
      greedy: async (prompt, maxTokens) => Array.from(await awaitNative(addon().engineReferenceGreedy(this.#live(), toTokens(prompt, 'prompt'), maxTokens))),
      logits: (tokens) => awaitNative(addon().engineReferenceLogits(this.#live(), toTokens(tokens, 'tokens'))),
    };
  }
}

function toTokens(tokens: readonly number[] | ArrayLike<number>, name: string): Int32Array {
  if (tokens === null || typeof tokens !== 'object' || typeof (tokens as ArrayLike<number>).length !== 'number') {
    throw invalidArgument(`${name} must be a string or an array of token ids`);
  }
  const out = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t > 2 ** 31 - 1) throw invalidArgument(`${name}[${i}] is not a token id (got ${String(t)})`);
    out[i] = t;
  }
  return out;
}

async function rankByScorer(prompt: string, candidates: DecodeCandidate[], scorer: NonNullable<DecodeOptions['scorer']>, signal?: AbortSignal): Promise<DecodeCandidate> {
  for (const c of candidates) {
    throwIfAborted(signal, 'decode');
    try {
      const s = await scorer(prompt, c.text, c);
      if (typeof s !== 'number' || !Number.isFinite(s)) throw new Error(`scorer returned ${String(s)}, expected a finite number`);
      c.score = s;
    } catch (e) {
      c.score = -Infinity;
      c.scoreError = e instanceof Error ? e.message : String(e);
    }
  }
  const scored = candidates.filter((c) => c.scoreError === undefined);
  if (scored.length === 0) {
    throw new IroError('REWARD_FAILED', `the scorer failed for every candidate (first error: ${candidates[0]?.scoreError ?? 'none'}); fix the reward function`);
  }
  // Highest score; ties go to the lower candidate index (stable, seed-determined).
  return scored.reduce((a, b) => (b.score! > a.score! ? b : a));
}

/**
 * Search mode of `engine.decode` (DESIGN.md §6): chosen by `mode: 'search'` or by any search option
 * (`values`, `prompts`, `w`, `k`, `l`, `strategy`, `rerank`, `onChunk`).
 */
export type SearchDecodeOptions = SearchOptions & { mode?: 'search' };

const SEARCH_KEYS = ['values', 'prompts', 'w', 'k', 'l', 'strategy', 'rerank', 'onChunk', 'selectionTemperature', 'reward'] as const;

function isSearch(o: DecodeOptions | SearchDecodeOptions): boolean {
  if ((o as { mode?: string }).mode === 'search') return true;
  if ((o as DecodeOptions).mode !== undefined) return false;
  return SEARCH_KEYS.some((k) => (o as Record<string, unknown>)[k] !== undefined);
}
