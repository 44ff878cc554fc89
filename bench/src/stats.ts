/** Small statistics for benchmark figures: percentiles of samples, median and spread of runs. */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const median = (values: number[]) => percentile(values, 50);

/** "12.3 (11.9–13.0)": the median of several runs and their range. */
export function spread(values: number[], digits = 1): string {
  if (values.length === 0) return "n/a";
  const f = (v: number) => v.toFixed(digits);
  return `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}
