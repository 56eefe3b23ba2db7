/**
 * Loader of the native addon. Chooses a variant (cpu, or cudaNN when a usable GPU is present),
 * test-loads it, and explains what to do when nothing loads.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IroError } from './errors.js';
import type { NativeAddon } from './native-types.js';

export type { NativeAddon } from './native-types.js';

/** Variants this release knows how to build and load, best first. */
export const CUDA_VARIANTS = ['cuda13'] as const;
export type Variant = 'cpu' | (typeof CUDA_VARIANTS)[number];
export const VARIANTS: readonly Variant[] = ['cpu', ...CUDA_VARIANTS];

export interface LoadAttempt {
  variant: Variant;
  /** Folder searched (package root or variant root) and the binary found there, if any. */
  root: string;
  binary?: string;
  ok: boolean;
  reason?: string;
}

export interface CudaProbe {
  driver: boolean;
  driverVersion?: number;
  devices: number;
  reason: string;
}

export interface LoadedNative {
  addon: NativeAddon;
  variant: Variant;
  binary: string;
  attempts: LoadAttempt[];
  /** Why a CUDA variant was not used (undefined when CUDA was used or never considered). */
  fallbackReason?: string;
  cuda?: CudaProbe;
}

export interface LoadOptions {
  /** Force a variant (default: IRO_NATIVE_VARIANT, else automatic). */
  variant?: Variant;
  /** Override the folders searched per variant (tests, unusual layouts). */
  roots?: Partial<Record<Variant, string[]>>;
  /** Called with the one-line fallback notice (default: written to stderr). */
  onNotice?: (line: string) => void;
}

const require = createRequire(import.meta.url);

/** The package root: the nearest folder above this file whose package.json is iro-native's. */
export const packageRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'iro-native') return dir;
      } catch { /* keep walking */ }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('iro-native: cannot find its own package.json');
    dir = up;
  }
})();

function platformPackageRoot(name: string): string | undefined {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** Folders that may hold a variant's binary (build/Release or prebuilds/<platform>-<arch>). */
export function defaultRoots(variant: Variant): string[] {
  const roots = variant === 'cpu' ? [packageRoot] : [path.join(packageRoot, 'variants', variant)];
  const pkg = platformPackageRoot(`@iro-native/${process.platform}-${process.arch}${variant === 'cpu' ? '' : `-${variant}`}`);
  if (pkg) roots.push(pkg);
  return roots;
}

function findBinary(root: string): string {
  // node-gyp-build picks the right prebuild for platform, arch, libc and N-API version.
  const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
  return nodeGypBuild.path(root);
}

function shortReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.trim();
}

function tryLoad(variant: Variant, roots: string[], attempts: LoadAttempt[]): { addon: NativeAddon; binary: string } | undefined {
  for (const root of roots) {
    let binary: string;
    try {
      binary = findBinary(root);
    } catch (e) {
      attempts.push({ variant, root, ok: false, reason: shortReason(e) });
      continue;
    }
    try {
      const addon = require(binary) as NativeAddon;
      if (addon.variant !== variant) throw new Error(`binary reports variant "${addon.variant}", expected "${variant}"`);
      if (variant !== 'cpu') {
        const dev = addon.kernelDevice();
        if (!dev.usable) throw new Error(`CUDA device not usable: ${dev.reason}`);
      }
      attempts.push({ variant, root, binary, ok: true });
      return { addon, binary };
    } catch (e) {
      attempts.push({ variant, root, binary, ok: false, reason: shortReason(e) });
    }
  }
  return undefined;
}

/** Asks the CUDA driver, without loading llama.cpp, whether a device is present. */
export function probeCuda(): CudaProbe {
  const root = path.join(packageRoot, 'variants', 'probe');
  try {
    const probe = require(findBinary(root)) as { probeCuda(): CudaProbe };
    return probe.probeCuda();
  } catch (e) {
    return { driver: false, devices: 0, reason: `CUDA probe unavailable (${shortReason(e)})` };
  }
}

