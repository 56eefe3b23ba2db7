import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { IroError } from '../errors.js';
import { forgeModel, type ForgeProgress } from '../forge.js';
import { DEFAULT_MODEL_RECIPE } from '../forge-default.js';
import { generateReviewCorpus } from '../task/reviews.js';

interface ForgeArgs {
  out: string;
  corpus?: string;
  reviews: number;
  corpusSeed: number;
  vocabSize: number;
  embd: number;
  layers: number;
  heads: number;
  kvHeads?: number;
  ff: number;
  context: number;
  epochs: number;
  lr: number;
  minLr?: number;
  heldOut: number;
  seed: number;
  threads?: number;
  maxSteps?: number;
  json: boolean;
}

/** Reads a corpus file: one document per non-empty line, checked as UTF-8. */
function readCorpusFile(file: string): Uint8Array[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new IroError('IO_ERROR', `cannot read corpus file ${file}: ${(e as Error).message}`);
  }
  const docs: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      let end = i;
      if (end > start && bytes[end - 1] === 0x0d) end--;
      if (end > start) docs.push(bytes.subarray(start, end));
      start = i + 1;
    }
  }
  return docs;
}

function progressLine(p: ForgeProgress): string {
  if (p.phase === 'eval') return `epoch ${p.epoch}/${p.epochs}  held-out loss ${p.loss.toFixed(4)}`;
  const width = 30;
  const filled = Math.round((width * p.step) / Math.max(1, p.steps));
  return `epoch ${p.epoch}/${p.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  ${Math.round(p.tokensPerSecond)} tok/s  ${p.seconds.toFixed(0)} s`;
}

const d = DEFAULT_MODEL_RECIPE;

export const forgeCommand: CommandModule<object, ForgeArgs> = {
  command: 'forge',
  describe: 'Make a small llama model from scratch: learn a vocabulary, random-init, train with llama.cpp, save a GGUF',
  builder: (y: Argv) =>
    y
      .option('out', { type: 'string', default: 'forged.gguf', describe: 'output GGUF file' })
      .option('corpus', { type: 'string', describe: 'UTF-8 text file, one document per line (default: generated movie reviews)' })
      .option('reviews', { type: 'number', default: d.corpus.reviews, describe: 'number of generated reviews (without --corpus)' })
      .option('corpus-seed', { type: 'number', default: d.corpus.seed, describe: 'seed of the review generator' })
      .option('vocab-size', { type: 'number', default: d.forge.vocabSize, describe: 'learned pieces (on top of 3 control + 256 byte tokens)' })
      .option('embd', { type: 'number', default: d.forge.nEmbd, describe: 'model width' })
      .option('layers', { type: 'number', default: d.forge.nLayer })
      .option('heads', { type: 'number', default: d.forge.nHead })
      .option('kv-heads', { type: 'number', describe: 'key/value heads (default: heads)' })
      .option('ff', { type: 'number', default: d.forge.nFf, describe: 'feed-forward width' })
      .option('context', { type: 'number', default: d.forge.context, describe: 'training context (llama.cpp pads it to a multiple of 256)' })
      .option('epochs', { type: 'number', default: d.forge.epochs })
      .option('lr', { type: 'number', default: d.forge.learningRate, describe: 'peak AdamW learning rate' })
      .option('min-lr', { type: 'number', describe: 'final learning rate (default: lr / 10)' })
      .option('held-out', { type: 'number', default: d.forge.heldOut, describe: 'fraction of documents held out' })
      .option('seed', { type: 'number', default: d.forge.seed, describe: 'seed of weights, split and window order' })
      .option('threads', { type: 'number', describe: 'compute threads (default: IRO_THREADS or 1)' })
      .option('max-steps', { type: 'number', describe: 'stop after this many optimizer steps' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }) as unknown as Argv<ForgeArgs>,
  handler: async (argv) => {
    const documents = argv.corpus
      ? readCorpusFile(argv.corpus)
      : generateReviewCorpus({ count: argv.reviews, seed: argv.corpusSeed }).map((r) => r.text);
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    const tty = process.stderr.isTTY && !argv.json;
    try {
      const report = await forgeModel(argv.out, documents, {
        vocabSize: argv.vocabSize,
        nEmbd: argv.embd,
        nLayer: argv.layers,
        nHead: argv.heads,
        nHeadKv: argv.kvHeads,
        nFf: argv.ff,
        context: argv.context,
        epochs: argv.epochs,
        learningRate: argv.lr,
        minLearningRate: argv.minLr ?? argv.lr / 10,
        heldOut: argv.heldOut,
        seed: argv.seed,
        threads: argv.threads,
        maxSteps: argv.maxSteps,
        signal: controller.signal,
        onProgress: (p) => {
          if (tty) process.stderr.write(`\r\x1b[2K${progressLine(p)}${p.phase === 'eval' ? '\n' : ''}`);
          else if (!argv.json && p.phase === 'eval') process.stderr.write(`${progressLine(p)}\n`);
        },
      });
      if (argv.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const last = report.epochs.at(-1);
        process.stdout.write(
          [
            `wrote ${report.path} (${(report.fileBytes / 1e6).toFixed(2)} MB, ${report.nParams} parameters, vocabulary ${report.nVocab})`,
            `corpus ${report.corpusTokens} tokens (${report.trainTokens} train, ${report.heldOutTokens} held out), context ${report.context}, ${report.steps} steps`,
            `held-out loss ${report.initialHeldOutLoss.toFixed(4)} -> ${last?.heldOutLoss.toFixed(4)}, train loss ${last?.trainLoss.toFixed(4)}`,
            `${report.seconds.toFixed(1)} s, ${Math.round(report.tokensPerSecond)} training tokens/s on ${report.threads} thread(s)`,
          ].join('\n') + '\n',
        );
      }
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  },
};
