/**
 * Method comparison for `iro-native bench`: per method, mean reward ± standard error, win rate
 * against the base policy, generated tokens per prompt, wall time and tokens/s; a table for the
 * terminal and a chart of mean reward against generated tokens per prompt.
 */
import { renderLineChartSvg, type ChartSeries } from '../lib/chart.js';
import { mean, standardError, winRate } from '../lib/stats.js';

export interface MethodRun {
  /** e.g. "base", "BoN-16", "IRO-2". */
  name: string;
  /** Line the method belongs to in the chart (e.g. "Best-of-N", "IRO"). */
  family: string;
  /** Reward of the returned response, per prompt (NaN when the reward failed). */
  rewards: number[];
  /** Tokens generated per prompt (all candidates, the budget spent). */
  generatedTokens: number[];
  wallMs: number;
}

export interface MethodSummary {
  name: string;
  family: string;
  prompts: number;
  meanReward: number;
  stdErr: number;
  winRateVsBase: number;
  tokensPerPrompt: number;
  wallSeconds: number;
  tokensPerSecond: number;
  rewardFailures: number;
}

export function summarize(runs: MethodRun[], baseName = 'base'): MethodSummary[] {
  const base = runs.find((r) => r.name === baseName);
  return runs.map((r) => {
    const ok = r.rewards.filter((x) => Number.isFinite(x));
    // Paired comparison on prompts where both rewards exist.
    const pairs = base ? r.rewards.map((x, i) => [x, base.rewards[i]!] as const).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b)) : [];
    const tokens = r.generatedTokens.reduce((a, b) => a + b, 0);
    return {
      name: r.name,
      family: r.family,
      prompts: r.rewards.length,
      meanReward: mean(ok),
      stdErr: standardError(ok),
      winRateVsBase: pairs.length ? winRate(pairs.map((p) => p[0]), pairs.map((p) => p[1])) : Number.NaN,
      tokensPerPrompt: tokens / Math.max(1, r.generatedTokens.length),
      wallSeconds: r.wallMs / 1000,
      tokensPerSecond: tokens / Math.max(1e-9, r.wallMs / 1000),
      rewardFailures: r.rewards.length - ok.length,
    };
  });
}

export function formatTable(rows: MethodSummary[]): string {
  const head = ['method', 'mean reward', '± s.e.', 'win vs base', 'tokens/prompt', 'wall s', 'tokens/s'];
  const body = rows.map((r) => [
    r.name,
    r.meanReward.toFixed(3),
    r.stdErr.toFixed(3),
    Number.isNaN(r.winRateVsBase) ? '-' : `${(r.winRateVsBase * 100).toFixed(1)}%`,
    r.tokensPerPrompt.toFixed(1),
    r.wallSeconds.toFixed(1),
    r.tokensPerSecond.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Mean reward against generated tokens per prompt, one line per method family. */
export function rewardChartSvg(rows: MethodSummary[], title: string): string {
  const families = [...new Set(rows.map((r) => r.family))];
  const series: ChartSeries[] = families.map((f) => {
    const members = rows.filter((r) => r.family === f);
    return {
      name: f,
      points: members.map((r) => [r.tokensPerPrompt, Number(r.meanReward.toFixed(4))] as [number, number]),
      labels: members.map((r) => r.name),
    };
  });
  return renderLineChartSvg({ title, xLabel: 'generated tokens per prompt (log scale)', yLabel: 'mean reward', series, xLog: true });
}
