/**
 * Fuzzes the value-file loader: truncated files, flipped bytes, extreme values written into the
 * header counts, metadata values, string lengths and tensor infos (huge declared sizes), wrong
 * shapes and garbage files. Every case must load cleanly or fail with an IroError (INVALID_GGUF or
 * IO_ERROR); a crash ends the process, an unexpected error is counted and reported.
 *
 *   node dist/bench/fuzz-value-file.js [cases=10000] [seed=1] 2>/dev/null
 *
 * (llama.cpp's GGUF reader logs each rejection on stderr; redirect it to keep the report readable.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IroError } from '../lib/errors.js';
import { ValueFunction } from '../lib/value.js';
import { rng } from './prng.js';
import { synthRows, SYNTH_VOCAB } from './value-synthetic.js';

/** A numeric field of a GGUF file that a mutation may overwrite. */
interface Field {
  offset: number;
  size: 4 | 8;
  what: string;
}

const TYPE_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** Locates the header counts, key/string lengths, value words and tensor-info fields of a GGUF. */
export function ggufFields(buf: Buffer): { fields: Field[]; neFields: Field[] } {
  const fields: Field[] = [];
  const neFields: Field[] = [];
  let p = 4;
  const u32 = () => buf.readUInt32LE(p);
  const u64 = () => Number(buf.readBigUInt64LE(p));
  fields.push({ offset: p, size: 4, what: 'version' });
  p += 4;
  fields.push({ offset: p, size: 8, what: 'n_tensors' });
  const nTensors = u64();
  p += 8;
  fields.push({ offset: p, size: 8, what: 'n_kv' });
  const nKv = u64();
  p += 8;
  const str = (what: string) => {
    fields.push({ offset: p, size: 8, what: `${what} length` });
    const n = u64();
    p += 8 + n;
  };
  const value = (type: number, what: string) => {
    if (type === 8) return str(what);
    const size = TYPE_SIZE[type]!;
    if (size === 4 || size === 8) fields.push({ offset: p, size, what });
    p += size;
  };
  for (let i = 0; i < nKv; i++) {
    str('key');
    fields.push({ offset: p, size: 4, what: 'kv type' });
    const type = u32();
    p += 4;
    if (type === 9) {
      fields.push({ offset: p, size: 4, what: 'array type' });
      const et = u32();
      p += 4;
      fields.push({ offset: p, size: 8, what: 'array length' });
      const n = u64();
      p += 8;
      for (let j = 0; j < n; j++) value(et, 'array element');
    } else {
      value(type, 'kv value');
    }
  }
  for (let i = 0; i < nTensors; i++) {
    str('tensor name');
    fields.push({ offset: p, size: 4, what: 'n_dims' });
    const nd = u32();
    p += 4;
    for (let j = 0; j < nd; j++) {
      const f: Field = { offset: p, size: 8, what: 'ne' };
      fields.push(f);
      neFields.push(f);
      p += 8;
    }
    fields.push({ offset: p, size: 4, what: 'tensor type' });
    p += 4;
    fields.push({ offset: p, size: 8, what: 'tensor offset' });
    p += 8;
  }
  return { fields, neFields };
}

const EXTREME_64 = [0n, 1n, 2n, 3n, 0x7fn, 0xffffffffn, 0x100000000n, 1n << 40n, 1n << 62n, (1n << 63n) - 1n, (1n << 64n) - 1n];
const EXTREME_32 = [0, 1, 2, 3, 8, 9, 12, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 26, (1 << 26) + 1];

export interface FuzzStats {
  cases: number;
  loaded: number;
  rejected: Record<string, number>;
  unexpected: { kind: string; message: string }[];
  byKind: Record<string, number>;
}

