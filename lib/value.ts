/**
 * Lightweight value functions (DESIGN.md §5): train on (prompt, response, reward) rows, save and
 * load GGUF value files, score prefix states, and combine several functions into the search score
 * sum_i V_i / beta_i (ValueEnsemble, through the native value-scoring kernel).
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { awaitNative, callNative, invalidArgument, IroError, throwIfAborted } from './errors.js';
import { native } from './native.js';
import { resolveThreads } from './threads.js';

// ---- public types ---------------------------------------------------------------------------

/** A base model's vocabulary: token count and fingerprint (16 hex digits). */
export interface VocabInfo {
  size: number;
  fingerprint: string;
}

/** An engine (anything with `vocab`) or a vocabulary itself. */
export type VocabSource = VocabInfo | { vocab: VocabInfo };

/** One training row: a prompt, one sampled response, its reward and weight. */
export interface ValueRow {
  prompt: ArrayLike<number>;
  response: ArrayLike<number>;
  reward: number;
  /** Per-row weight of its prefix states in the MSE (default 1). */
  weight?: number;
  /** Whether the response ended (EOS); its last state then carries the end flag (default true). */
  ended?: boolean;
  /**
   * Dense features: one row of `denseWidth` floats per response token (the base model's final
   * hidden state after that token), i.e. `response.length * denseWidth` floats.
   */
  dense?: Float32Array;
}

export type ValueDatasetInput = readonly ValueRow[] | { rows: readonly ValueRow[]; denseWidth?: number };

/** A prefix state to score. */
export interface ValueState {
  prompt: ArrayLike<number>;
  response: ArrayLike<number>;
  ended?: boolean;
  /** The base model's hidden state after the last response token (`denseWidth` floats). */
  dense?: Float32Array;
}

/** Featurizer settings (see native/value/featurizer.h for the exact feature set). */
export interface FeaturizerOptions {
  /** Hash seed of the feature ids (default 0). */
  seed?: number;
  /** Longest response n-gram, 1..3 (default 3). */
  ngramMax?: number;
  /** Last prompt tokens whose unigrams and bigrams are crossed with each response token (default 4). */
  promptWindow?: number;
  /** Log2 position buckets (default 12). */
  positionBuckets?: number;
  /** Weight of the response's accumulated ids: 1 ('sum', default), 1/sqrt(n) or 1/n ('mean'). */
  pooling?: 'sum' | 'sqrt' | 'mean';
}

export interface ValueTrainProgress {
  epoch: number;
  maxEpochs: number;
  bestEpoch: number;
  trainMse: number;
  heldOutMse: number;
  statesPerSecond: number;
}

export interface ValueTrainOptions {
  /** Hash buckets of the embedding table (default 2^18). */
  nBuckets?: number;
  /** Embedding width d (default 32). */
  embeddingWidth?: number;
  /** MLP hidden width (default 64). */
  hiddenWidth?: number;
  featurizer?: FeaturizerOptions;
  /** A prefix state every `prefixStride` tokens (the chunk length l), plus the full response (default 1). */
  prefixStride?: number;
  maxEpochs?: number;
  /** Rows per optimiser step (default 32). */
  batchSize?: number;
  learningRate?: number;
  weightDecay?: number;
  /** Fraction of rows held out for early stopping and evaluation (default 0.1). */
  validationFraction?: number;
  /** Epochs without held-out improvement before stopping (default 3). */
  patience?: number;
  /** Seed of initialisation, split and shuffling (default 0). */
  seed?: number;
  /** CPU threads (default: IRO_THREADS, else 1). The result does not depend on it. */
  threads?: number;
  /** β stored with the function (default 1). */
  beta?: number;
  /** IRO iteration stored with the function (default 0). */
  iteration?: number;
  /** Start from this function's parameters (same vocabulary, dims and featurizer). */
  warmStart?: ValueFunction | string;
  signal?: AbortSignal;
  onProgress?: (progress: ValueTrainProgress) => void;
}

export type PrefixFraction = '0.25' | '0.5' | '0.75' | '1';

