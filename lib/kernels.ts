/**
 * The three search kernels (DESIGN.md §4) over typed arrays: batched value scoring, weighted
 * resampling / selection, and chunk-level beam expansion. CPU reference by default; `device:
 * 'cuda'` runs the CUDA twin in the CUDA variant. These wrappers exist for tests, benchmarks and
 * tools; the engine calls the same C++ functions directly. Every call is synchronous (one kernel
 * invocation). Bad input throws IroError('INVALID_ARGUMENT') with a message naming the problem.
 */
import { callNative, invalidArgument } from './errors.js';
import { native } from './native.js';
import { resolveThreads } from './threads.js';

export type KernelDevice = 'cpu' | 'cuda';

export interface KernelOptions {
  /** Worker threads for the CPU kernels (default: IRO_THREADS, else 1). Results never depend on it. */
  threads?: number;
  /** 'cpu' (default) or 'cuda' (CUDA variant only). */
  device?: KernelDevice;
}

/** Hashed sparse features of B states (CSR) and an optional dense row per state. */
export interface SparseFeaturesInput {
  /** B + 1 non-decreasing offsets into ids. */
  offsets: Int32Array;
  /** Hashed feature ids (taken modulo each net's nBuckets). */
  ids: Uint32Array;
  /** One weight per id (default 1). */
  weights?: Float32Array;
  /** B x dDense row-major dense features (e.g. the base model's hidden state). */
  dense?: Float32Array;
  dDense?: number;
}

/** Parameters of one value net (native/kernels/value_net.h): embedding-bag -> MLP -> scalar. */
export interface ValueNetParams {
  nBuckets: number;
  d: number;
  hidden: number;
  /** Width of the dense projection (0 = none). */
  dDense?: number;
  /** [nBuckets x d] */ E: Float32Array;
  /** [dDense x d] */ P?: Float32Array;
  /** [d] */ b0: Float32Array;
  /** [hidden x d] */ W1: Float32Array;
  /** [hidden] */ b1: Float32Array;
  /** [hidden] */ w2: Float32Array;
  b2: number;
}

export interface ValueScores {
  /** [B x M] state-major: values[s * M + m] = V_m(state s). */
  values: Float32Array;
  /** [B]: sum_m values[s, m] / betas[m]. */
  combined: Float32Array;
}

export type ResampleMethod = 'systematic' | 'stratified' | 'multinomial';
const METHOD_CODE: Record<ResampleMethod, number> = { systematic: 0, stratified: 1, multinomial: 2 };

export interface ResampleArgs {
  /** Scores of all candidates; segment s is scores[offsets[s] .. offsets[s+1]). Finite or -Infinity. */
  scores: Float32Array;
  offsets: Int32Array;
  /** Softmax temperature (> 0): weights proportional to exp(score / tau). */
  tau: number;
  method: ResampleMethod;
  /** Draws per segment: a number (same for all) or n_segments + 1 offsets into the output. */
  draws: number | Int32Array;
  seed: number | bigint;
  /** Caller's step counter (RngKey.position), so successive rounds draw independently. Default 0. */
  step?: number;
  /** RngKey.request per segment (default: the segment index). */
  requestIds?: Uint32Array;
  /**
   * Where to write the draws (length = total draws); returned. For repeated calls on large
   * segments: reusing one array skips allocating and zero-filling megabytes per call.
   */
  out?: Int32Array;
}

export interface SamplingOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
}

export interface ExpandBeamsArgs {
  /** n_requests + 1 offsets into parents (each request has w_r >= 1 parents). */
  parentOffsets: Int32Array;
  /** Chosen parent slots, local to their request (0 .. w_r*k_r - 1), repeats allowed. */
  parents: Int32Array;
  /** Children per parent, one per request. */
  k: Int32Array;
  /** [rows x nVocab] logits; the parents' rows are read. */
  logits: Float32Array;
  nVocab: number;
  /** Logits row of every (global) slot; default: row = global slot. */
  rows?: Int32Array;
  /** One set for all requests, or one per request. */
  params?: SamplingOptions | SamplingOptions[];
  seed: number | bigint;
  requestIds?: Uint32Array;
  /** History length of every global slot (the position of the token sampled next). */
  lengths: Int32Array;
  /** Optional token histories [slots x capacity]. */
  tokens?: Int32Array;
  capacity: number;
}

export interface BeamExpansionResult {
  /** n_requests + 1: first global slot of each request. */
  slotOffsets: Int32Array;
  /** Local parent slot of every global child slot. */
  childParent: Int32Array;
  /** Index of the parent entry each child descends from. */
  childParentIndex: Int32Array;
  /** Child number (0 .. k-1) among that entry's children. */
  childNumber: Int32Array;
  /** Fork plan as flat (dst, src) pairs of local slots: seq_rm(dst) + seq_cp(src -> dst). */
  forks: Int32Array;
  /** n_requests + 1 offsets into the fork pairs. */
  forkOffsets: Int32Array;
  /** First token of every child slot. */
  tokens: Int32Array;
  /** Model log-probability (temperature 1) of each sampled token. */
  logprobs: Float32Array;
  /** Histories after expansion (copies of the inputs; the sampled token appended). */
  lengths: Int32Array;
  history?: Int32Array;
}

