/**
 * Value-function benchmarks (numbers for the notes, no assertions):
 *  - training throughput in prefix states per second for ~1e5 states, 1 thread vs 2 threads
 *    (same seed, so both runs do the same work and give the same function);
 *  - scoring cost of w*k = 16 candidates at a chunk boundary (featurize + value-scoring kernel).
 *
 *   node dist/bench/value-train.js [states=100000]
 */
import { ValueEnsemble, ValueFunction, type ValueState } from '../lib/value.js';
import { synthRows, SYNTH_VOCAB } from './value-synthetic.js';

const target = Number(process.argv[2] ?? 100000);
// Rows of 16..32 tokens, a state per token: ~24 states per row.
const rows = synthRows({ rows: Math.ceil(target / 24), seed: 1 });
const states = rows.reduce((s, r) => s + r.response.length, 0);
const epochs = 3;

async function run(threads: number) {
  const t0 = performance.now();
  const vf = await ValueFunction.train(SYNTH_VOCAB, rows, { maxEpochs: epochs, patience: epochs, validationFraction: 0.05, seed: 1, threads });
  const wall = (performance.now() - t0) / 1000;
  return { vf, threads, wall, statesPerSecond: vf.report!.statesPerSecond! };
}

const one = await run(1);
const two = await run(2);
const probe: ValueState[] = rows.slice(0, 64).map((r) => ({ prompt: r.prompt, response: r.response }));
const identical = Array.from(one.vf.score(probe)).every((v, i) => v === two.vf.score(probe)[i]);

// Scoring at a chunk boundary: 16 candidates of 64 response tokens, 2 value functions (the default
// search scores every candidate with every function of the ensemble).
const cands: ValueState[] = Array.from({ length: 16 }, (_, i) => ({
  prompt: rows[i]!.prompt,
  response: Array.from({ length: 64 }, (_, j) => rows[(i + j) % rows.length]!.response[0]!),
}));
const ens = new ValueEnsemble([{ vf: one.vf, beta: 1 }, { vf: two.vf, beta: 1 }]);
for (let i = 0; i < 50; i++) ens.score(cands);
const reps = 2000;
const t0 = performance.now();
for (let i = 0; i < reps; i++) ens.score(cands);
const scoreMs = (performance.now() - t0) / reps;

const out = {
  states,
  epochs,
  defaults: { nBuckets: one.vf.info.nBuckets, embeddingWidth: one.vf.info.embeddingWidth, hiddenWidth: one.vf.info.hiddenWidth, promptWindow: one.vf.info.featurizer.promptWindow },
  train: [one, two].map((r) => ({ threads: r.threads, statesPerSecond: Math.round(r.statesPerSecond), wallSeconds: +r.wall.toFixed(2) })),
  speedup2vs1: +(two.statesPerSecond / one.statesPerSecond).toFixed(2),
  identicalAcrossThreads: identical,
  heldOutSpearman50: one.vf.report!.evaluation.spearman['0.5'],
  score16x2Ms: +scoreMs.toFixed(4),
};
console.log(JSON.stringify(out, null, 2));
one.vf.dispose();
two.vf.dispose();
