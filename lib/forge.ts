/**
 * The model forge: writes small llama-architecture GGUF models from scratch (random init, seeded),
 * learns SentencePiece-style vocabularies, trains models with llama.cpp's own training API and
 * inspects / samples them. Native work runs off the JS thread.
 */
import { awaitNative, callNative, invalidArgument, throwIfAborted } from './errors.js';
import { native } from './native.js';
import { resolveThreads } from './threads.js';

/** Hyper-parameters of a forged llama model. */
export interface ForgeDims {
  /** Width of the residual stream. */
  nEmbd: number;
  nLayer: number;
  /** Attention heads; must divide nEmbd, and nEmbd / nHead must be even (RoPE). */
  nHead: number;
  /** Key/value heads (grouped-query attention); must divide nHead. Default: nHead. */
  nHeadKv: number;
  /** Hidden width of the SwiGLU feed-forward block. */
  nFf: number;
  /** Context length recorded in the model (llama.context_length). */
  nCtxTrain: number;
}

export const DEFAULT_TINY_DIMS: ForgeDims = { nEmbd: 32, nLayer: 2, nHead: 4, nHeadKv: 4, nFf: 64, nCtxTrain: 256 };

export interface RandomModelOptions extends Partial<ForgeDims> {
  /**
   * Vocabulary pieces after the control tokens (<unk>, <s>, </s>) and the 256 byte tokens. A
   * space may be written as ' ' or as SentencePiece's '▁' (U+2581). Earlier pieces get higher
   * scores, i.e. llama.cpp's tokenizer prefers them when merging. Default: none (bytes only).
   */
  vocab?: string[];
  /** Explicit piece scores (same length as vocab). */
  scores?: number[];
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
  /** Standard deviation of the initial weights (default 0.02). */
  initStd?: number;
  /**
   * Standard deviation of the token embeddings (default: initStd when that is given, else 1:
   * llama.cpp's training never updates token_embd, so trained models need unit-scale ones).
   */
  embdInitStd?: number;
  /** general.name of the model. */
  name?: string;
  signal?: AbortSignal;
}

export interface RandomModelInfo {
  path: string;
  nVocab: number;
  nParams: number;
  fileBytes: number;
}

/** What llama.cpp reports about a model file. */
export interface ForgeModelSummary {
  nVocab: number;
  nParams: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nCtxTrain: number;
  bos: number;
  eos: number;
  addBos: boolean;
  description: string;
  vocabType: string;
  sizeBytes: number;
}

export interface ForgeSampleOptions {
  maxTokens?: number;
  /** <= 0 means greedy. Default 1. */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  seed?: number;
  threads?: number;
  signal?: AbortSignal;
}

export interface ForgeSample {
  /** The continuation (prompt excluded). */
  text: string;
  tokens: Int32Array;
  /** The model emitted end-of-sequence. */
  ended: boolean;
}

/** Native functions of the forge area. */
export interface ForgeNative {
  forgeRandomModel(path: string, options: Record<string, unknown>): Promise<Omit<RandomModelInfo, 'path'>>;
  forgeInspectModel(path: string): Promise<ForgeModelSummary>;
  forgeTokenize(path: string, texts: string[], addSpecial: boolean): Promise<Int32Array[]>;
  forgeDetokenize(path: string, lists: Int32Array[], removeSpecial: boolean): Promise<string[]>;
  forgeSample(path: string, prompts: string[], options: Record<string, unknown>): Promise<ForgeSample[]>;
}

export function forgeNative(): ForgeNative {
  return native() as unknown as ForgeNative;
}

function checkPath(path: unknown, what = 'path'): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument(`${what} must be a non-empty string`);
}