export interface ValueEvaluation {
  rows: number;
  states: number;
  /** Weighted MSE over every prefix state. */
  mse: number | null;
  /** Spearman correlation of predicted value and true reward at 25/50/75/100% of each response. */
  spearman: Record<PrefixFraction, number | null>;
  mseAtFraction: Record<PrefixFraction, number | null>;
  /** Prefix states by deciles of the prediction. */
  calibration: { meanPredicted: number; meanTarget: number; count: number }[];
}

export interface ValueTrainReport {
  epochs: number;
  bestEpoch: number;
  stopReason: 'max_epochs' | 'early_stopping';
  warmStart: boolean;
  trainRows: number;
  heldOutRows: number;
  trainStates: number;
  heldOutStates: number;
  seconds: number;
  statesPerSecond: number | null;
  history: { epoch: number; trainMse: number | null; heldOutMse: number | null }[];
  /** 'heldout' normally; 'train' when no rows were held out. */
  evaluatedOn: 'heldout' | 'train';
  evaluation: ValueEvaluation;
}

export interface ValueFunctionInfo {
  nBuckets: number;
  embeddingWidth: number;
  hiddenWidth: number;
  denseWidth: number;
  featurizer: Required<FeaturizerOptions>;
  beta: number;
  iteration: number;
  vocab: VocabInfo;
  stats: {
    epochs: number;
    bestEpoch: number;
    trainMse: number;
    heldOutMse: number;
    seed: number;
    prefixStride: number;
    rows: number;
    states: number;
    heldOutRows: number;
  };
  parameterCount: number;
}

export interface SparseFeatureRows {
  offsets: Int32Array;
  ids: Uint32Array;
  weights: Float32Array;
}

// ---- native surface --------------------------------------------------------------------------

type Handle = { readonly __valueHandle: unique symbol };

interface PackedStates {
  promptOffsets: Int32Array;
  promptTokens: Int32Array;
  responseOffsets: Int32Array;
  responseTokens: Int32Array;
  ended: Uint8Array;
  dense?: Float32Array;
  denseWidth: number;
}
interface PackedDataset extends PackedStates {
  rewards: Float32Array;
  weights: Float32Array;
}

interface ValueNative {
  valueVocabOfModel(path: string): Promise<VocabInfo>;
  valueLoad(path: string): Promise<Handle>;
  valueSave(h: Handle, path: string): Promise<void>;
  valueInfo(h: Handle): ValueFunctionInfo & { reportJson: string };
  valueDispose(h: Handle): void;
  valueWithMeta(h: Handle, meta: { beta?: number; iteration?: number }): Handle;
  valueTrain(
    data: PackedDataset,
    options: Record<string, unknown>,
    onProgress?: (p: ValueTrainProgress) => void,
  ): { promise: Promise<{ handle: Handle; report: string }>; cancel(): void };
  valueEvaluate(h: Handle, data: PackedDataset, options: { prefixStride: number; threads: number }): Promise<string>;
  valueFeaturize(config: FeaturizerOptions, states: PackedStates): SparseFeatureRows;
  valueScore(hs: Handle[], betas: Float32Array, states: PackedStates, threads: number): { values: Float32Array; combined: Float32Array };
}

const addon = (): ValueNative => native() as unknown as ValueNative;

// ---- helpers ---------------------------------------------------------------------------------

function vocabOf(source: VocabSource, what: string): VocabInfo {
  const v = (source && typeof source === 'object' && 'vocab' in source ? source.vocab : source) as VocabInfo | undefined;
  if (!v || !Number.isInteger(v.size) || v.size < 1 || typeof v.fingerprint !== 'string' || !/^[0-9a-f]{16}$/.test(v.fingerprint)) {
    throw invalidArgument(`${what} must be an engine or a vocabulary { size, fingerprint } (use vocabOfModelFile(path) to read one)`);
  }
  return { size: v.size, fingerprint: v.fingerprint };
}

function sameVocab(a: VocabInfo, b: VocabInfo): boolean {
  return a.size === b.size && a.fingerprint === b.fingerprint;
}

