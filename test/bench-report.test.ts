import { describe, expect, it } from 'vitest';
import { formatTable, rewardChartSvg, summarize, type MethodRun } from '../bench/report.js';

const runs: MethodRun[] = [
  { name: 'base', family: 'base', rewards: [0, 0.5, -0.5, 0.2], generatedTokens: [10, 12, 8, 10], wallMs: 1000 },
  { name: 'BoN-4', family: 'Best-of-N', rewards: [0.4, 0.5, Number.NaN, 0.1], generatedTokens: [40, 40, 40, 40], wallMs: 2000 },
  { name: 'BoN-16', family: 'Best-of-N', rewards: [0.6, 0.7, 0.1, 0.3], generatedTokens: [160, 160, 160, 160], wallMs: 4000 },
];

describe('bench report', () => {
  it('summarises reward, paired win rate, token budget and throughput', () => {
    const [base, bon4, bon16] = summarize(runs);
    expect(base!.meanReward).toBeCloseTo(0.05);
    expect(base!.winRateVsBase).toBe(0.5); // all ties with itself
    expect(bon4!.rewardFailures).toBe(1);
    expect(bon4!.meanReward).toBeCloseTo(1 / 3);
    expect(bon4!.winRateVsBase).toBeCloseTo((1 + 0.5 + 0) / 3); // NaN pair dropped
    expect(bon16!.winRateVsBase).toBe(1);
    expect(bon16!.tokensPerPrompt).toBe(160);
    expect(bon16!.tokensPerSecond).toBe(160);
    expect(bon16!.stdErr).toBeGreaterThan(0);
  });

  it('formats a table and renders an SVG chart with one line per family', () => {
    const rows = summarize(runs);
    const table = formatTable(rows);
    expect(table.split('\n')).toHaveLength(5);
    expect(table).toContain('BoN-16');
    const svg = rewardChartSvg(rows, 'demo');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Best-of-N');
    expect(svg).toContain('demo');
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(2);
  });
});