/** Runs `cases` mutations of `base` (a valid value file) through ValueFunction.load. */
export async function fuzzValueFile(base: Buffer, cases: number, seed: number, dir: string): Promise<FuzzStats> {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const { fields, neFields } = ggufFields(base);
  const stats: FuzzStats = { cases: 0, loaded: 0, rejected: {}, unexpected: [], byKind: {} };
  const file = path.join(dir, 'fuzz.gguf');
  for (let c = 0; c < cases; c++) {
    let bytes: Buffer;
    let kind: string;
    const u = r();
    if (u < 0.2) {
      kind = 'truncate';
      bytes = base.subarray(0, Math.floor(r() * base.length));
    } else if (u < 0.45) {
      kind = 'flip';
      bytes = Buffer.from(base);
      const n = 1 + Math.floor(r() * 8);
      // Half the flips land in the metadata region, where they matter most.
      const limit = r() < 0.5 ? Math.min(base.length, 2048) : base.length;
      for (let i = 0; i < n; i++) bytes[Math.floor(r() * limit)]! ^= 1 << Math.floor(r() * 8);
    } else if (u < 0.85) {
      kind = 'extreme';
      bytes = Buffer.from(base);
      const f = pick(fields);
      if (f.size === 8) bytes.writeBigUInt64LE(pick(EXTREME_64), f.offset);
      else bytes.writeUInt32LE(pick(EXTREME_32) >>> 0, f.offset);
    } else if (u < 0.95) {
      kind = 'shape';
      bytes = Buffer.from(base);
      const f = pick(neFields);
      const old = bytes.readBigInt64LE(f.offset);
      const delta = pick([-1n, 1n, 2n, old, -old + 1n]);
      bytes.writeBigInt64LE(old + delta, f.offset);
    } else {
      kind = 'garbage';
      const n = Math.floor(r() * 512);
      bytes = Buffer.alloc(n);
      for (let i = 0; i < n; i++) bytes[i] = Math.floor(r() * 256);
      if (n >= 4 && r() < 0.5) bytes.write('GGUF', 0, 'latin1');
    }
    stats.cases++;
    stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
    writeFileSync(file, bytes);
    try {
      const vf = await ValueFunction.load(file);
      // A file that still parses must also score without trouble (token 0 exists in any vocabulary).
      const dw = vf.info.denseWidth;
      vf.score([{ prompt: [0], response: [0, 0], dense: dw > 0 ? new Float32Array(dw).fill(0.5) : undefined }]);
      vf.dispose();
      stats.loaded++;
    } catch (e) {
      if (e instanceof IroError && (e.code === 'INVALID_GGUF' || e.code === 'IO_ERROR')) {
        stats.rejected[e.code] = (stats.rejected[e.code] ?? 0) + 1;
      } else {
        stats.unexpected.push({ kind, message: e instanceof Error ? `${(e as IroError).code ?? e.name}: ${e.message}` : String(e) });
      }
    }
  }
  return stats;
}

/** A small valid value file with every tensor (dense projection included). */
export async function makeFuzzBase(dir: string): Promise<Buffer> {
  const rows = synthRows({ rows: 40, seed: 7, denseWidth: 2 });
  const vf = await ValueFunction.train(SYNTH_VOCAB, rows, { nBuckets: 64, embeddingWidth: 4, hiddenWidth: 4, maxEpochs: 1 });
  const file = path.join(dir, 'base.gguf');
  await vf.save(file);
  vf.dispose();
  return readFileSync(file);
}

async function main(): Promise<void> {
  const cases = Number(process.argv[2] ?? 10000);
  const seed = Number(process.argv[3] ?? 1);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iro-value-fuzz-'));
  try {
    const base = await makeFuzzBase(dir);
    const t0 = performance.now();
    const stats = await fuzzValueFile(base, cases, seed, dir);
    const seconds = (performance.now() - t0) / 1000;
    const report = { ...stats, unexpected: stats.unexpected.slice(0, 20), unexpectedCount: stats.unexpected.length, baseBytes: base.length, seconds, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`value-file fuzz: ${stats.cases} cases, ${stats.loaded} loaded, ${stats.cases - stats.loaded - stats.unexpected.length} rejected with IroError, ${stats.unexpected.length} unexpected, no crash\n`);
    if (stats.unexpected.length > 0) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
