import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeJsonAtomic, readJsonIfExists } from '../lib/atomic-file.js';
import { parsePromptsJsonl, loadPromptsFile } from '../lib/prompts.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'iro-prompts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('prompts JSONL', () => {
  it('reads prompts with their line numbers, skipping blank lines', () => {
    const got = parsePromptsJsonl('{"prompt":"a"}\n\n{"prompt":"b","extra":1}\r\n');
    expect(got).toEqual([{ prompt: 'a', line: 1 }, { prompt: 'b', line: 3 }]);
  });

  it('reports every malformed line by number', () => {
    const text = ['{"prompt":"ok"}', '{oops', '["x"]', '{"prompt":3}', '{"prompt":""}', '{"text":"no"}'].join('\n');
    try {
      parsePromptsJsonl(text, 'p.jsonl');
      expect.unreachable();
    } catch (e) {
      const err = e as { code: string; message: string };
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toContain('p.jsonl has 5 bad line(s)');
      for (const n of [2, 3, 4, 5, 6]) expect(err.message).toContain(`line ${n}:`);
      expect(err.message).not.toContain('line 1:');
    }
  });

  it('rejects an empty file and a missing one', async () => {
    expect(() => parsePromptsJsonl('\n\n')).toThrow(/contains no prompts/);
    await expect(loadPromptsFile(path.join(tmp, 'missing.jsonl'))).rejects.toMatchObject({ code: 'IO_ERROR' });
  });
});

describe('atomic files', () => {
  it('writes JSON atomically and leaves no temp files', async () => {
    const f = path.join(tmp, 'm.json');
    await writeJsonAtomic(f, { a: 1 });
    await writeJsonAtomic(f, { a: 2 });
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({ a: 2 });
    expect(readdirSync(tmp).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(await readJsonIfExists(path.join(tmp, 'none.json'))).toBeUndefined();
  });

  it('fails with IO_ERROR when the folder does not exist', async () => {
    await expect(writeJsonAtomic(path.join(tmp, 'no', 'such', 'dir.json'), {})).rejects.toMatchObject({ code: 'IO_ERROR' });
  });
});
