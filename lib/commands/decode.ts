import type { Argv, CommandModule } from 'yargs';
import { invalidArgument } from '../errors.js';
import { native } from '../native.js';
import { resolveThreads } from '../threads.js';
import { runSearch, type SearchStrategy, type SearchValue } from '../search.js';

interface DecodeArgs {
  model: string;
  values: string[];
  prompt: string;
  json: boolean;
  w: number;
  k: number;
  l: number;
  maxTokens: number;
  temperature: number;
  topK: number;
  strategy: string;
  seed: number;
  threads?: number;
  contextSize: number;
}

/** Parses `path[:beta]` (the last colon followed by a number is the beta). */
export function parseValueArg(s: string): SearchValue {
  const m = /^(.*):([0-9.eE+-]+)$/.exec(s);
  if (m && m[1] && Number.isFinite(Number(m[2]))) return { vf: m[1], beta: Number(m[2]) };
  if (!s) throw invalidArgument('--values needs a value-file path');
  return { vf: s };
}

type LoadNative = { engineLoad(path: string, o: Record<string, number>): { promise: Promise<unknown> }; engineDispose(h: unknown): Promise<void> };

export const decodeCommand: CommandModule<object, DecodeArgs> = {
  command: 'decode',
  describe: 'Value-guided search (or plain sampling without --values) on a GGUF model',
  builder: (y: Argv) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'base model (.gguf)' })
      .option('values', { type: 'string', array: true, default: [], describe: 'value files, each path[:beta]' })
      .option('prompt', { type: 'string', demandOption: true })
      .option('json', { type: 'boolean', default: false, describe: 'print the whole result as JSON' })
      .option('w', { type: 'number', default: 4, describe: 'beams kept' })
      .option('k', { type: 'number', default: 4, describe: 'children per beam' })
      .option('l', { type: 'number', default: 8, describe: 'tokens per chunk' })
      .option('max-tokens', { type: 'number', default: 64 })
      .option('temperature', { type: 'number', default: 0.7 })
      .option('top-k', { type: 'number', default: 50 })
      .option('strategy', { type: 'string', default: 'diverse', choices: ['diverse', 'topw', 'group', 'softmax'] })
      .option('seed', { type: 'number', default: 0 })
      .option('threads', { type: 'number' })
      .option('context-size', { type: 'number', default: 2048 }) as unknown as Argv<DecodeArgs>,
  handler: async (argv) => {
    // Until Engine exposes search mode in decode(), the command drives the native engine directly.
    const addon = native() as unknown as LoadNative;
    const handle = await addon.engineLoad(argv.model, { threads: resolveThreads(argv.threads), contextSize: argv.contextSize, maxSequences: Math.max(16, argv.w * argv.k) }).promise;
    const tty = process.stdout.isTTY && !argv.json;
    try {
      const [r] = await runSearch(handle, {
        prompt: argv.prompt,
        values: argv.values.map(parseValueArg),
        w: argv.w, k: argv.k, l: argv.l, maxTokens: argv.maxTokens, temperature: argv.temperature, topK: argv.topK,
        strategy: argv.strategy as SearchStrategy, seed: argv.seed,
        ...(tty ? { onChunk: (c) => !c.final && process.stdout.write(`\r\x1b[2K[${c.chunk}] ${c.text.replace(/\n/g, ' ').slice(-(process.stdout.columns ?? 80) + 8)}`) } : {}),
      });
      if (tty) process.stdout.write('\r\x1b[2K');
      if (argv.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        process.stdout.write(`${r!.text}\n`);
        const s = r!.stats;
        process.stderr.write(`score ${r!.score.toFixed(4)} · ${s.tokensSampled} tokens sampled · ${s.valueEvaluations} value evaluations · ${s.forks} forks · ${s.time.totalMs.toFixed(0)} ms\n`);
      }
    } finally {
      await addon.engineDispose(handle);
    }
  },
};
