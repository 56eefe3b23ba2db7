import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IroError, isIroError } from '../lib/errors.js';
import { getNative, loadNative, probeCuda } from '../lib/native.js';
import { resolveThreads } from '../lib/threads.js';
import { cliPath, repoRoot } from './helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'iro-foundation-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const gpu = probeCuda().devices > 0;

describe('loader', () => {
  it('picks the CPU variant on a machine without a GPU', () => {
    if (gpu) return; // on a GPU machine the CUDA test below covers the choice
    const notices: string[] = [];
    const loaded = loadNative({ onNotice: (l) => notices.push(l) });
    expect(loaded.variant).toBe('cpu');
    expect(loaded.addon.variant).toBe('cpu');
    expect(loaded.attempts.at(-1)).toMatchObject({ variant: 'cpu', ok: true });
    // A built CUDA variant that cannot be used is reported in exactly one line.
    if (existsSync(path.join(repoRoot, 'variants', 'cuda13', 'build', 'Release', 'iro_native.node'))) {
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/using the CPU variant \(cuda13 variant not used: /);
    }
  });

  it.skipIf(!gpu)('uses the CUDA variant when a usable device is present', () => {
    const loaded = loadNative();
    expect(loaded.variant).toBe('cuda13');
    expect(loaded.addon.kernelDevice().usable).toBe(true);
  });

  it('honours IRO_NATIVE_VARIANT and rejects unknown values', () => {
    const run = (v: string) => spawnSync(process.execPath, [cliPath, 'info', '--json'], { env: { ...process.env, IRO_NATIVE_VARIANT: v }, encoding: 'utf8' });
    const cpu = run('cpu');
    expect(cpu.status).toBe(0);
    expect(JSON.parse(cpu.stdout).variant).toBe('cpu');
    expect(cpu.stderr).toBe('');
    const bad = run('gpu');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/IRO_NATIVE_VARIANT must be one of auto, cpu, cuda13 .*INVALID_ARGUMENT/);
  });

  it('explains what to do when no binary can be found', () => {
    const empty = path.join(tmp, 'empty-package');
    mkdirSync(empty);
    let err: unknown;
    try {
      loadNative({ variant: 'cpu', roots: { cpu: [empty] } });
    } catch (e) {
      err = e;
    }
    expect(isIroError(err, 'NATIVE_LOAD_FAILED')).toBe(true);
    const msg = (err as IroError).message;
    expect(msg).toContain(`cpu in ${empty}: No native build was found`);
    expect(msg).toContain('npm run build:native');
    expect(msg).toContain('npm install --include=optional iro-native');
  });

  it('explains missing llama.cpp libraries when the binary cannot resolve them', () => {
    // A copy of the addon in a folder with no node_modules beside it: its RPATH finds nothing.
    // Loaded in a child process, so libllama from this process cannot satisfy the lookup.
    const pkg = path.join(tmp, 'orphan');
    mkdirSync(path.join(pkg, 'build', 'Release'), { recursive: true });
    copyFileSync(getNative().binary, path.join(pkg, 'build', 'Release', 'iro_native.node'));
    const script = `import { loadNative } from ${JSON.stringify(path.join(repoRoot, 'dist', 'lib', 'native.js'))};
      try { loadNative({ variant: 'cpu', roots: { cpu: [${JSON.stringify(pkg)}] } }); console.log('loaded'); }
      catch (e) { console.log(e.code); console.log(e.message); }`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out.split('\n')[0]).toBe('NATIVE_LOAD_FAILED');
    expect(out).toMatch(/libllama\.v0\.4\.0\.so: cannot open shared object file/);
    expect(out).toContain('npm install -E @node-llama-cpp/linux-x64@3.21.1');
  });

  it('loads a binary laid out as a prebuild in another folder', () => {
    // The relocated package: prebuilds/linux-x64/<name>.napi.glibc.node with the llama.cpp
    // platform package in its own node_modules, as after `npm install` elsewhere.
    const pkg = path.join(tmp, 'relocated');
    mkdirSync(path.join(pkg, 'prebuilds', 'linux-x64'), { recursive: true });
    mkdirSync(path.join(pkg, 'node_modules', '@node-llama-cpp'), { recursive: true });
    copyFileSync(getNative().binary, path.join(pkg, 'prebuilds', 'linux-x64', 'iro-native.glibc.node'));
    symlinkSync(path.join(repoRoot, 'node_modules', '@node-llama-cpp', 'linux-x64'), path.join(pkg, 'node_modules', '@node-llama-cpp', 'linux-x64'));
    const script = `import { loadNative } from ${JSON.stringify(path.join(repoRoot, 'dist', 'lib', 'native.js'))};
      const l = loadNative({ variant: 'cpu', roots: { cpu: [${JSON.stringify(pkg)}] } });
      console.log(JSON.stringify({ binary: l.binary, lib: l.addon.systemInfo().llama.libraryDir }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    expect(out.binary).toBe(path.join(pkg, 'prebuilds', 'linux-x64', 'iro-native.glibc.node'));
    expect(out.lib).toContain(path.join('@node-llama-cpp', 'linux-x64', 'bins', 'linux-x64'));
  });
});

describe('native calls', () => {
  it('round-trips a typed array through the addon', () => {
    const input = Float32Array.from([1, -2.5, 3e-3, 0]);
    const out = getNative().addon.echo(input);
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual(Array.from(input, (v) => v * 2));
  });

  it('maps native errors to IroError codes and survives bad arguments', async () => {
    const { callNative } = await import('../lib/errors.js');
    const addon = getNative().addon;
    expect(() => callNative(() => addon.failWith('VOCAB_MISMATCH'))).toThrow(expect.objectContaining({ name: 'IroError', code: 'VOCAB_MISMATCH' }));
    expect(() => callNative(() => addon.echo([1, 2] as unknown as Float32Array))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'values must be a Float32Array' }));
    // Still alive after the errors.
    expect(addon.echo(new Float32Array([4]))[0]).toBe(8);
  });

  it('reports the pinned llama.cpp release and its CPU backend', () => {
    const info = getNative().addon.systemInfo();
    expect(info.llama.release).toBe('v0.4.0');
    expect(info.llama.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(info.backends).toContain('CPU');
  });
});

describe('threads', () => {
  it('defaults to the measured value and accepts overrides', () => {
    expect(resolveThreads(undefined, {})).toBe(1);
    expect(resolveThreads(3, {})).toBe(3);
    expect(resolveThreads(undefined, { IRO_THREADS: '2' })).toBe(2);
    expect(() => resolveThreads(0, {})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveThreads(undefined, { IRO_THREADS: 'many' })).toThrow(/IRO_THREADS must be an integer/);
  });
});

describe('iro-native info', () => {
  it('--json reports the CPU variant and the pinned release', () => {
    const r = spawnSync(process.execPath, [cliPath, 'info', '--json'], { encoding: 'utf8', env: { ...process.env, IRO_THREADS: '' } });
    expect(r.status).toBe(0);
    const info = JSON.parse(r.stdout);
    if (!gpu) expect(info.variant).toBe('cpu');
    expect(info.llama.release).toBe('v0.4.0');
    expect(info.backends).toContain('CPU');
    expect(info.defaultThreads).toBe(1);
    expect(typeof info.cuda.driver).toBe('boolean');
  });

  it('prints a readable summary and usage errors exit 2', () => {
    const r = spawnSync(process.execPath, [cliPath, 'info'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/llama\.cpp: +v0\.4\.0/);
    const bad = spawnSync(process.execPath, [cliPath, 'no-such-command'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Unknown argument|Did you mean/);
  });
});
