import { invalidArgument } from './errors.js';

/**
 * Default number of compute threads inside a Node process. Measured on 2 shared cores with
 * `node dist/bench/engine.js` (16 sequences, 256-token prompt, 64 tokens each; see README,
 * "Threads"): 1 thread 0.55-0.71 s; 2 threads 27 s with llama.cpp's per-graph pool, 4.0-4.7 s with
 * a persistent ggml thread pool at any polling level (0, 50, 100); the plain C++ loop also lost
 * with 2 threads (5.1 s vs 0.77 s). So 1 thread is the default; raise it with `threads` or
 * IRO_THREADS on machines with idle cores.
 */
export const DEFAULT_THREADS = 1;

/** Resolves the thread count: explicit option, then IRO_THREADS, then the measured default. */
export function resolveThreads(option?: number, env: NodeJS.ProcessEnv = process.env): number {
  if (option !== undefined) {
    if (!Number.isInteger(option) || option < 1 || option > 1024) {
      throw invalidArgument(`threads must be an integer between 1 and 1024 (got ${option})`);
    }
    return option;
  }
  const raw = env.IRO_THREADS;
  if (raw !== undefined && raw !== '') {
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 1 || v > 1024) {
      throw invalidArgument(`IRO_THREADS must be an integer between 1 and 1024 (got "${raw}")`);
    }
    return v;
  }
  return DEFAULT_THREADS;
}
