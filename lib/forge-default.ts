/**
 * The embedded default base model: its recipe (review corpus + forge options), where it lives,
 * its manifest, and the function that forges it (behind `npm run forge:default`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { forgeModel, sampleFromModel, type ForgeDims, type ForgeOptions, type ForgeProgress, type ForgeReport } from './forge.js';
import { packageRoot } from './native.js';
import { reviewPositivityDetail } from './rewards.js';
import { generateReviewCorpus, reviewPrompts } from './task/reviews.js';

export const DEFAULT_MODEL_FILE = 'reviews-base.gguf';
export const MODEL_MANIFEST_FILE = 'MANIFEST.json';

/** Everything that determines the default model's bytes (with the thread count and llama.cpp build). */
export const DEFAULT_MODEL_RECIPE = {
  name: 'iro-reviews-base',
  corpus: { generator: 'reviews' as const, reviews: 2500, seed: 20240611 },
  forge: {
    vocabSize: 1200,
    nEmbd: 128,
    nLayer: 2,
    nHead: 4,
    nHeadKv: 4,
    nFf: 384,
    context: 256,
    epochs: 10,
    learningRate: 5e-4,
    minLearningRate: 5e-5,
    weightDecay: 0,
    heldOut: 0.05,
    seed: 1,
  },
  threads: 1,
  /** How the base-model positivity figures in the manifest are measured. */
  positivity: { samples: 256, maxTokens: 128, temperature: 1, topK: 0, seed: 7 },
} as const;

/** Path of the committed default model inside the package. */
export function defaultModelPath(): string {
  return path.join(packageRoot, 'models', DEFAULT_MODEL_FILE);
}

export interface PositivityStats {
  samples: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
  /** Fraction of samples that ended (as reviewPositivity defines it: sentence-final punctuation). */
  ended: number;
  /** Fraction with score > 0 and < 0. */
  positive: number;
  negative: number;
}

export interface ModelManifestEntry {
  file: string;
  name: string;
  sha256: string;
  bytes: number;
  corpus: { generator: 'reviews'; reviews: number; seed: number; tokens: number; trainTokens: number; heldOutTokens: number };
  vocabSize: number;
  dims: ForgeDims;
  nParams: number;
  training: {
    epochs: number;
    context: number;
    learningRate: number;
    minLearningRate: number;
    heldOut: number;
    seed: number;
    threads: number;
    steps: number;
    initialHeldOutLoss: number;
    perEpoch: { epoch: number; trainLoss: number; heldOutLoss: number; seconds: number }[];
    trainLoss: number;
    heldOutLoss: number;
    tokensPerSecond: number;
  };
  forgeSeconds: number;
  basePositivity: PositivityStats & { maxTokens: number; temperature: number; seed: number };
  llamaRelease: string;
  forgedWith: string;
}

