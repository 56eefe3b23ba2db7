import type { Argv, CommandModule } from 'yargs';
import { rewardFromOption, withSearchOptions, type SearchCliArgs } from '../cli-shared.js';
import { Engine } from '../engine.js';
import { invalidArgument } from '../errors.js';
import { defaultModelPath } from '../forge-default.js';
import type { SearchStrategy, SearchValue } from '../search.js';
import { ValueFunction } from '../value.js';

interface DecodeArgs extends SearchCliArgs {
  model?: string;
  reward?: string;
  values: string[];
  prompt: string;
  json: boolean;
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

export const decodeCommand: CommandModule<object, DecodeArgs> = {
  command: 'decode',
  describe: 'Value-guided search (or plain sampling without --values) on a GGUF model',
  builder: (y: Argv) =>
    withSearchOptions(y
      .option('model', { type: 'string', describe: 'base model (.gguf; default: the embedded review model)' })
      .option('values', { type: 'string', array: true, default: [], describe: 'value files, each path[:beta]' })
      .option('prompt', { type: 'string', demandOption: true })
      .option('reward', { type: 'string', describe: 'rerank the final candidates by this reward (positivity or an http(s):// endpoint); default: by value' })
      .option('json', { type: 'boolean', default: false, describe: 'print the whole result as JSON' }), { maxTokens: 64, beams: 'beams kept' })
      .option('strategy', { type: 'string', default: 'diverse', choices: ['diverse', 'topw', 'group', 'softmax'] })
      .option('seed', { type: 'number', default: 0 })
      .option('threads', { type: 'number' })
      .option('context-size', { type: 'number', default: 2048 }) as unknown as Argv<DecodeArgs>,
  handler: async (argv) => {
    const engine = await Engine.load({
      model: argv.model ?? defaultModelPath(), threads: argv.threads, contextSize: argv.contextSize, maxSequences: Math.max(16, argv.w * argv.k),
    });
    const values: { vf: ValueFunction; beta: number }[] = [];
    const tty = process.stdout.isTTY && !argv.json;
    try {
      for (const v of argv.values.map(parseValueArg)) {
        // Loading against the engine's vocabulary turns a value file of another model into VOCAB_MISMATCH.
        const vf = await ValueFunction.load(v.vf as string, { vocab: engine });
        values.push({ vf, beta: v.beta ?? vf.info.beta });
      }
      const reward = argv.reward ? rewardFromOption(argv.reward).reward : undefined;
      const r = await engine.decode({
        mode: 'search',
        prompt: argv.prompt,
        values,
        w: argv.w, k: argv.k, l: argv.l, maxTokens: argv.maxTokens, temperature: argv.temperature, topK: argv.topK,
        strategy: argv.strategy as SearchStrategy, seed: argv.seed,
        ...(reward ? { reward, rerank: 'reward' as const } : {}),
        ...(tty ? { onChunk: (c) => !c.final && process.stdout.write(`\r\x1b[2K[${c.chunk}] ${c.text.replace(/\n/g, ' ').slice(-(process.stdout.columns ?? 80) + 8)}`) } : {}),
      });
      if (tty) process.stdout.write('\r\x1b[2K');
      if (argv.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        process.stdout.write(`${r.text}\n`);
        const s = r.stats;
        process.stderr.write(`score ${r.score.toFixed(4)} · ${s.tokensSampled} tokens sampled · ${s.valueEvaluations} value evaluations · ${s.forks} forks · ${s.time.totalMs.toFixed(0)} ms\n`);
      }
    } finally {
      for (const v of values) v.vf.dispose();
      await engine.dispose();
    }
  },
};
