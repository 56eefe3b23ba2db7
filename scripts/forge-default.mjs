#!/usr/bin/env node
// Re-forges the embedded default model (models/reviews-base.gguf) from its recipe and updates
// models/MANIFEST.json. The result is bit-for-bit identical to the committed model when the
// recipe, the thread count, the llama.cpp build and the CPU's ggml kernels are the same.
//   npm run forge:default              forge into models/ and report whether it matches
//   npm run forge:default -- --check   forge into a temporary folder, compare, change nothing
//   npm run forge:default -- --threads N
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lib = await import(path.join(root, 'dist', 'lib', 'forge-default.js')).catch(() => {
  process.stderr.write('forge:default needs the compiled library: run `npm run build` first\n');
  process.exit(1);
});
const { DEFAULT_MODEL_RECIPE, DEFAULT_MODEL_FILE, MODEL_MANIFEST_FILE, forgeDefaultModel } = lib;

const args = process.argv.slice(2);
const check = args.includes('--check');
const ti = args.indexOf('--threads');
const threads = ti >= 0 ? Number(args[ti + 1]) : DEFAULT_MODEL_RECIPE.threads;
const modelsDir = path.join(root, 'models');
const manifestPath = path.join(modelsDir, MODEL_MANIFEST_FILE);
const previous = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')).models?.find((m) => m.file === DEFAULT_MODEL_FILE) : undefined;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'iro-forge-default-'));
const out = path.join(tmp, DEFAULT_MODEL_FILE);
const tty = process.stderr.isTTY;
try {
  const { report, entry } = await forgeDefaultModel({
    out,
    threads,
    onProgress: (p) => {
      const line = p.phase === 'eval'
        ? `epoch ${p.epoch}/${p.epochs} held-out loss ${p.loss.toFixed(4)}\n`
        : `epoch ${p.epoch}/${p.epochs} ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} ${Math.round(p.tokensPerSecond)} tok/s ${p.seconds.toFixed(0)} s`;
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else if (p.phase === 'eval') process.stderr.write(line);
    },
  });
  process.stdout.write(`forged ${DEFAULT_MODEL_FILE}: ${report.nParams} parameters, ${report.corpusTokens} corpus tokens, ` +
    `held-out loss ${entry.training.heldOutLoss.toFixed(4)}, ${report.seconds.toFixed(1)} s, ${Math.round(report.tokensPerSecond)} tok/s, ` +
    `positivity ${entry.basePositivity.mean.toFixed(3)} ± ${entry.basePositivity.sd.toFixed(3)}\nsha256 ${entry.sha256}\n`);
  let same = false;
  if (previous) {
    same = previous.sha256 === entry.sha256;
    if (same) {
      process.stdout.write('identical to the committed model (bit for bit)\n');
    } else {
      const why = [];
      if (previous.training.threads !== threads) why.push(`thread count ${threads} differs from ${previous.training.threads} (ggml splits work per thread)`);
      if (previous.llamaRelease !== entry.llamaRelease) why.push(`llama.cpp ${entry.llamaRelease} differs from ${previous.llamaRelease}`);
      if (previous.corpus.tokens !== entry.corpus.tokens) why.push('the corpus differs (generator or piece learner changed)');
      const recipe = (m) => JSON.stringify([m.corpus.reviews, m.corpus.seed, m.vocabSize, m.dims, m.training.epochs, m.training.learningRate, m.training.minLearningRate, m.training.heldOut, m.training.seed]);
      if (recipe(previous) !== recipe(entry)) why.push('the recipe (corpus size/seed, vocabulary, dims, epochs, learning rate, split or seed) changed');
      if (why.length === 0) why.push('same recipe, threads and llama.cpp: the CPU kernels ggml chose differ (other CPU features) or the code changed');
      process.stdout.write(`differs from the committed model (${previous.sha256}):\n  - ${why.join('\n  - ')}\n`);
    }
  }
  if (!check) {
    renameSync(out, path.join(modelsDir, DEFAULT_MODEL_FILE));
    const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : { models: [] };
    manifest.models = [...(manifest.models ?? []).filter((m) => m.file !== DEFAULT_MODEL_FILE), entry];
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    process.stdout.write(`wrote models/${DEFAULT_MODEL_FILE} and models/${MODEL_MANIFEST_FILE}\n`);
  }
  process.exitCode = check && previous && !same ? 1 : 0;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
