// npm install hook: use a prebuilt binary when one fits this machine, else build from source.
import { createRequire } from 'node:module';
import path from 'node:path';
import { root } from './llama-release.mjs';

const require = createRequire(path.join(root, 'package.json'));

function hasPrebuilt() {
  if (process.env.IRO_FORCE_BUILD) return false;
  try {
    const p = require('node-gyp-build').path(root);
    return p.includes(`${path.sep}prebuilds${path.sep}`);
  } catch {
    return false;
  }
}

if (hasPrebuilt()) {
  console.log('iro-native: using the prebuilt binary (set IRO_FORCE_BUILD=1 to build from source)');
} else {
  const { buildNative } = await import('./build-native.mjs');
  try {
    const { seconds } = buildNative();
    console.log(`iro-native: native build done in ${seconds.toFixed(1)} s`);
  } catch (e) {
    console.error(`${e.message}\niro-native: see README "Building from source".`);
    process.exit(1);
  }
}