function vocabMismatch(file: VocabInfo, want: VocabInfo, what: string): IroError {
  return new IroError(
    'VOCAB_MISMATCH',
    `${what} was made for another vocabulary (${file.fingerprint}, ${file.size} tokens) than this model's (${want.fingerprint}, ${want.size} tokens); train a value function for this model`,
  );
}

function tokensOf(a: ArrayLike<number>, what: string): ArrayLike<number> {
  if (a === null || typeof a !== 'object' || typeof a.length !== 'number') throw invalidArgument(`${what} must be an array of token ids`);
  if (!(a instanceof Int32Array) && !(a instanceof Uint32Array)) {
    for (let i = 0; i < a.length; i++) {
      const t = a[i]!;
      if (!Number.isInteger(t) || t < 0 || t > 0x7fffffff) throw invalidArgument(`${what}[${i}] must be a non-negative integer token id (got ${t})`);
    }
  }
  return a;
}

/**
 * Packs rows (densePerToken: dataset rows, one dense row per response token, ended by default) or
 * states (one dense row per state, not ended unless said) into CSR typed arrays.
 */
function packStates(states: readonly ValueState[] | readonly ValueRow[], denseWidth: number, densePerToken: boolean, what: string): PackedStates {
  if (!Array.isArray(states)) throw invalidArgument(`${what} must be an array`);
  const n = states.length;
  const promptOffsets = new Int32Array(n + 1);
  const responseOffsets = new Int32Array(n + 1);
  let np = 0;
  let nr = 0;
  for (let i = 0; i < n; i++) {
    const s = states[i];
    if (!s || typeof s !== 'object') throw invalidArgument(`${what}[${i}] must be an object with prompt and response`);
    np += tokensOf(s.prompt, `${what}[${i}].prompt`).length;
    nr += tokensOf(s.response, `${what}[${i}].response`).length;
    if (np > 0x7fffffff || nr > 0x7fffffff) throw invalidArgument(`${what} has too many tokens; split it`);
    promptOffsets[i + 1] = np;
    responseOffsets[i + 1] = nr;
  }
  const promptTokens = new Int32Array(np);
  const responseTokens = new Int32Array(nr);
  const ended = new Uint8Array(n);
  const denseRows = denseWidth > 0 ? (densePerToken ? nr : n) : 0;
  const dense = denseWidth > 0 ? new Float32Array(denseRows * denseWidth) : undefined;
  for (let i = 0; i < n; i++) {
    const s = states[i]!;
    promptTokens.set(s.prompt, promptOffsets[i]!);
    responseTokens.set(s.response, responseOffsets[i]!);
    ended[i] = (s.ended ?? densePerToken) ? 1 : 0;
    if (dense) {
      const want = densePerToken ? s.response.length * denseWidth : denseWidth;
      if (want === 0 && s.dense === undefined) continue;
      if (!(s.dense instanceof Float32Array) || s.dense.length !== want) {
        throw invalidArgument(`${what}[${i}].dense must be a Float32Array of ${want} floats (${densePerToken ? 'one row of denseWidth per response token' : 'denseWidth'})`);
      }
      dense.set(s.dense, (densePerToken ? responseOffsets[i]! : i) * denseWidth);
    } else if (s.dense !== undefined && s.dense.length > 0) {
      throw invalidArgument(`${what}[${i}] has dense features but the value function uses none (denseWidth 0)`);
    }
  }
  return { promptOffsets, promptTokens, responseOffsets, responseTokens, ended, dense, denseWidth };
}

function rowsOf(dataset: ValueDatasetInput): { rows: readonly ValueRow[]; denseWidth?: number } {
  if (Array.isArray(dataset)) return { rows: dataset };
  if (dataset && typeof dataset === 'object' && Array.isArray((dataset as { rows?: unknown }).rows)) return dataset as { rows: readonly ValueRow[]; denseWidth?: number };
  throw invalidArgument('dataset must be an array of rows or { rows, denseWidth }');
}

