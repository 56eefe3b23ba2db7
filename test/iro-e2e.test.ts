import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath } from './helpers/paths.js';

// End to end on the embedded default model, through the CLI as a user runs it.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'iro-e2e-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TRAIN = ['--iterations', '2', '--prompts-per-iteration', '4', '--rollouts-per-prompt', '4', '--max-tokens', '24', '--value-epochs', '4', '--w', '2', '--k', '2', '--l', '6', '--seed', '3'];
const env = { ...process.env, IRO_NATIVE_VARIANT: 'cpu', IRO_THREADS: '1' };

function cli(args: string[]) {
  return spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', env });
}

describe('iro-native train', () => {
  it('writes a complete, valid run folder', () => {
    const dir = path.join(tmp, 'run-a');
    const r = cli(['train', '--out', dir, ...TRAIN, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout);
    expect(manifest.format).toBe('iro-native.run/1');
    expect(manifest.iterations.map((i: { status: string }) => i.status)).toEqual(['done', 'done']);
    for (const t of [1, 2]) {
      const rows = readFileSync(path.join(dir, `iter-${t}`, 'rollouts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(rows).toHaveLength(16);
      for (const row of rows) {
        expect(typeof row.response).toBe('string');
        expect(row.responseTokens.length).toBeGreaterThan(0);
        expect(Number.isFinite(row.reward)).toBe(true);
      }
      const metrics = JSON.parse(readFileSync(path.join(dir, `iter-${t}`, 'metrics.json'), 'utf8'));
      expect(metrics.iteration).toBe(t);
      expect(metrics.value.evaluation).toBeDefined();
      expect(readFileSync(path.join(dir, `iter-${t}`, 'value.gguf')).subarray(0, 4).toString()).toBe('GGUF');
    }
  });

  it('resumes after kill -9 and ends with the same value files as an uninterrupted run', async () => {
    const ref = path.join(tmp, 'run-a');
    const dir = path.join(tmp, 'run-killed');
    // Kill the run as soon as iteration 1 is rolled out (between stages), then resume it.
    const child = spawn(process.execPath, [cliPath, 'train', '--out', dir, ...TRAIN, '--json'], { env, stdio: 'ignore' });
    const manifestFile = path.join(dir, 'manifest.json');
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          const m = existsSync(manifestFile) ? JSON.parse(readFileSync(manifestFile, 'utf8')) : undefined;
          if (m && m.iterations[0].status !== 'pending') {
            child.kill('SIGKILL');
            clearInterval(timer);
            resolve();
          }
        } catch {
          // manifest being replaced: try again
        }
      }, 5);
      child.on('exit', () => {
        clearInterval(timer);
        resolve();
      });
      setTimeout(() => reject(new Error('run did not progress')), 60_000);
    });
    await new Promise((r) => setTimeout(r, 200));
    const killedAt = JSON.parse(readFileSync(manifestFile, 'utf8'));
    expect(killedAt.iterations.map((i: { status: string }) => i.status)).not.toEqual(['done', 'done']);
    const r = cli(['train', '--resume', dir, '--json']);
    expect(r.status, r.stderr).toBe(0);
    for (const t of [1, 2]) {
      expect(readFileSync(path.join(dir, `iter-${t}`, 'value.gguf')).equals(readFileSync(path.join(ref, `iter-${t}`, 'value.gguf')))).toBe(true);
      expect(readFileSync(path.join(dir, `iter-${t}`, 'rollouts.jsonl'), 'utf8')).toBe(readFileSync(path.join(ref, `iter-${t}`, 'rollouts.jsonl'), 'utf8'));
    }
  });

  it('a reward endpoint that fails some samples fails those samples, not the run', async () => {
    let calls = 0;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        calls++;
        if (calls === 1) {
          res.writeHead(503).end(); // retried
          return;
        }
        const { items } = JSON.parse(body) as { items: { response: string }[] };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ scores: items.map((it, i) => (i % 5 === 0 ? null : it.response.length / 100)) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/score`;
    const dir = path.join(tmp, 'run-http');
    const child = spawn(process.execPath, [cliPath, 'train', '--out', dir, '--reward', url, ...TRAIN, '--json'], { env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.on('exit', r));
    server.close();
    expect(code, stderr).toBe(0);
    const rows = readFileSync(path.join(dir, 'iter-1', 'rollouts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const failed = rows.filter((r) => r.failed);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0].failed).toMatch(/non-finite score/);
    expect(rows.filter((r) => Number.isFinite(r.reward)).length).toBeGreaterThan(failed.length);
    expect(calls).toBeGreaterThan(2);
  });

  it('rejects a malformed prompts file with line numbers, and a reused folder', () => {
    const file = path.join(tmp, 'bad.jsonl');
    writeFileSync(file, '{"prompt":"Review: The film"}\nnot json\n{"text":"x"}\n');
    const r = cli(['train', '--out', path.join(tmp, 'run-bad'), '--prompts', file, ...TRAIN]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('has 2 bad line(s)');
    expect(r.stderr).toContain('line 2: not valid JSON');
    expect(r.stderr).toContain('line 3: "prompt" must be a string');
    const again = cli(['train', '--out', path.join(tmp, 'run-a'), ...TRAIN]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already holds a run; continue it with --resume/);
  });
});

describe('iro-native decode', () => {
  it('searches with value files from a run, and refuses them for another model', async () => {
    const value = path.join(tmp, 'run-a', 'iter-1', 'value.gguf');
    const r = cli(['decode', '--prompt', 'Review: The film', '--values', `${value}:2`, '--max-tokens', '24', '--w', '2', '--k', '2', '--l', '6', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.candidates.length).toBeGreaterThan(0);
    expect(out.stats.valueEvaluations).toBeGreaterThan(0);
    const { makeTinyModel } = await import('./helpers/tiny-model.js');
    const other = await makeTinyModel(tmp, { seed: 4 });
    const bad = cli(['decode', '--model', other, '--prompt', 'the', '--values', value, '--max-tokens', '8']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/VOCAB_MISMATCH/);
  });
});

describe('iro-native bench --quick', () => {
  it('compares the methods and writes a valid JSON and an SVG chart', () => {
    const out = path.join(tmp, 'bench');
    const r = cli(['bench', '--quick', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(path.join(out, 'bench-results.json'), 'utf8'));
    expect(result.methods.map((m: { name: string }) => m.name)).toEqual(['base', 'BoN-4', 'BoN-16', 'BoN-64', 'IRO-1', 'IRO-2', 'IRO-3']);
    for (const m of result.methods) {
      expect(Number.isFinite(m.meanReward)).toBe(true);
      expect(m.tokensPerPrompt).toBeGreaterThan(0);
    }
    // More candidates never lower Best-of-N's mean reward on the same prompts and seed.
    const bon = result.methods.filter((m: { family: string }) => m.family === 'Best-of-N');
    expect(bon[2].meanReward).toBeGreaterThanOrEqual(bon[0].meanReward);
    expect(result.throughput.valueScoringStatesPerSecond).toBeGreaterThan(0);
    const svg = readFileSync(path.join(out, 'bench-reward-vs-tokens.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('IRO');
    expect(r.stdout).toMatch(/BoN-64/);
  });
});
