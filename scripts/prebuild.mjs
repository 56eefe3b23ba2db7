// `npm run prebuild`: writes one prebuilt binary per variant with prebuildify, named so that the
// loader can tell them apart:
//   prebuilds/linux-x64/iro-native.glibc.node                 CPU
//   variants/cuda13/prebuilds/linux-x64/iro-native.glibc.node  CUDA 13 (when nvcc is found)
//   variants/probe/prebuilds/linux-x64/iro-native.glibc.node   CUDA driver probe (no llama.cpp)
// (N-API builds carry no ABI tag; node-gyp-build matches platform, arch and libc.)
// prebuildify drives the build through scripts/prebuild-shim.mjs (cmake-js, not node-gyp).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { root } from './llama-release.mjs';

const require = createRequire(path.join(root, 'package.json'));
const prebuildify = require.resolve('prebuildify/bin.js');
const shim = path.join(root, 'scripts', 'prebuild-shim.mjs');

function hasNvcc() {
  return spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status === 0;
}

function cudaMajor() {
  const out = spawnSync('nvcc', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /release (\d+)\./.exec(out)?.[1];
}

const stage = (v) => path.join(root, 'build', 'prebuild-stage', v);
const jobs = [{ variant: 'cpu', cwd: stage('cpu'), out: root }, { variant: 'probe', cwd: stage('probe'), out: path.join(root, 'variants', 'probe') }];
if (process.env.IRO_CUDA !== 'OFF' && hasNvcc()) {
  const major = cudaMajor();
  if (major) jobs.push({ variant: `cuda${major}`, cwd: stage(`cuda${major}`), out: path.join(root, 'variants', `cuda${major}`) });
} else if (process.env.IRO_CUDA === 'ON') {
  console.error('iro-native: IRO_CUDA=ON but nvcc was not found');
  process.exit(1);
}

for (const job of jobs) {
  mkdirSync(job.cwd, { recursive: true });
  console.log(`iro-native: prebuilding ${job.variant}`);
  const r = spawnSync(process.execPath, [prebuildify, '--napi', '--strip', '--tag-libc', '--name', 'iro-native',
    '--target', process.versions.node, '--node-gyp', shim, '--cwd', job.cwd, '--out', job.out], {
    cwd: job.cwd, stdio: 'inherit', env: { ...process.env, IRO_PREBUILD_VARIANT: job.variant },
  });
  if (r.status !== 0) {
    console.error(`iro-native: prebuild of ${job.variant} failed`);
    process.exit(1);
  }
  const file = path.join(job.out, 'prebuilds', `${process.platform}-${process.arch}`, 'iro-native.glibc.node');
  console.log(`  ${path.relative(root, file)}  ${(statSync(file).size / 1024).toFixed(0)} KiB`);
}
