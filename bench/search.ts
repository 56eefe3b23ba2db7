/**
 * Search throughput (numbers for the notes, no assertions): value-guided search (w = 4, k = 4,
 * l = 8, one value function) vs plain batched sampling of 16 sequences with the same total tokens,
 * in one run on the same engine, alternating, median of `reps`.
 *
 *   node dist/bench/search.js [model.gguf] [maxTokens=64] [reps=3]
 * Without a model, a larger random-init llama is forged (no default model is committed yet).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EngineNative } from '../lib/engine.js';
import { forgeRandomModel } from '../lib/forge.js';
import { native } from '../lib/native.js';
import { runSearch } from '../lib/search.js';
import { resolveThreads } from '../lib/threads.js';
import { ValueFunction, vocabOfModelFile, type ValueRow } from '../lib/value.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iro-bench-search-'));
const maxTokens = Number(process.argv[3] ?? 64);
const reps = Number(process.argv[4] ?? 3);
const threads = resolveThreads();
const raw = native() as unknown as EngineNative;

let modelPath = process.argv[2];
if (!modelPath) {
  modelPath = path.join(dir, 'bench.gguf');
  const words = ['the', 'film', 'movie', 'good', 'bad', 'great', 'story', 'plot', 'acting', 'music', 'ending', 'not', 'very', 'but', 'and', 'is', 'was'];
  const vocab = [...new Set([...'etaoinshrdlcumwfgypbvkjxqz'].flatMap((c) => [c, ` ${c}`]).concat(words.flatMap((w) => [w, ` ${w}`])))];
  await forgeRandomModel(modelPath, { nEmbd: 256, nLayer: 4, nHead: 8, nHeadKv: 4, nFf: 768, nCtxTrain: 4096, vocab, seed: 1, initStd: 0.3 });
}
const vocab = await vocabOfModelFile(modelPath);

// A value function trained on random rows of this vocabulary (its quality is irrelevant here).
let s = 12345;
const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
const rows: ValueRow[] = Array.from({ length: 400 }, () => {
  const response = Array.from({ length: 16 + Math.floor(rnd() * 48) }, () => Math.floor(rnd() * vocab.size));
  return { prompt: [1, 5, 9], response, reward: rnd() };
});
const vf = await ValueFunction.train(vocab, rows, { maxEpochs: 1, patience: 1, seed: 1, threads });
const vfPath = path.join(dir, 'v.gguf');
await vf.save(vfPath);

const handle = await raw.engineLoad(modelPath, { threads, contextSize: 4096, maxSequences: 16 }).promise;
const prompt = Int32Array.from(raw.engineTokenize(handle, 'the film was', true, false));

async function guided() {
  const t0 = performance.now();
  const [r] = await runSearch(handle, { prompt: Array.from(prompt), values: [{ vf: vfPath, beta: 1 }], w: 4, k: 4, l: 8, maxTokens, seed: 1 });
  const wall = (performance.now() - t0) / 1000;
  return { wall, tokens: r!.stats.tokensSampled, stats: r!.stats };
}

async function plain() {
  const t0 = performance.now();
  const { promise } = raw.engineSubmit(handle, { prompt, n: 16, maxTokens, seed: 1, temperature: 0.7, topK: 50 });
  const r = await promise;
  const wall = (performance.now() - t0) / 1000;
  return { wall, tokens: r.stats.tokensSampled };
}

await plain(); // warm-up
const g: number[] = [];
const p: number[] = [];
let last: Awaited<ReturnType<typeof guided>> | undefined;
for (let i = 0; i < reps; i++) {
  const a = await guided();
  const b = await plain();
  g.push(a.tokens / a.wall);
  p.push(b.tokens / b.wall);
  last = a;
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const gm = median(g);
const pm = median(p);
console.log(JSON.stringify({
  model: process.argv[2] ?? 'forged random-init llama (n_embd 256, 4 layers)',
  threads, maxTokens, reps,
  guidedTokensPerSecond: Math.round(gm),
  plainTokensPerSecond: Math.round(pm),
  ratio: Number((gm / pm).toFixed(3)),
  guidedStats: last && { tokensSampled: last.stats.tokensSampled, valueEvaluations: last.stats.valueEvaluations, forks: last.stats.forks, chunks: last.stats.chunks, peakKvCells: last.stats.peakKvCells, time: last.stats.time },
}, null, 2));
await raw.engineDispose(handle);
vf.dispose?.();
rmSync(dir, { recursive: true, force: true });
