/**
 * The model forge: writes small llama-architecture GGUF models from scratch (random init, seeded),
 * learns SentencePiece-style vocabularies, trains models with llama.cpp's own training API and
 * inspects / samples them. Native work runs off the JS thread.
 */
import { awaitNative, callNative, invalidArgument, throwIfAborted } from './errors.js';
import { native } from './native.js';

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
