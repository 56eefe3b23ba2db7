#!/usr/bin/env node
// Stands in for node-gyp when prebuildify runs: builds the variant named by IRO_PREBUILD_VARIANT
// with cmake-js, then stages the binary in <cwd>/build/Release where prebuildify picks it up
// (a staging folder, so the developer's own build/Release is left alone).
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildNative } from './build-native.mjs';
import { root } from './llama-release.mjs';

const variant = process.env.IRO_PREBUILD_VARIANT ?? 'cpu';
const target = variant === 'cpu' ? 'iro_native_cpu' : variant === 'probe' ? 'iro_probe' : 'iro_native_cuda';
const built = variant === 'cpu' ? 'build/Release/iro_native.node'
  : variant === 'probe' ? 'variants/probe/build/Release/iro_probe.node'
  : `variants/${variant}/build/Release/iro_native.node`;
try {
  buildNative({ cuda: variant.startsWith('cuda') ? 'ON' : 'OFF', outDir: `build/cmake-prebuild-${variant}`, targets: [target] });
  const stage = path.join(process.cwd(), 'build', 'Release');
  mkdirSync(stage, { recursive: true });
  copyFileSync(path.join(root, built), path.join(stage, 'iro_native.node'));
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