export interface ModelManifest {
  models: ModelManifestEntry[];
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function readModelManifest(dir = path.join(packageRoot, 'models')): ModelManifest {
  return JSON.parse(readFileSync(path.join(dir, MODEL_MANIFEST_FILE), 'utf8')) as ModelManifest;
}

/** Samples review continuations of the task prompts and scores them with reviewPositivity. */
export async function measureBasePositivity(
  model: string,
  options: { samples?: number; maxTokens?: number; temperature?: number; topK?: number; seed?: number; threads?: number } = {},
): Promise<PositivityStats & { texts: { prompt: string; text: string; score: number }[] }> {
  const n = options.samples ?? DEFAULT_MODEL_RECIPE.positivity.samples;
  const prompts = reviewPrompts(n, options.seed ?? DEFAULT_MODEL_RECIPE.positivity.seed);
  const out = await sampleFromModel(model, prompts, {
    maxTokens: options.maxTokens ?? DEFAULT_MODEL_RECIPE.positivity.maxTokens,
    temperature: options.temperature ?? DEFAULT_MODEL_RECIPE.positivity.temperature,
    topK: options.topK ?? DEFAULT_MODEL_RECIPE.positivity.topK,
    seed: options.seed ?? DEFAULT_MODEL_RECIPE.positivity.seed,
    threads: options.threads ?? 1,
  });
  const texts = out.map((s, i) => {
    const d = reviewPositivityDetail(prompts[i]!, s.text);
    return { prompt: prompts[i]!, text: s.text, score: d.score, ended: d.ended };
  });
  const scores = texts.map((t) => t.score);
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  return {
    samples: n,
    mean,
    sd,
    min: Math.min(...scores),
    max: Math.max(...scores),
    ended: texts.filter((t) => t.ended).length / n,
    positive: scores.filter((s) => s > 0).length / n,
    negative: scores.filter((s) => s < 0).length / n,
    texts: texts.map(({ prompt, text, score }) => ({ prompt, text, score })),
  };
}

export interface ForgeDefaultOptions {
  /** Output file (default: models/reviews-base.gguf of the package). */
  out?: string;
  threads?: number;
  onProgress?: (p: ForgeProgress) => void;
  signal?: AbortSignal;
}

/** Forges the default model from its recipe and returns its manifest entry. */
export async function forgeDefaultModel(options: ForgeDefaultOptions = {}): Promise<{ report: ForgeReport; entry: ModelManifestEntry }> {
  const r = DEFAULT_MODEL_RECIPE;
  const out = options.out ?? defaultModelPath();
  const threads = options.threads ?? r.threads;
  const docs = generateReviewCorpus({ count: r.corpus.reviews, seed: r.corpus.seed }).map((d) => d.text);
  const forgeOptions: ForgeOptions = { ...r.forge, name: r.name, threads, onProgress: options.onProgress, signal: options.signal };
  const report = await forgeModel(out, docs, forgeOptions);
  const pos = await measureBasePositivity(out, { ...r.positivity, threads });
  const last = report.epochs.at(-1)!;
  const { getNative } = await import('./native.js');
  const info = getNative().addon.systemInfo();
  const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  const entry: ModelManifestEntry = {
    file: path.basename(out),
    name: r.name,
    sha256: sha256File(out),
    bytes: report.fileBytes,
    corpus: { ...r.corpus, tokens: report.corpusTokens, trainTokens: report.trainTokens, heldOutTokens: report.heldOutTokens },
    vocabSize: report.nVocab,
    dims: { nEmbd: r.forge.nEmbd, nLayer: r.forge.nLayer, nHead: r.forge.nHead, nHeadKv: r.forge.nHeadKv, nFf: r.forge.nFf, nCtxTrain: report.context },
    nParams: report.nParams,
    training: {
      epochs: r.forge.epochs,
      context: report.context,
      learningRate: r.forge.learningRate,
      minLearningRate: r.forge.minLearningRate,
      heldOut: r.forge.heldOut,
      seed: r.forge.seed,
      threads,
      steps: report.steps,
      initialHeldOutLoss: report.initialHeldOutLoss,
      perEpoch: report.epochs.map((e) => ({ epoch: e.epoch, trainLoss: e.trainLoss, heldOutLoss: e.heldOutLoss, seconds: e.seconds })),
      trainLoss: last.trainLoss,
      heldOutLoss: last.heldOutLoss,
      tokensPerSecond: report.tokensPerSecond,
    },
    forgeSeconds: report.seconds,
    basePositivity: {
      samples: pos.samples, mean: pos.mean, sd: pos.sd, min: pos.min, max: pos.max, ended: pos.ended, positive: pos.positive, negative: pos.negative,
      maxTokens: r.positivity.maxTokens, temperature: r.positivity.temperature, seed: r.positivity.seed,
    },
    llamaRelease: info.llama.release,
    forgedWith: `iro-native ${pkg.version}`,
  };
  return { report, entry };
}