function inferDenseWidth(rows: readonly ValueRow[], given?: number): number {
  if (given !== undefined) {
    if (!Number.isInteger(given) || given < 0) throw invalidArgument(`denseWidth must be an integer >= 0 (got ${given})`);
    return given;
  }
  for (const r of rows) {
    if (r?.dense && r.response.length > 0) {
      const w = r.dense.length / r.response.length;
      if (!Number.isInteger(w)) throw invalidArgument('row dense features must hold one row per response token; give denseWidth');
      return w;
    }
  }
  return 0;
}

function packDataset(dataset: ValueDatasetInput, denseWidth?: number): PackedDataset {
  const { rows, denseWidth: dw } = rowsOf(dataset);
  const width = inferDenseWidth(rows, denseWidth ?? dw);
  const packed = packStates(rows, width, true, 'dataset');
  const rewards = new Float32Array(rows.length);
  const weights = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    if (typeof r.reward !== 'number' || !Number.isFinite(r.reward)) throw invalidArgument(`dataset[${i}].reward must be a finite number`);
    const w = r.weight ?? 1;
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw invalidArgument(`dataset[${i}].weight must be a finite number >= 0`);
    rewards[i] = r.reward;
    weights[i] = w;
  });
  return { ...packed, rewards, weights };
}

