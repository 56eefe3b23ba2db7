// Builds the native addon(s) with cmake-js against the pinned llama.cpp release.
//   IRO_CUDA=AUTO|ON|OFF   (default AUTO: also build the CUDA variant when nvcc is found)
//   IRO_BUILD_JOBS=N       (default: number of cores)
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { extractLlamaHeaders } from './llama-headers.mjs';
import { llamaLibDirs, root } from './llama-release.mjs';

const require = createRequire(path.join(root, 'package.json'));

export function buildNative({ cuda = process.env.IRO_CUDA ?? 'AUTO', outDir = 'build/cmake', targets = [] } = {}) {
  cuda = cuda.toUpperCase();
  if (!['AUTO', 'ON', 'OFF'].includes(cuda)) throw new Error(`IRO_CUDA must be AUTO, ON or OFF (got ${cuda})`);
  const release = extractLlamaHeaders();
  const libs = llamaLibDirs();
  if (!libs.cpu) {
    throw new Error('iro-native: @node-llama-cpp/linux-x64@3.21.1 (the prebuilt llama.cpp libraries) is not installed. Run: npm i -E @node-llama-cpp/linux-x64@3.21.1');
  }
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const jobs = process.env.IRO_BUILD_JOBS ?? String(os.availableParallelism?.() ?? os.cpus().length);
  const defs = [
    `--CDIRO_CUDA=${cuda}`,
    `--CDLLAMA_INCLUDE_DIRS=${release.includeDirs.join(';')}`,
    `--CDLLAMA_CPU_LIB_DIR=${libs.cpu}`,
    `--CDLLAMA_CUDA_LIB_DIR=${libs.cuda ?? ''}`,
    `--CDLLAMA_RELEASE=${release.tag}`,
    `--CDLLAMA_COMMIT=${release.commit}`,
  ];
  const started = Date.now();
  // Configure every time so that a changed IRO_CUDA or library path takes effect.
  const steps = [
    [cmakeJs, 'configure', '--out', outDir, ...defs],
    [cmakeJs, 'build', '--out', outDir, '--parallel', jobs, ...defs, ...targets.flatMap((t) => ['--target', t])],
  ];
  for (const args of steps) {
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`iro-native: native ${args[1]} failed (cmake-js exited with ${r.status ?? r.signal})`);
  }
  return { seconds: (Date.now() - started) / 1000 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { seconds } = buildNative();
    console.log(`iro-native: native build done in ${seconds.toFixed(1)} s`);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
