// Locates the pinned llama.cpp release: the source bundle carried by node-llama-cpp (headers)
// and the prebuilt shared libraries of its platform packages (link + runtime).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

export const PINNED_NODE_LLAMA_CPP = '3.21.1';

function packageDir(name) {
  // The platform packages only export "."; resolve their entry and walk up to the package root.
  try {
    let dir = path.dirname(require.resolve(name));
    while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
    return dir;
  } catch {
    return null;
  }
}

/** Directory holding node-llama-cpp's llama/ folder (source bundle + release info), or null. */
export function nodeLlamaCppDir() {
  const candidates = [path.join(root, 'node_modules', 'node-llama-cpp')];
  try {
    candidates.unshift(path.resolve(path.dirname(require.resolve('node-llama-cpp')), '..'));
  } catch { /* not installed */ }
  return candidates.find((d) => existsSync(path.join(d, 'llama', 'llama.cpp.info.json'))) ?? null;
}

export function llamaReleaseInfo() {
  const dir = nodeLlamaCppDir();
  if (!dir) return null;
  const info = JSON.parse(readFileSync(path.join(dir, 'llama', 'llama.cpp.info.json'), 'utf8'));
  const version = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  return { tag: info.tag, repo: info.llamaCppGithubRepo, nodeLlamaCpp: version, bundle: path.join(dir, 'llama', 'gitRelease.bundle') };
}

/** Prebuilt library folders: { cpu, cuda } (null where the package is not installed). */
export function llamaLibDirs() {
  const cpu = packageDir('@node-llama-cpp/linux-x64');
  const cuda = packageDir('@node-llama-cpp/linux-x64-cuda');
  return {
    cpu: cpu && path.join(cpu, 'bins', 'linux-x64'),
    cuda: cuda && path.join(cuda, 'bins', 'linux-x64-cuda'),
  };
}