/** Writes JSON atomically (temporary file in the same folder, then rename). */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`);
  try {
    await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
    await rename(tmp, file);
  } catch (e) {
    throw new IroError('IO_ERROR', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Reads the vocabulary (size and fingerprint) of a GGUF model file without loading its weights. */
export async function vocabOfModelFile(modelPath: string): Promise<VocabInfo> {
  if (typeof modelPath !== 'string' || modelPath === '') throw invalidArgument('modelPath must be a file path');
  return awaitNative(callNative(() => addon().valueVocabOfModel(modelPath)));
}

/** The sparse features of prefix states (for tests and tools; the search featurizes natively). */
export function featurizeStates(featurizer: FeaturizerOptions, states: readonly ValueState[]): SparseFeatureRows {
  const packed = packStates(states, 0, false, 'states');
  return callNative(() => addon().valueFeaturize(featurizer ?? {}, packed));
}

// ---- ValueFunction -----------------------------------------------------------------------------

export class ValueFunction {
  #handle: Handle | undefined;
  readonly info: ValueFunctionInfo;
  /** The training report (from train(), or as stored in the file; undefined when absent). */
  readonly report: ValueTrainReport | undefined;

  private constructor(handle: Handle, source?: string) {
    this.#handle = handle;
    const { reportJson, ...info } = callNative(() => addon().valueInfo(handle));
    this.info = info;
    let report: ValueTrainReport | undefined;
    try {
      report = reportJson ? (JSON.parse(reportJson) as ValueTrainReport) : undefined;
    } catch {
      this.dispose();
      throw new IroError('INVALID_GGUF', `invalid value file ${source ?? ''}: its training report (iro.value.train.report) is not valid JSON; the file is corrupt`);
    }
    this.report = report;
  }

  /** @internal native handle (throws DISPOSED after dispose()). */
  get handle(): Handle {
    if (!this.#handle) throw new IroError('DISPOSED', 'this value function has been disposed');
    return this.#handle;
  }

  get vocab(): VocabInfo {
    return this.info.vocab;
  }

  get beta(): number {
    return this.info.beta;
  }

  /**
   * Trains a value function on `dataset` for the vocabulary of `engineOrVocab`: every prefix state
   * of every row regresses onto the row's reward. Runs off the JS thread; `signal` aborts it
   * (ABORTED). The report (held-out MSE, Spearman by prefix fraction, calibration) is `vf.report`.
   */
  static async train(engineOrVocab: VocabSource, dataset: ValueDatasetInput, options: ValueTrainOptions = {}): Promise<ValueFunction> {
    const vocab = vocabOf(engineOrVocab, 'engineOrVocab');
    throwIfAborted(options.signal, 'value training');
    const threads = resolveThreads(options.threads);
    let init: ValueFunction | undefined;
    let ownsInit = false;
    if (typeof options.warmStart === 'string') {
      init = await ValueFunction.load(options.warmStart, { vocab });
      ownsInit = true;
    } else if (options.warmStart !== undefined) {
      if (!(options.warmStart instanceof ValueFunction)) throw invalidArgument('warmStart must be a ValueFunction or a value-file path');
      init = options.warmStart;
      if (!sameVocab(init.vocab, vocab)) throw vocabMismatch(init.vocab, vocab, 'the warm-start value function');
      const i = init.info;
      const clash = (
        [
          ['nBuckets', options.nBuckets, i.nBuckets],
          ['embeddingWidth', options.embeddingWidth, i.embeddingWidth],
          ['hiddenWidth', options.hiddenWidth, i.hiddenWidth],
        ] as const
      ).find(([, want, have]) => want !== undefined && want !== have);
      if (clash) throw invalidArgument(`${clash[0]} (${clash[1]}) differs from the warm-start value function's (${clash[2]})`);
      if (options.featurizer) {
        const f = { ...i.featurizer, ...options.featurizer };
        if (JSON.stringify(f) !== JSON.stringify(i.featurizer)) throw invalidArgument('featurizer settings differ from the warm-start value function\'s');
      }
    }
    try {
      const packed = packDataset(dataset, init?.info.denseWidth);
      const nativeOptions: Record<string, unknown> = {
        ...options,
        featurizer: options.featurizer ?? {},
        signal: undefined,
        onProgress: undefined,
        warmStart: undefined,
        threads,
        vocabSize: vocab.size,
        vocabFingerprint: vocab.fingerprint,
        init: init?.handle,
      };
      let callbackError: unknown;
      let job: ReturnType<ValueNative['valueTrain']> | undefined;
      const onProgress = options.onProgress
        ? (p: ValueTrainProgress) => {
            try {
              options.onProgress!(p);
            } catch (e) {
              callbackError ??= e;
              job?.cancel();
            }
          }
        : undefined;
      job = callNative(() => addon().valueTrain(packed, nativeOptions, onProgress));
      const onAbort = () => job!.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const out = await awaitNative(job.promise);
        return new ValueFunction(out.handle);
      } catch (e) {
        if (callbackError !== undefined) throw callbackError;
        throw e;
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
    } finally {
      if (ownsInit) init!.dispose();
    }
  }

  /** Loads a value file. With `vocab` (an engine or a vocabulary) a file for another one fails with VOCAB_MISMATCH. */
  static async load(file: string, options: { vocab?: VocabSource } = {}): Promise<ValueFunction> {
    if (typeof file !== 'string' || file === '') throw invalidArgument('path must be a value-file path');
    const want = options.vocab === undefined ? undefined : vocabOf(options.vocab, 'vocab');
    const handle = await awaitNative(callNative(() => addon().valueLoad(file)));
    const vf = new ValueFunction(handle, file);
    if (want && !sameVocab(vf.vocab, want)) {
      vf.dispose();
      throw vocabMismatch(vf.info.vocab, want, `value file ${file}`);
    }
    return vf;
  }

  /** Writes the value file (GGUF, atomically). */
  async save(file: string): Promise<void> {
    if (typeof file !== 'string' || file === '') throw invalidArgument('path must be a file path');
    const h = this.handle;
    await awaitNative(callNative(() => addon().valueSave(h, file)));
  }

  /** A copy with another β and/or IRO iteration (stored in its file). */
  withMeta(meta: { beta?: number; iteration?: number }): ValueFunction {
    const h = this.handle;
    return new ValueFunction(callNative(() => addon().valueWithMeta(h, meta)));
  }

  /** V(x, prefix) for each state, through the value-scoring kernel. */
  score(states: readonly ValueState[], options: { threads?: number } = {}): Float32Array {
    return new ValueEnsemble([{ vf: this, beta: 1 }]).score(states, options);
  }

  /** Held-out style evaluation of this function on any dataset (MSE, Spearman by fraction, calibration). */
  async evaluate(dataset: ValueDatasetInput, options: { prefixStride?: number; threads?: number } = {}): Promise<ValueEvaluation> {
    const h = this.handle;
    const packed = packDataset(dataset, this.info.denseWidth);
    const prefixStride = options.prefixStride ?? 1;
    const threads = resolveThreads(options.threads);
    const json = await awaitNative(callNative(() => addon().valueEvaluate(h, packed, { prefixStride, threads })));
    return JSON.parse(json) as ValueEvaluation;
  }

  /** Writes the training report as JSON (atomically). */
  async writeReport(file: string): Promise<void> {
    if (!this.report) throw invalidArgument('this value function carries no training report');
    await writeJsonAtomic(file, this.report);
  }

  get disposed(): boolean {
    return this.#handle === undefined;
  }

  dispose(): void {
    if (this.#handle) {
      const h = this.#handle;
      this.#handle = undefined;
      callNative(() => addon().valueDispose(h));
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }
}

