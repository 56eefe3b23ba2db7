import { ValueFunction } from '../lib/value.js';
import { synthRows, SYNTH_VOCAB } from './value-synthetic.js';
const rows = synthRows({ rows: Number(process.env.ROWS ?? 600), seed: 3 });
const o = JSON.parse(process.env.OPTS ?? '{}');
const t = Date.now();
const vf = await ValueFunction.train(SYNTH_VOCAB, rows, { nBuckets: 1 << 14, maxEpochs: 30, seed: 1, validationFraction: 0.2, ...o });
const r = vf.report!;
console.log(Date.now() - t, 'ms', r.epochs, r.bestEpoch, r.statesPerSecond, JSON.stringify(r.evaluation.spearman), r.evaluation.mse, r.history.map(h=>h.trainMse?.toFixed(3)+'/'+h.heldOutMse?.toFixed(3)).join(' '));
