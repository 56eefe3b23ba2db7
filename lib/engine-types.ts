/** Public types of the decoding engine (see lib/engine.ts). */

export interface EngineLoadOptions {
  /** Path of a local llama.cpp GGUF model file. */
  model: string;
  /** KV cells shared by all sequences (llama.cpp pads it up to a multiple of 256). Default 2048. */
  contextSize?: number;
  /** Compute threads (default: IRO_THREADS, else the measured default; see README "Threads"). */
  threads?: number;
  /** Layers offloaded to a GPU (-1 = all). Default 0. */
  gpuLayers?: number;
  /** Sequences alive at once across all requests (n_seq_max). Default 16. */
  maxSequences?: number;
  /** ggml thread-pool polling level 0..100 for threads > 1 (-1 = llama.cpp's own pool). Default -1. */
  poll?: number;
  signal?: AbortSignal;
  /** Load progress in [0, 1]. */
  onProgress?: (progress: number) => void;
}

export interface EngineVocab {
  /** Number of tokens. */
  size: number;
  /** 16 hex digits identifying the vocabulary (stored in value files). */
  fingerprint: string;
}

export interface EngineInfo {
  architecture: string;
  description: string;
  nVocab: number;
  nEmbd: number;
  nCtxTrain: number;
  contextSize: number;
  maxSequences: number;
  threads: number;
  bos: number;
  eos: number;
  hasChatTemplate: boolean;
  vocab: EngineVocab;
}

export interface SamplingOptions {
  /** 0 = greedy. Default 0.7. */
  temperature?: number;
  /** 0 = no limit. Default 50. */
  topK?: number;
  /** (0, 1]. Default 1. */
  topP?: number;
  /** [0, 1). Default 0. */
  minP?: number;
}

export interface ChatMessage {
  role: string;
  content: string;
}

/** A reward for Best-of-N: called once per finished candidate, after decoding. */
export type CandidateScorer = (prompt: string, response: string, candidate: DecodeCandidate) => number | Promise<number>;

export interface DecodeOptions extends SamplingOptions {
  /** Text (tokenized with the model's special tokens, e.g. BOS) or token ids. */
  prompt: string | readonly number[];
  /** 'sample' (default): n continuations. 'best-of-n': n candidates ranked by `scorer`. */
  mode?: 'sample' | 'best-of-n';
  /** Candidates. Default 1 for 'sample', 4 for 'best-of-n'. */
  n?: number;
  /** Response tokens per candidate. Default 64. */
  maxTokens?: number;
  /** Default 0. Same seed => same tokens, whatever runs alongside. */
  seed?: number;
  /** Index of this prompt in the caller's call (part of the RNG key). Default 0. */
  requestIndex?: number;
  /** Required for 'best-of-n'. */
  scorer?: CandidateScorer;
  /** Return each candidate's final-layer hidden state of its latest decoded row. Default false. */
  hiddenStates?: boolean;
  signal?: AbortSignal;
}

export type FinishReason = 'stop' | 'length' | 'pruned';

export interface DecodeCandidate {
  /** Candidate index inside the request (part of the RNG key). */
  index: number;
  /** Candidate it was forked from (-1: the prompt's own sequence). */
  parent: number;
  tokens: number[];
  /** Model log-probability (temperature 1) of each token. */
  logprobs: number[];
  /** Sum of logprobs. */
  logprob: number;
  text: string;
  finishReason: FinishReason;
  /** Scorer value (Best-of-N); undefined in 'sample' mode, -Infinity when the scorer failed. */
  score?: number;
  /** Why the scorer failed for this candidate. */
  scoreError?: string;
  /** Final-layer hidden state (nEmbd floats) when `hiddenStates` was set. */
  hidden?: Float32Array;
}

export interface DecodeTimes {
  queueMs: number;
  prefillMs: number;
  decodeMs: number;
  sampleMs: number;
  policyMs: number;
  scoreMs: number;
  totalMs: number;
}

export interface DecodeStats {
  /** Prompt tokens evaluated (once, however many candidates). */
  promptTokens: number;
  tokensSampled: number;
  tokensEvaluated: number;
  decodeSteps: number;
  forks: number;
  prunes: number;
  maxLiveSequences: number;
  time: DecodeTimes;
}

export interface DecodeResult {
  /** Text of the best candidate (the highest score in 'best-of-n', candidate 0 in 'sample'). */
  text: string;
  best: DecodeCandidate;
  /** All candidates in index order. */
  candidates: DecodeCandidate[];
  stats: DecodeStats;
}

export interface EngineStats {
  kvCellsUsed: number;
  kvCellsTotal: number;
  liveSequences: number;
  freeSequences: number;
  forks: number;
  prunes: number;
  steps: number;
  queued: number;
  active: number;
}