// ---- ValueEnsemble -----------------------------------------------------------------------------

export interface ValueEnsembleMember {
  vf: ValueFunction;
  /** β of this member (default: the β stored in its file). */
  beta?: number;
}

export interface ValueEnsembleScores {
  /** V_i of every state, state-major: values[s * members + i]. */
  values: Float32Array;
  /** sum_i V_i / beta_i per state. */
  combined: Float32Array;
}

/** Several value functions scored together: score = sum_i V_i / beta_i (DESIGN.md §6). */
export class ValueEnsemble {
  readonly members: readonly { vf: ValueFunction; beta: number }[];
  readonly vocab: VocabInfo;
  readonly denseWidth: number;
  readonly #betas: Float32Array;

  /** All members must share a vocabulary (VOCAB_MISMATCH) and featurizer settings (INVALID_ARGUMENT). */
  constructor(members: readonly ValueEnsembleMember[], options: { vocab?: VocabSource } = {}) {
    if (!Array.isArray(members) || members.length === 0) throw invalidArgument('a ValueEnsemble needs at least one { vf, beta }');
    const list = members.map((m, i) => {
      if (!m || !(m.vf instanceof ValueFunction)) throw invalidArgument(`members[${i}].vf must be a ValueFunction`);
      m.vf.handle; // throws DISPOSED early
      const beta = m.beta ?? m.vf.beta;
      if (typeof beta !== 'number' || !Number.isFinite(beta) || beta <= 0) throw invalidArgument(`members[${i}].beta must be a positive number (got ${beta})`);
      return { vf: m.vf, beta };
    });
    const first = list[0]!.vf;
    const want = options.vocab === undefined ? first.vocab : vocabOf(options.vocab, 'vocab');
    let denseWidth = 0;
    list.forEach(({ vf }, i) => {
      if (!sameVocab(vf.vocab, want)) throw vocabMismatch(vf.vocab, want, `members[${i}] (value function)`);
      if (JSON.stringify(vf.info.featurizer) !== JSON.stringify(first.info.featurizer)) {
        throw invalidArgument(`members[${i}] uses other featurizer settings than members[0]; value functions scored together must share them`);
      }
      const dw = vf.info.denseWidth;
      if (dw > 0) {
        if (denseWidth > 0 && dw !== denseWidth) throw invalidArgument(`members[${i}] needs ${dw} dense features, another member ${denseWidth}`);
        denseWidth = dw;
      }
    });
    this.members = list;
    this.vocab = want;
    this.denseWidth = denseWidth;
    this.#betas = Float32Array.from(list.map((m) => m.beta));
  }

  /** Every member's value and the combined score of each state. */
  scoreAll(states: readonly ValueState[], options: { threads?: number } = {}): ValueEnsembleScores {
    const threads = resolveThreads(options.threads);
    const handles = this.members.map((m) => m.vf.handle);
    const packed = packStates(states, this.denseWidth, false, 'states');
    return callNative(() => addon().valueScore(handles, this.#betas, packed, threads));
  }

  /** sum_i V_i / beta_i of each state. */
  score(states: readonly ValueState[], options: { threads?: number } = {}): Float32Array {
    return this.scoreAll(states, options).combined;
  }
}
