/** Option parsing shared by the commands: search settings, prompts, rewards, signals. */
import { setMaxListeners } from 'node:events';
import type { Argv } from 'yargs';
import { IroError } from './errors.js';
import { loadPromptsFile } from './prompts.js';
import { httpReward } from './reward-http.js';
import type { Reward } from './reward-scoring.js';
import { reviewPositivity } from './rewards.js';
import { reviewPrompts } from './task/reviews.js';

export const BUILTIN_REWARDS = ['positivity'] as const;

/** The chunk-level search settings of `decode` and of `train`'s guided rollouts. */
export interface SearchCliArgs { w: number; k: number; l: number; maxTokens: number; temperature: number; topK: number }

/** Adds --w --k --l --max-tokens --temperature --top-k (`beams` says what the kept beams are for). */
export function withSearchOptions<T>(y: Argv<T>, defaults: { maxTokens: number; beams: string }): Argv<T & SearchCliArgs> {
  return y
    .option('w', { type: 'number', default: 4, describe: defaults.beams })
    .option('k', { type: 'number', default: 4, describe: 'children per beam' })
    .option('l', { type: 'number', default: 8, describe: 'tokens per chunk' })
    .option('max-tokens', { type: 'number', default: defaults.maxTokens })
    .option('temperature', { type: 'number', default: 0.7 })
    .option('top-k', { type: 'number', default: 50 }) as unknown as Argv<T & SearchCliArgs>;
}

/** `--reward`: a built-in name or an http(s) URL of a batch reward endpoint. */
export function rewardFromOption(spec: string | undefined): { reward: Reward; name: string } {
  const s = spec ?? 'positivity';
  if (s === 'positivity') return { reward: reviewPositivity, name: 'reviewPositivity' };
  if (/^https?:\/\//.test(s)) return { reward: httpReward(s), name: s };
  throw new IroError('INVALID_ARGUMENT', `--reward must be one of ${BUILTIN_REWARDS.join(', ')} or an http(s):// URL (got "${s}")`);
}

/** `--prompts FILE.jsonl` or the built-in task prompts. */
export async function promptsFromOption(file: string | undefined, count: number, seed: number): Promise<string[]> {
  if (!file) return reviewPrompts(count, seed);
  return (await loadPromptsFile(file)).map((p) => p.prompt);
}

/** An AbortSignal fired by Ctrl-C (a second Ctrl-C exits at once). */
export function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  // One signal serves every concurrent request of the command (each adds a listener while in flight).
  setMaxListeners(0, ac.signal);
  process.once('SIGINT', () => {
    process.stderr.write('\niro-native: stopping after the current step (Ctrl-C again to quit now)…\n');
    ac.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return ac.signal;
}
