import { invalidArgument } from './errors.js';

/**
 * Default number of compute threads inside a Node process. Measured on 2 cores (see README,
 * "Threads"): ggml's worker threads spin-wait between graph runs and compete with the JS thread,
 * so 1 thread is the fastest default; raise it with `threads` or IRO_THREADS on larger machines.
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
