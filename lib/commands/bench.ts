import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { BENCH_RESAMPLE_TEMPERATURE, FULL_SIZES, QUICK_SIZES, runIroBench } from '../../bench/iro.js';
import { formatTable } from '../../bench/report.js';
import { interruptSignal, promptsFromOption, rewardFromOption } from '../cli-shared.js';
import { defaultModelPath } from '../forge-default.js';
import { createProgress, defaultProgressMode } from '../progress.js';

interface BenchArgs {
  model?: string;
  prompts?: string;
  reward?: string;
  quick: boolean;
  out: string;
  threads?: number;
  seed: number;
  resampleTemperature?: number;
  json: boolean;
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench',
  describe: 'The main job: base sampling vs Best-of-N vs IRO iterations on held-out prompts, plus throughput',
  builder: (y: Argv) => y
    .option('model', { type: 'string', describe: 'GGUF model (default: the embedded review model)' })
    .option('prompts', { type: 'string', describe: 'JSONL file, one {"prompt": …} per line (default: the built-in review prompts); the first part trains IRO, the rest is held out' })
    .option('reward', { type: 'string', describe: 'positivity (built-in) or an http(s):// endpoint taking {items:[{prompt,response}]} and returning {scores:[]}' })
    .option('quick', { type: 'boolean', default: false, describe: 'a small run (CI-sized, a few minutes on 2 cores)' })
    .option('out', { type: 'string', default: 'bench-results', describe: 'folder for bench-results.json, the chart and the IRO run' })
    .option('threads', { type: 'number', describe: 'compute threads (default: IRO_THREADS or the measured default)' })
    .option('seed', { type: 'number', default: 1 })
    .option('resample-temperature', { type: 'number', describe: `τ of IRO's reweighting (default ${BENCH_RESAMPLE_TEMPERATURE}; 0 keeps each prompt's best rollout)` })
    .option('json', { type: 'boolean', default: false, describe: 'print the results as JSON on stdout (no progress output)' })
    .example('$0 bench --quick', 'a few-minute run on the embedded model')
    .example('$0 bench --model my.gguf --prompts prompts.jsonl --reward http://127.0.0.1:8000/score', 'your model, prompts and reward'),
  handler: async (argv) => {
    const sizes = argv.quick ? QUICK_SIZES : FULL_SIZES;
    const nTrain = sizes.iterations * sizes.trainPromptsPerIteration;
    let trainPrompts: string[];
    let evalPrompts: string[];
    if (argv.prompts) {
      const all = await promptsFromOption(argv.prompts, 0, 0);
      if (all.length < nTrain + 1) {
        const { IroError } = await import('../errors.js');
        throw new IroError('INVALID_ARGUMENT', `${argv.prompts} has ${all.length} prompts; the ${argv.quick ? 'quick' : 'full'} bench needs ${nTrain} for IRO training plus at least 1 held out`);
      }
      trainPrompts = all.slice(0, nTrain);
      evalPrompts = all.slice(nTrain, nTrain + sizes.evalPrompts);
    } else {
      trainPrompts = await promptsFromOption(undefined, nTrain, 101);
      evalPrompts = await promptsFromOption(undefined, sizes.evalPrompts, 202);
    }
    const { reward, name } = rewardFromOption(argv.reward);
    const progress = createProgress(defaultProgressMode(argv.json));
    const model = argv.model ?? defaultModelPath();
    progress.log(`iro-native bench${argv.quick ? ' --quick' : ''}: ${path.basename(model)}, reward ${name}, ${evalPrompts.length} held-out prompts`);
    const result = await runIroBench({
      model, trainPrompts, evalPrompts, reward, rewardName: name, sizes, outDir: path.resolve(argv.out), threads: argv.threads,
      seed: argv.seed, resampleTemperature: argv.resampleTemperature, progress, signal: interruptSignal(),
    });
    if (argv.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const t = result.throughput;
      const say = (line: string) => process.stdout.write(`${line}\n`);
      say(`\n${formatTable(result.methods)}\n`);
      say(`throughput: plain sampling ${t.plainSamplingTokensPerSecond!.toFixed(0)} tok/s, guided search ${t.guidedSearchTokensPerSecond!.toFixed(0)} tok/s (${t.guidedOverPlainThroughput!.toFixed(2)}x), value scoring + selection ${(100 * t.valueScoringShareOfDecode!).toFixed(1)}% of decode time`);
      say(`kernels: value scoring ${t.valueScoringStatesPerSecond!.toExponential(2)} states/s, resampling ${t.resamplingDrawsPerSecond!.toExponential(2)} draws/s`);
      say(`wrote ${result.files.json} and ${result.files.chart}`);
    }
  },
};
