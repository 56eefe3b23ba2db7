import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The native tests of value-guided search (test/native/search/*.cpp, target iro_search_tests).
const exe = path.resolve('build/Release/iro_search_tests');

describe('native search policy', () => {
  it.runIf(existsSync(exe))('iro_search_tests passes', () => {
    const r = spawnSync(exe, [], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) console.error(r.stderr);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
  }, 130_000);
});
