/** Small statistics used in reports and benchmarks. */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n - 1). */
export function stddev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export function standardError(xs: readonly number[]): number {
  return xs.length < 2 ? 0 : stddev(xs) / Math.sqrt(xs.length);
}

/** Fraction of paired items where a beats b; ties count half. */
export function winRate(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error('winRate needs paired samples of equal length');
  if (a.length === 0) return Number.NaN;
  let w = 0;
  for (let i = 0; i < a.length; i++) w += a[i]! > b[i]! ? 1 : a[i] === b[i] ? 0.5 : 0;
  return w / a.length;
}
