/**
 * Progress for long work: a redrawn bar on a TTY, plain log lines otherwise (CI, pipes),
 * nothing in --json mode (machine output goes to stdout only).
 */
export type ProgressMode = 'tty' | 'lines' | 'silent';

export interface ProgressTask {
  /** Sets the absolute amount done (and optionally a short status text). */
  update(done: number, status?: string): void;
  /** Marks the task complete and prints a final line. */
  done(summary?: string): void;
}

export interface Progress {
  task(label: string, total: number): ProgressTask;
  log(line: string): void;
}

export function defaultProgressMode(json: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (json) return 'silent';
  return stream.isTTY ? 'tty' : 'lines';
}

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function createProgress(mode: ProgressMode, stream: NodeJS.WritableStream = process.stderr): Progress {
  return {
    log(line) {
      if (mode !== 'silent') stream.write(`${line}\n`);
    },
    task(label, total) {
      const started = Date.now();
      let lastLine = 0;
      let lastPct = -1;
      const render = (done: number, status?: string) => {
        const frac = total > 0 ? Math.min(1, done / total) : 1;
        const elapsed = Date.now() - started;
        const eta = frac > 0 && frac < 1 ? ` eta ${fmtDuration((elapsed / frac) * (1 - frac))}` : '';
        if (mode === 'tty') {
          const width = 24;
          const fill = Math.round(frac * width);
          stream.write(`\r\x1b[2K${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${fmtDuration(elapsed)}${eta}${status ? `  ${status}` : ''}`);
        } else if (mode === 'lines') {
          // At most one line per 10% or per 5 seconds, so logs stay readable.
          const pct = Math.floor(frac * 10);
          if (pct !== lastPct || Date.now() - lastLine > 5000) {
            lastPct = pct;
            lastLine = Date.now();
            stream.write(`${label}: ${done}/${total} (${Math.round(frac * 100)}%) ${fmtDuration(elapsed)}${status ? ` ${status}` : ''}\n`);
          }
        }
      };
      return {
        update: render,
        done(summary) {
          if (mode === 'silent') return;
          if (mode === 'tty') stream.write('\r\x1b[2K');
          stream.write(`${label}: done in ${fmtDuration(Date.now() - started)}${summary ? ` - ${summary}` : ''}\n`);
        },
      };
    },
  };
}
