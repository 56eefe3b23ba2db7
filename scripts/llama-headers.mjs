// Extracts the llama.cpp C API headers (include/, ggml/include/) of the pinned release from the
// git bundle inside node-llama-cpp into build/deps/llama-<tag>/. Nothing of llama.cpp is committed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { llamaReleaseInfo, root, PINNED_NODE_LLAMA_CPP } from './llama-release.mjs';

export function extractLlamaHeaders() {
  const info = llamaReleaseInfo();
  if (!info) {
    throw new Error(
      `iro-native: building from source needs node-llama-cpp@${PINNED_NODE_LLAMA_CPP} (it carries the pinned llama.cpp release).\n` +
      `  Run: npm i -D -E node-llama-cpp@${PINNED_NODE_LLAMA_CPP}`);
  }
  if (info.nodeLlamaCpp !== PINNED_NODE_LLAMA_CPP) {
    throw new Error(`iro-native: node-llama-cpp ${info.nodeLlamaCpp} is installed but ${PINNED_NODE_LLAMA_CPP} is pinned. Run: npm i -D -E node-llama-cpp@${PINNED_NODE_LLAMA_CPP}`);
  }
  const dest = path.join(root, 'build', 'deps', `llama-${info.tag}`);
  const stamp = path.join(dest, 'release.json');
  if (existsSync(stamp)) {
    return { ...JSON.parse(readFileSync(stamp, 'utf8')), includeDirs: [path.join(dest, 'include'), path.join(dest, 'ggml', 'include')] };
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'iro-llama-'));
  try {
    const git = (...args) => execFileSync('git', args, { cwd: tmp, stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
    git('init', '-q');
    git('fetch', '-q', info.bundle, 'HEAD');
    const commit = git('rev-parse', 'FETCH_HEAD');
    const staging = path.join(tmp, 'out');
    mkdirSync(staging);
    const tar = execFileSync('git', ['archive', '--format=tar', 'FETCH_HEAD', 'include', 'ggml/include', 'LICENSE'], { cwd: tmp, maxBuffer: 1 << 28 });
    execFileSync('tar', ['-x', '-C', staging], { input: tar });
    const release = { tag: info.tag, commit, repo: info.repo, nodeLlamaCpp: info.nodeLlamaCpp };
    writeFileSync(path.join(staging, 'release.json'), JSON.stringify(release, null, 2));
    mkdirSync(path.dirname(dest), { recursive: true });
    rmSync(dest, { recursive: true, force: true });
    renameSync(staging, dest);
    return { ...release, includeDirs: [path.join(dest, 'include'), path.join(dest, 'ggml', 'include')] };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(extractLlamaHeaders(), null, 2));
}