function parseVariant(raw: string | undefined): Variant | undefined {
  if (raw === undefined || raw === '' || raw === 'auto') return undefined;
  if ((VARIANTS as readonly string[]).includes(raw)) return raw as Variant;
  throw new IroError('INVALID_ARGUMENT', `IRO_NATIVE_VARIANT must be one of auto, ${VARIANTS.join(', ')} (got "${raw}")`);
}

function helpText(attempts: LoadAttempt[]): string {
  const lines = attempts.map((a) => `  - ${a.variant} in ${a.root}${a.binary ? ` (${path.basename(a.binary)})` : ''}: ${a.reason ?? 'ok'}`);
  const missingLibs = attempts.some((a) => /libllama|libggml|cannot open shared object/.test(a.reason ?? ''));
  const noBinary = attempts.some((a) => /No native build/.test(a.reason ?? ''));
  const todo: string[] = [];
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    todo.push(`iro-native ships binaries for linux-x64 only; this is ${process.platform}-${process.arch}. Build from source: npm run build:native`);
  }
  if (missingLibs) todo.push('The llama.cpp libraries are missing: npm install -E @node-llama-cpp/linux-x64@3.21.1 (and @node-llama-cpp/linux-x64-cuda@3.21.1 for CUDA)');
  if (noBinary) {
    todo.push('Reinstall so that the prebuilt binary is fetched: npm install --include=optional iro-native');
    todo.push('Or build it from source (needs cmake >= 3.18, a C++17 compiler, git, and the dev dependency node-llama-cpp@3.21.1): npm run build:native');
  }
  todo.push('Force a variant with IRO_NATIVE_VARIANT=cpu, or run `npx iro-native info` to see what is installed.');
  return `iro-native could not load its native module.\nTried:\n${lines.join('\n')}\nWhat you can do:\n${todo.map((t) => `  - ${t}`).join('\n')}`;
}

/** Loads a variant of the addon (uncached; see getNative for the shared instance). */
export function loadNative(options: LoadOptions = {}): LoadedNative {
  const forced = options.variant ?? parseVariant(process.env.IRO_NATIVE_VARIANT);
  const rootsOf = (v: Variant) => options.roots?.[v] ?? defaultRoots(v);
  const notice = options.onNotice ?? ((line: string) => process.stderr.write(`${line}\n`));
  const attempts: LoadAttempt[] = [];

  if (forced) {
    const got = tryLoad(forced, rootsOf(forced), attempts);
    if (!got) throw new IroError('NATIVE_LOAD_FAILED', helpText(attempts), { details: { attempts } });
    return { ...got, variant: forced, attempts };
  }

  let fallbackReason: string | undefined;
  let cuda: CudaProbe | undefined;
  for (const v of CUDA_VARIANTS) {
    const roots = rootsOf(v);
    const hasBinary = roots.some((r) => {
      try {
        findBinary(r);
        return true;
      } catch {
        return false;
      }
    });
    cuda ??= probeCuda();
    if (!hasBinary) {
      if (cuda.devices > 0) fallbackReason = `a CUDA device is present but the ${v} variant is not installed (build with IRO_CUDA=ON or install @iro-native/linux-x64-${v})`;
      continue;
    }
    if (cuda.devices === 0) {
      fallbackReason = `${v} variant not used: ${cuda.reason}`;
      continue;
    }
    const got = tryLoad(v, roots, attempts);
    if (got) return { ...got, variant: v, attempts, cuda };
    fallbackReason = `${v} variant failed to load: ${attempts[attempts.length - 1]?.reason ?? 'unknown'}`;
  }

  const got = tryLoad('cpu', rootsOf('cpu'), attempts);
  if (!got) throw new IroError('NATIVE_LOAD_FAILED', helpText(attempts), { details: { attempts } });
  if (fallbackReason) notice(`iro-native: using the CPU variant (${fallbackReason})`);
  return { ...got, variant: 'cpu', attempts, fallbackReason, cuda };
}

let shared: LoadedNative | undefined;

/** The process-wide addon, loaded on first use. */
export function getNative(): LoadedNative {
  shared ??= loadNative();
  return shared;
}

/** Shorthand for getNative().addon. */
export function native(): NativeAddon {
  return getNative().addon;
}
