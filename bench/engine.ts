/**
 * Engine benchmark (run: `node dist/bench/engine.js [--reps N] [--skip-nlc] [--skip-threads]`).
 *  1. Best-of-16, 256-token prompt, 64 new tokens each: iro-native vs node-llama-cpp 3.21.1 (one
 *     context with 16 sequences, each evaluating the prompt) at 1 and 2 threads.
 *  2. Plain batched sampling (16 sequences): iro-native vs the minimal C++ ceiling loop
 *     (build/Release/iro_bench_ceiling), same model, settings, sampler and RNG keys.
 *  3. Threads: the plain workload at 1 / 2 threads and ggml thread-pool polling levels.
 * The model is a random-init llama (~1.2M parameters) written with the forge.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../lib/engine.js';
import { forgeRandomModel } from '../lib/forge.js';
import { packageRoot } from '../lib/native.js';

const args = process.argv.slice(2);
const REPS = Number(args[args.indexOf('--reps') + 1]) > 0 && args.includes('--reps') ? Number(args[args.indexOf('--reps') + 1]) : 3;
const PROMPT = 256, N = 16, NEW = 64;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

function benchVocab(): string[] {
  const words = ['the', 'movie', 'film', 'was', 'good', 'bad', 'great', 'story', 'plot', 'acting', 'music', 'ending', 'not', 'very', 'and', 'but'];
  const out: string[] = [];
  for (const c of 'etaoinshrdlcumwfgypbvkjxqz') out.push(c, ` ${c}`);
  for (const w of words) for (let n = 2; n <= w.length; n++) out.push(w.slice(0, n), ` ${w.slice(0, n)}`);
  return [...new Set(out)];
}

function promptTokens(nVocab: number): number[] {
  return Array.from({ length: PROMPT }, (_, i) => 3 + ((i * 131) % (nVocab - 3)));
}

async function iroRun(model: string, threads: number, poll: number | undefined, mode: 'best-of-n' | 'sample') {
  const engine = await Engine.load({ model, threads, poll, contextSize: PROMPT + N * NEW + 64, maxSequences: N });
  try {
    const prompt = promptTokens(engine.info.nVocab);
    const run = () => engine.decode({
      prompt, n: N, maxTokens: NEW, mode, temperature: 0.7, topK: 50, seed: 0,
      ...(mode === 'best-of-n' ? { scorer: (_p: string, r: string) => r.length } : {}),
    });
    await run(); // warm-up
    const walls: number[] = [];
    let tokens = 0;
    let stats;
    for (let i = 0; i < REPS; i++) {
      const t0 = performance.now();
      const r = await run();
      walls.push(performance.now() - t0);
      tokens = r.stats.tokensSampled;
      stats = r.stats;
    }
    return { wall: median(walls), tokens, stats: stats! };
  } finally {
    await engine.dispose();
  }
}

function ceilingRun(model: string, threads: number, reps = REPS) {
  const bin = path.join(packageRoot, 'build', 'Release', 'iro_bench_ceiling');
  const out = execFileSync(bin, [model, String(PROMPT), String(N), String(NEW), String(threads), String(reps + 1)], { encoding: 'utf8' });
  const rows = out.trim().split('\n').map((l) => JSON.parse(l) as { prefill_ms: number; gen_ms: number; total_ms: number; tokens: number }).slice(1);
  return { wall: median(rows.map((r) => r.total_ms)), tokens: rows[0]!.tokens };
}

async function nodeLlamaCppRun(model: string, nVocab: number, threads: number, reps: number) {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  const m = await llama.loadModel({ modelPath: model });
  const ctx = await m.createContext({ sequences: N, threads, contextSize: 512 });
  const prompt = promptTokens(nVocab);
  try {
    const seqs = Array.from({ length: N }, () => ctx.getSequence());
    const once = async () => {
      for (const s of seqs) await s.clearHistory();
      const t0 = performance.now();
      await Promise.all(seqs.map(async (s, i) => {
        let n = 0;
        for await (const _t of s.evaluate(prompt as never, { temperature: 0.7, topK: 50, seed: i })) if (++n >= NEW) break;
      }));
      return performance.now() - t0;
    };
    await once(); // warm-up
    const walls: number[] = [];
    for (let i = 0; i < reps; i++) walls.push(await once());
    return median(walls);
  } finally {
    await ctx.dispose();
    await m.dispose();
    await llama.dispose();
  }
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iro-bench-engine-'));
  const model = path.join(dir, 'bench.gguf');
  try {
    const info = await forgeRandomModel(model, { nEmbd: 128, nLayer: 4, nHead: 4, nHeadKv: 4, nFf: 512, nCtxTrain: 4096, vocab: benchVocab(), seed: 1 });
    console.log(`model: random-init llama, ${(info.nParams / 1e6).toFixed(2)}M parameters, vocab ${info.nVocab}; ${os.cpus().length} cores; ${REPS} reps (median)`);

    // 1. Best-of-16 vs node-llama-cpp
    const bon1 = await iroRun(model, 1, undefined, 'best-of-n');
    const bon2 = await iroRun(model, 2, 50, 'best-of-n');
    const bon = bon2.wall < bon1.wall ? bon2 : bon1;
    console.log(`\nBest-of-${N}, ${PROMPT}-token prompt, ${NEW} new tokens each`);
    console.log(`  iro-native (1 thread):   ${fmt(bon1.wall)}  (last run: prefill ${bon1.stats.time.prefillMs.toFixed(0)} ms once, decode ${bon1.stats.time.decodeMs.toFixed(0)} ms, ${bon1.stats.decodeSteps} steps)`);
    console.log(`  iro-native (2 threads, poll 50): ${fmt(bon2.wall)}  (iro's best setting is used for the ratio)`);
    if (!args.includes('--skip-nlc')) {
      const nlc: Record<number, number> = {};
      for (const t of [1, 2]) {
        nlc[t] = await nodeLlamaCppRun(model, info.nVocab, t, t === 1 ? REPS : 1);
        console.log(`  node-llama-cpp (${t} thread${t > 1 ? 's' : ''}): ${fmt(nlc[t]!)}`);
      }
      const best = Math.min(nlc[1]!, nlc[2]!);
      console.log(`  ratio iro / node-llama-cpp best: ${(bon.wall / best).toFixed(3)}  (target <= 0.2)`);
    }

    // 2. Plain batched sampling vs the C++ ceiling, interleaved (A/B per rep) so that load from
    //    other processes hits both sides alike.
    const engine = await Engine.load({ model, threads: 1, contextSize: PROMPT + N * NEW + 64, maxSequences: N });
    const prompt = promptTokens(engine.info.nVocab);
    const plainOnce = () => engine.decode({ prompt, n: N, maxTokens: NEW, temperature: 0.7, topK: 50, seed: 0 });
    await plainOnce();
    const iroWalls: number[] = [], ceilWalls: number[] = [];
    let iroTokens = 0, ceilTokens = 0;
    for (let i = 0; i < Math.max(REPS, 5); i++) {
      const t0 = performance.now();
      iroTokens = (await plainOnce()).stats.tokensSampled;
      iroWalls.push(performance.now() - t0);
      const c = ceilingRun(model, 1, 1);
      ceilWalls.push(c.wall);
      ceilTokens = c.tokens;
    }
    await engine.dispose();
    const plainWall = median(iroWalls), ceilWall = median(ceilWalls);
    const tpsIro = iroTokens / (plainWall / 1000), tpsCeil = ceilTokens / (ceilWall / 1000);
    console.log(`\nPlain sampling, ${N} sequences (prompt + ${NEW} tokens each), 1 thread, ${iroWalls.length} interleaved reps`);
    console.log(`  iro-native:   ${fmt(plainWall)}  ${tpsIro.toFixed(0)} tokens/s (${iroTokens} tokens)`);
    console.log(`  C++ ceiling:  ${fmt(ceilWall)}  ${tpsCeil.toFixed(0)} tokens/s (${ceilTokens} tokens)`);
    console.log(`  ratio iro / ceiling: ${(tpsIro / tpsCeil).toFixed(3)}  (target >= 0.9)`);

    // 3. Threads and polling inside this Node process
    if (!args.includes('--skip-threads')) {
      console.log(`\nThreads (plain sampling workload, inside Node; C++ ceiling outside Node)`);
      for (const [t, poll] of [[1, undefined], [2, undefined], [2, 0], [2, 50], [2, 100]] as [number, number | undefined][]) {
        const r = await iroRun(model, t, poll, 'sample');
        console.log(`  iro-native threads=${t} poll=${poll ?? 'llama default'}: ${fmt(r.wall)}`);
      }
      for (const t of [1, 2]) console.log(`  C++ ceiling threads=${t}: ${fmt(ceilingRun(model, t).wall)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
