import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getNative, packageRoot, probeCuda, type CudaProbe, type LoadAttempt, type Variant } from './native.js';
import { resolveThreads } from './threads.js';
import type { NativeKernelDevice, NativeSystemInfo } from './native-types.js';

export interface IroInfo {
  version: string;
  variant: Variant;
  binary: string;
  llama: NativeSystemInfo['llama'];
  backends: string[];
  devices: NativeSystemInfo['devices'];
  cpuFeatures: string;
  cuda: CudaProbe & { kernels?: NativeKernelDevice };
  fallbackReason?: string;
  defaultThreads: number;
  attempts: LoadAttempt[];
}

/** Everything `iro-native info` reports. */
export async function getInfo(): Promise<IroInfo> {
  const { addon, variant, binary, attempts, fallbackReason, cuda } = getNative();
  const sys = addon.systemInfo();
  const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  const probe = cuda ?? probeCuda();
  return {
    version: pkg.version,
    variant,
    binary,
    llama: sys.llama,
    backends: sys.backends,
    devices: sys.devices,
    cpuFeatures: sys.cpuFeatures,
    cuda: variant === 'cpu' ? probe : { ...probe, kernels: addon.kernelDevice() },
    fallbackReason,
    defaultThreads: resolveThreads(),
    attempts,
  };
}

export function formatInfo(i: IroInfo): string {
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const lines = [
    `iro-native ${i.version}`,
    `  variant:        ${i.variant}${i.fallbackReason ? `  (${i.fallbackReason})` : ''}`,
    `  binary:         ${i.binary}`,
    `  llama.cpp:      ${i.llama.release} (${i.llama.commit.slice(0, 12)}), libraries in ${i.llama.libraryDir}`,
    `  ggml backends:  ${i.backends.join(', ') || 'none'}`,
    `  devices:        ${i.devices.map((d) => `${d.name} [${d.type}] ${d.description}${d.memoryTotal ? `, ${gib(d.memoryTotal)}` : ''}`).join('; ') || 'none'}`,
    `  CUDA driver:    ${i.cuda.driver ? `version ${i.cuda.driverVersion ?? '?'}, ${i.cuda.devices} device(s)` : 'not found'}${i.cuda.reason ? ` - ${i.cuda.reason}` : ''}`,
  ];
  if (i.cuda.kernels) lines.push(`  CUDA kernels:   ${i.cuda.kernels.name ?? ''} sm_${(i.cuda.kernels.computeCapability ?? '').replace('.', '')}`);
  lines.push(`  threads:        ${i.defaultThreads} (default; override with --threads or IRO_THREADS)`);
  lines.push(`  CPU features:   ${i.cpuFeatures.replace(/\s*\|\s*$/, '')}`);
  return lines.join('\n');
}
