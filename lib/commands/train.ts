import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { interruptSignal, promptsFromOption, rewardFromOption, withSearchOptions, type SearchCliArgs } from '../cli-shared.js';
import { Engine } from '../engine.js';
import { IroError } from '../errors.js';
import { readJsonIfExists } from '../atomic-file.js';
import { defaultModelPath } from '../forge-default.js';
import { engineBackend } from '../iro-backend.js';
import { createProgress, defaultProgressMode, type ProgressTask } from '../progress.js';
import { IroTrainer, type RunManifest } from '../trainer.js';

interface TrainArgs extends SearchCliArgs {
  model?: string;
  prompts?: string;
  reward?: string;
  out?: string;
  resume?: string;
  iterations: number;
  betas?: string;
  promptsPerIteration: number;
  rolloutsPerPrompt: number;
  resampleTemperature: number;
  warmStart: boolean;
  valueEpochs: number;
  threads?: number;
  seed: number;
  json: boolean;
}

/** What a run folder must remember to be resumed with `--resume DIR` alone. */
interface RunArgs { model: string; prompts?: string; reward?: string; options: Omit<TrainArgs, 'resume' | 'out' | 'json' | 'model' | 'prompts' | 'reward'> }

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Run the IRO loop: rollouts, reward, reweighting and a value function per iteration, in a resumable run folder',
  builder: (y: Argv) => withSearchOptions(y
    .option('model', { type: 'string', describe: 'GGUF model (default: the embedded review model)' })
    .option('prompts', { type: 'string', describe: 'JSONL prompts file (default: built-in review prompts)' })
    .option('reward', { type: 'string', describe: 'positivity or an http(s):// batch reward endpoint' })
    .option('out', { type: 'string', describe: 'new run folder' })
    .option('resume', { type: 'string', describe: 'continue the run in this folder (same settings as when it started)' })
    .option('iterations', { alias: 'T', type: 'number', default: 3 })
    .option('betas', { type: 'string', describe: 'comma-separated β per iteration (default 1 each)' })
    .option('prompts-per-iteration', { type: 'number', default: 32 })
    .option('rollouts-per-prompt', { type: 'number', default: 4 })
    .option('resample-temperature', { type: 'number', default: 0, describe: 'τ of the reweighting (0 keeps the best candidate of each prompt)' })
    .option('warm-start', { type: 'boolean', default: false, describe: 'initialise V_t from V_{t-1}' }), { maxTokens: 96, beams: 'beams kept (guided rollouts)' })
    .option('value-epochs', { type: 'number', default: 40 })
    .option('threads', { type: 'number' })
    .option('seed', { type: 'number', default: 1 })
    .option('json', { type: 'boolean', default: false, describe: 'print the final manifest as JSON (no progress output)' })
    .check((a) => {
      if (!a.out && !a.resume) throw new Error('give --out DIR for a new run, or --resume DIR');
      if (a.out && a.resume) throw new Error('--out and --resume exclude each other');
      return true;
    }) as unknown as Argv<TrainArgs>, // kebab-case options arrive camel-cased as well
  handler: async (argv) => {
    const runDir = path.resolve((argv.resume ?? argv.out)!);
    const argsFile = path.join(runDir, 'cli-args.json');
    let run: RunArgs;
    if (argv.resume) {
      const stored = await readJsonIfExists<RunArgs>(argsFile);
      if (!stored) throw new IroError('INVALID_ARGUMENT', `${runDir} is not a run folder made by "iro-native train" (no cli-args.json); start a new run with --out`);
      run = stored;
    } else {
      const { resume: _r, out: _o, json: _j, model, prompts, reward, $0: _0, _: _u, ...options } = argv as TrainArgs & { $0: string; _: unknown };
      const clean = Object.fromEntries(Object.entries(options).filter(([k]) => !k.includes('-') && k !== 'T')) as RunArgs['options'];
      run = { model: path.resolve(model ?? defaultModelPath()), prompts: prompts && path.resolve(prompts), reward, options: clean };
      const { mkdirSync } = await import('node:fs');
      mkdirSync(runDir, { recursive: true });
      const existing = await readJsonIfExists<RunManifest>(path.join(runDir, 'manifest.json'));
      if (existing) throw new IroError('INVALID_ARGUMENT', `${runDir} already holds a run; continue it with --resume ${argv.out}, or choose another --out`);
      const { writeJsonAtomic } = await import('../atomic-file.js');
      await writeJsonAtomic(argsFile, run);
    }
    const o = run.options;
    const betas = o.betas ? o.betas.split(',').map(Number) : undefined;
    const prompts = await promptsFromOption(run.prompts, o.iterations * o.promptsPerIteration, 101);
    const { reward, name } = rewardFromOption(run.reward);
    const progress = createProgress(defaultProgressMode(argv.json));
    const signal = interruptSignal();
    const engine = await Engine.load({ model: run.model, threads: argv.threads ?? o.threads, maxSequences: Math.max(64, o.w * o.k * 4), contextSize: 16384, signal });
    try {
      let task: ProgressTask | undefined;
      let current = '';
      const trainer = new IroTrainer({
        backend: engineBackend(engine, {
          search: { w: o.w, k: o.k, l: o.l, maxTokens: o.maxTokens, temperature: o.temperature, topK: o.topK },
          valueOptions: { maxEpochs: o.valueEpochs },
        }),
        prompts, reward, runDir, iterations: o.iterations, betas, promptsPerIteration: o.promptsPerIteration,
        rolloutsPerPrompt: o.rolloutsPerPrompt, resampleTemperature: o.resampleTemperature, warmStart: o.warmStart, seed: o.seed, signal,
        extraConfig: { model: path.basename(run.model), reward: name, w: o.w, k: o.k, l: o.l, maxTokens: o.maxTokens, temperature: o.temperature, topK: o.topK, valueEpochs: o.valueEpochs },
        onProgress: (e) => {
          const label = `iteration ${e.iteration}: ${e.stage}`;
          if (label !== current) {
            task?.done();
            current = label;
            task = progress.task(label, e.total);
          }
          task!.update(e.done);
        },
      });
      const manifest = await trainer.run();
      task?.done();
      if (argv.json) process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
      else {
        for (const it of manifest.iterations) {
          const m = it.metrics!;
          const ev = (m.value as { evaluation?: { spearman?: Record<string, number> } } | undefined)?.evaluation;
          progress.log(`iteration ${it.iteration}: mean reward ${m.meanReward.toFixed(3)} over ${m.rollouts} rollouts (${m.rewardFailures} failed), kept ${m.keptSamples} (mean ${m.keptMeanReward.toFixed(3)}), value Spearman@50% ${ev?.spearman?.['0.5']?.toFixed(3) ?? '-'}`);
        }
        progress.log(`run folder: ${runDir}`);
      }
    } finally {
      await engine.dispose();
    }
  },
};