/** Fills in default dims (nHeadKv defaults to nHead). */
export function resolveDims(partial: Partial<ForgeDims> = {}): ForgeDims {
  const d = { ...DEFAULT_TINY_DIMS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as ForgeDims;
  if (partial.nHeadKv === undefined) d.nHeadKv = d.nHead;
  return d;
}

/**
 * Writes a random-init llama GGUF (milliseconds for test-sized models). Validates dims,
 * vocabulary and output path before writing; the file appears atomically.
 */
export async function forgeRandomModel(path: string, options: RandomModelOptions = {}): Promise<RandomModelInfo> {
  checkPath(path);
  throwIfAborted(options.signal, 'forgeRandomModel');
  const dims = resolveDims(options);
  const info = await awaitNative(
    callNative(() =>
      forgeNative().forgeRandomModel(path, {
        ...dims,
        pieces: options.vocab ?? [],
        scores: options.scores,
        seed: options.seed ?? 0,
        initStd: options.initStd,
        embdInitStd: options.embdInitStd ?? options.initStd,
        name: options.name,
      }),
    ),
  );
  return { path, ...info };
}

/** Loads a model with llama.cpp (CPU) and reports its vocabulary size, parameters and dims. */
export async function forgeInspectModel(path: string): Promise<ForgeModelSummary> {
  checkPath(path);
  return awaitNative(callNative(() => forgeNative().forgeInspectModel(path)));
}

/** Tokenizes with llama.cpp's tokenizer of the model (vocabulary only is loaded). */
export async function tokenizeWithModel(path: string, texts: string[], options: { addSpecial?: boolean } = {}): Promise<Int32Array[]> {
  checkPath(path);
  return awaitNative(callNative(() => forgeNative().forgeTokenize(path, texts, options.addSpecial ?? false)));
}

/** Detokenizes with llama_detokenize of the model. */
export async function detokenizeWithModel(path: string, lists: Int32Array[], options: { removeSpecial?: boolean } = {}): Promise<string[]> {
  checkPath(path);
  return awaitNative(callNative(() => forgeNative().forgeDetokenize(path, lists, options.removeSpecial ?? false)));
}

/** Plain sampling (one prompt after another; BOS added): a quick look at what a model writes. */
export async function sampleFromModel(path: string, prompts: string[], options: ForgeSampleOptions = {}): Promise<ForgeSample[]> {
  checkPath(path);
  throwIfAborted(options.signal, 'sampleFromModel');
  const { signal: _signal, ...rest } = options;
  return awaitNative(callNative(() => forgeNative().forgeSample(path, prompts, { ...rest })));
}

// ---- the full forge ----------------------------------------------------------------------

export interface ForgeOptions extends Partial<ForgeDims> {
  /** Pieces to learn on top of the control and byte tokens (merged pieces + characters). Default 1000. */
  vocabSize?: number;
  /** Characters seen fewer times are left to byte fallback. Default 2. */
  minCharCount?: number;
  /** Passes over the training documents. Default 1. */
  epochs?: number;
  /** Requested training context; llama.cpp pads it up to a multiple of 256 and every window has that length. Default 256. */
  context?: number;
  /** Peak AdamW learning rate (linear warm-up, cosine decay to minLearningRate). Default 1e-3. */
  learningRate?: number;
  minLearningRate?: number;
  weightDecay?: number;
  /** Fraction of documents held out for the evaluation loss. Default 0.05. */
  heldOut?: number;
  /** Seed of the initial weights, the held-out split and the window order. Default 0. */
  seed?: number;
  /** Compute threads (see resolveThreads). */
  threads?: number;
  initStd?: number;
  /** general.name of the model. */
  name?: string;
  /** Stop after this many optimizer steps (quick checks and tests). */
  maxSteps?: number;
  /** Windows per training chunk: progress and cancellation happen between chunks. Default 4. */
  windowsPerChunk?: number;
  onProgress?: (progress: ForgeProgress) => void;
  signal?: AbortSignal;
}

export interface ForgeProgress {
  phase: 'train' | 'eval';
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** Optimizer steps (windows) done in this epoch, and per epoch. */
  step: number;
  steps: number;
  /** Running mean training loss of the epoch (nats/token), or the held-out loss after an epoch. */
  loss: number;
  seconds: number;
  tokensPerSecond: number;
}

export interface ForgeEpoch {
  epoch: number;
  trainLoss: number;
  heldOutLoss: number;
  trainAccuracy: number;
  heldOutAccuracy: number;
  seconds: number;
}

export interface ForgeReport {
  path: string;
  nVocab: number;
  nMerges: number;
  nChars: number;
  nParams: number;
  corpusTokens: number;
  trainTokens: number;
  heldOutTokens: number;
  trainDocuments: number;
  heldOutDocuments: number;
  /** The context llama.cpp allocated, i.e. the length of every training window. */
  context: number;
  trainWindows: number;
  heldOutWindows: number;
  steps: number;
  initialHeldOutLoss: number;
  epochs: ForgeEpoch[];
  trainSeconds: number;
  tokensPerSecond: number;
  vocabSeconds: number;
  seconds: number;
  fileBytes: number;
  threads: number;
}

export interface LearnedVocab {
  pieces: string[];
  scores: number[];
  nMerges: number;
  nChars: number;
}

interface ForgeTrainNative {
  forgeModel(
    out: string,
    documents: string[],
    options: Record<string, unknown>,
    onProgress?: (p: ForgeProgress) => void,
  ): { promise: Promise<Omit<ForgeReport, 'path' | 'threads'>>; cancel(): void };
  forgeLearnVocab(documents: string[], options: Record<string, unknown>): Promise<LearnedVocab>;
}

/** True when a string has no lone UTF-16 surrogate (so it converts to UTF-8 exactly). */
function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/**
 * Checks and normalises corpus documents: strings must be well-formed UTF-16 (no lone
 * surrogates), byte arrays valid UTF-8. Throws INVALID_ARGUMENT naming the first bad document.
 */
export function normalizeCorpus(documents: readonly (string | Uint8Array)[]): string[] {
  if (!Array.isArray(documents)) throw invalidArgument('documents must be an array of strings');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const out = documents.map((d, i) => {
    if (typeof d === 'string') {
      if (!isWellFormed(d)) throw invalidArgument(`corpus document ${i} is not valid Unicode (lone surrogate); fix the text`);
      return d;
    }
    if (d instanceof Uint8Array) {
      try {
        return decoder.decode(d);
      } catch {
        throw invalidArgument(`corpus document ${i} is not valid UTF-8; re-encode the corpus as UTF-8`);
      }
    }
    throw invalidArgument(`corpus document ${i} must be a string or a Uint8Array`);
  });
  if (out.every((d) => d.length === 0)) throw invalidArgument('the corpus is empty: give at least one non-empty document');
  return out;
}

/** Learns a SentencePiece-style piece vocabulary from documents (see native/forge/piece_learner.h). */
export async function learnVocab(
  documents: readonly (string | Uint8Array)[],
  options: { vocabSize?: number; minCharCount?: number } = {},
): Promise<LearnedVocab> {
  const docs = normalizeCorpus(documents);
  const addon = native() as unknown as ForgeTrainNative;
  return awaitNative(callNative(() => addon.forgeLearnVocab(docs, { ...options })));
}

/**
 * The forge: learns a vocabulary from the documents, writes a random-init llama model, trains it
 * with llama.cpp (AdamW, held-out split) and saves it at `out` (atomically: a failed or aborted
 * forge leaves nothing there). Everything is validated before work starts.
 */
export async function forgeModel(out: string, documents: readonly (string | Uint8Array)[], options: ForgeOptions = {}): Promise<ForgeReport> {
  checkPath(out, 'out');
  throwIfAborted(options.signal, 'forge');
  const docs = normalizeCorpus(documents);
  const { onProgress, signal, threads: threadOption, ...rest } = options;
  const threads = resolveThreads(threadOption);
  const dims = resolveDims(rest);
  const addon = native() as unknown as ForgeTrainNative;
  const started = callNative(() => addon.forgeModel(out, docs, { ...rest, ...dims, threads }, onProgress));
  const onAbort = () => started.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const report = await awaitNative(started.promise);
    return { path: out, ...report, threads };
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