interface KernelsNative {
  kernelsScoreValues(f: SparseFeaturesInput, nets: ValueNetParams[], betas: Float32Array, o: NativeOpts): ValueScores;
  kernelsSoftmaxWeights(s: Float32Array, off: Int32Array, tau: number, o: NativeOpts): { logWeights: Float32Array; ess: Float32Array };
  kernelsResample(s: Float32Array, off: Int32Array, tau: number, method: number, drawOffsets: Int32Array, seed: number | bigint, step: number,
    requestIds: Uint32Array | undefined, o: NativeOpts, out: Int32Array | undefined): Int32Array;
  kernelsTopW(s: Float32Array, off: Int32Array, w: number, o: NativeOpts): Int32Array;
  kernelsDiverseTopW(s: Float32Array, h: BigUint64Array, off: Int32Array, w: number, o: NativeOpts): Int32Array;
  kernelsGroupBest(s: Float32Array, off: Int32Array, k: number, o: NativeOpts): Int32Array;
  kernelsExpandBeams(a: ExpandBeamsArgs, o: NativeOpts): BeamExpansionResult;
  kernelsHugeFloat32Array(length: number): Float32Array;
}
interface NativeOpts { threads: number; device: KernelDevice }

const addon = (): KernelsNative => native() as unknown as KernelsNative;
const opts = (o: KernelOptions = {}): NativeOpts => ({ threads: resolveThreads(o.threads), device: o.device ?? 'cpu' });

/**
 * A zero-filled Float32Array for large embedding tables (`ValueNetParams.E`): its memory is 2 MiB
 * aligned and advised for transparent huge pages (Linux), so the random row reads of value scoring
 * skip most page-table walks (1.3-1.7x faster with three 256 MB tables). Anywhere THP is off it
 * behaves like `new Float32Array(length)`. The memory is freed after the array is garbage-collected,
 * on a later turn of the event loop (N-API finalizers): a synchronous loop that allocates many large
 * tables holds them all until it yields. Allocate tables once and reuse them.
 */
export function hugePageFloat32Array(length: number): Float32Array {
  if (!Number.isInteger(length) || length < 0 || length > 1073741823) {
    throw invalidArgument(`length must be an integer between 0 and 1073741823 (got ${length})`);
  }
  return callNative(() => addon().kernelsHugeFloat32Array(length));
}

/** Values of every state under every net, and the combined score sum_m V_m / beta_m. */
export function scoreValues(features: SparseFeaturesInput, nets: ValueNetParams[], betas: Float32Array | number[], options?: KernelOptions): ValueScores {
  const b = betas instanceof Float32Array ? betas : Float32Array.from(betas);
  return callNative(() => addon().kernelsScoreValues(features, nets, b, opts(options)));
}

/** Normalised log-weights of softmax(score / tau) per segment and the effective sample size per segment. */
export function softmaxWeights(scores: Float32Array, offsets: Int32Array, tau: number, options?: KernelOptions): { logWeights: Float32Array; ess: Float32Array } {
  return callNative(() => addon().kernelsSoftmaxWeights(scores, offsets, tau, opts(options)));
}

/** Segment offsets for `n` draws in each of `segments` segments. */
export function uniformOffsets(segments: number, n: number): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw invalidArgument(`draws must be a non-negative integer (got ${n})`);
  return Int32Array.from({ length: segments + 1 }, (_, s) => s * n);
}

/** Local indices drawn from each segment with probabilities softmax(score / tau). */
export function resample(args: ResampleArgs, options?: KernelOptions): Int32Array {
  const code = METHOD_CODE[args.method];
  if (code === undefined) throw invalidArgument(`method must be one of ${Object.keys(METHOD_CODE).join(', ')} (got ${String(args.method)})`);
  const segments = Math.max(0, args.offsets.length - 1);
  const drawOffsets = typeof args.draws === 'number' ? uniformOffsets(segments, args.draws) : args.draws;
  return callNative(() => addon().kernelsResample(args.scores, args.offsets, args.tau, code, drawOffsets, args.seed, args.step ?? 0, args.requestIds, opts(options), args.out));
}

/** The w best local indices per segment (best first; ties: lower index; -Infinity last): [segments x w]. */
export function topW(scores: Float32Array, offsets: Int32Array, w: number, options?: KernelOptions): Int32Array {
  return callNative(() => addon().kernelsTopW(scores, offsets, w, opts(options)));
}

/**
 * Diversity-first top-w: the best member of each distinct continuation hash first (rank order),
 * then the best remaining duplicates, then -Infinity candidates: [segments x w].
 */
export function diverseTopW(scores: Float32Array, hashes: BigUint64Array, offsets: Int32Array, w: number, options?: KernelOptions): Int32Array {
  return callNative(() => addon().kernelsDiverseTopW(scores, hashes, offsets, w, opts(options)));
}

/** Best child (local index g*k + j) of each group of k consecutive candidates. */
export function groupBest(scores: Float32Array, offsets: Int32Array, k: number, options?: KernelOptions): Int32Array {
  return callNative(() => addon().kernelsGroupBest(scores, offsets, k, opts(options)));
}

/** Child layout, minimal fork plan, copied histories and every child's first token. */
export function expandBeams(args: ExpandBeamsArgs, options?: KernelOptions): BeamExpansionResult {
  return callNative(() => addon().kernelsExpandBeams(args, opts(options)));
}
