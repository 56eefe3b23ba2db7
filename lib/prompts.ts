import { promises as fs } from 'node:fs';
import { IroError } from './errors.js';

export interface PromptRecord {
  prompt: string;
  /** Line number (1-based) in the source file, when read from one. */
  line?: number;
}

/**
 * Parses a JSONL prompts file: one `{"prompt": "..."}` object per line; blank lines are ignored.
 * Every bad line is reported (with its number) in one INVALID_ARGUMENT error.
 */
export function parsePromptsJsonl(text: string, source = 'prompts'): PromptRecord[] {
  const out: PromptRecord[] = [];
  const bad: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      bad.push(`line ${i + 1}: not valid JSON`);
      return;
    }
    const prompt = (value as { prompt?: unknown } | null)?.prompt;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) bad.push(`line ${i + 1}: expected an object like {"prompt": "..."}`);
    else if (typeof prompt !== 'string') bad.push(`line ${i + 1}: "prompt" must be a string`);
    else if (prompt.length === 0) bad.push(`line ${i + 1}: "prompt" is empty`);
    else out.push({ prompt, line: i + 1 });
  });
  if (bad.length > 0) {
    const shown = bad.slice(0, 20).join('\n  ');
    const more = bad.length > 20 ? `\n  … and ${bad.length - 20} more` : '';
    throw new IroError('INVALID_ARGUMENT', `${source} has ${bad.length} bad line(s):\n  ${shown}${more}`, { details: { badLines: bad } });
  }
  if (out.length === 0) throw new IroError('INVALID_ARGUMENT', `${source} contains no prompts (expected one {"prompt": "..."} per line)`);
  return out;
}

export async function loadPromptsFile(file: string): Promise<PromptRecord[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new IroError('IO_ERROR', `cannot read prompts file ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parsePromptsJsonl(text, file);
}
