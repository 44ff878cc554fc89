/**
 * The per-job metric families, rendered straight to Prometheus text.
 *
 * prom-client renders a labelled histogram by building objects for every bucket of every series
 * and escaping every label; with 1,000 jobs that was 1.4 MB in 48 ms (p50) and 140 ms (p99),
 * holding the event loop while jobs were due. Job names are restricted to [a-z0-9_-] and
 * statuses are ours, so nothing needs escaping and the text can be written directly, in the
 * same form as prom-client's (le first in bucket labels).
 */
export class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = new Float64Array(buckets.length);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++;
  }
}

/** Prometheus float text: integers as is, others with full precision, and the special values. */
function num(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

export interface GaugeFamily {
  name: string;
  help: string;
  /** The value for a job, or undefined for no series. */
  value(job: string): number | undefined;
  /** Series not keyed by a registered job (the loop's own heartbeat). */
  extra?: () => [string, number][];
}

export class JobSeries {
  private readonly runs = new Map<string, Map<string, number>>();
  private readonly histograms = new Map<string, Map<string, Histogram>>();
  /** job_slots_total: per job, per fate; a series appears with the job's first slot of that fate. */
  private readonly slots = new Map<string, Map<string, number>>();

  constructor(
    private readonly histogramFamilies: Record<string, { help: string; buckets: readonly number[] }>,
    private readonly initialStatuses: readonly string[],
  ) {
    for (const name of Object.keys(histogramFamilies)) this.histograms.set(name, new Map());
  }

  incRun(job: string, status: string): void {
    const statuses = this.statuses(job);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }

  incSlots(job: string, fate: string, count: number): void {
    const fates = this.slots.get(job) ?? new Map<string, number>();
    this.slots.set(job, fates);
    fates.set(fate, (fates.get(fate) ?? 0) + count);
  }

  observe(family: string, job: string, value: number): void {
    const series = this.histograms.get(family)!;
    let histogram = series.get(job);
    if (!histogram) {
      histogram = new Histogram(this.histogramFamilies[family]!.buckets);
      series.set(job, histogram);
    }
    histogram.observe(value);
  }

  /** Counter series exist from the start for every known job, so increase() counts the first run. */
  private statuses(job: string): Map<string, number> {
    let statuses = this.runs.get(job);
    if (!statuses) {
      statuses = new Map(this.initialStatuses.map((status) => [status, 0]));
      this.runs.set(job, statuses);
    }
    return statuses;
  }

  render(jobs: readonly string[], gauges: readonly GaugeFamily[]): string {
    const out: string[] = [];
    out.push(
      "# HELP job_runs_total Runs recorded by this replica, by final status of each attempt",
      "# TYPE job_runs_total counter",
    );
    for (const job of jobs) {
      for (const [status, count] of this.statuses(job))
        out.push(`job_runs_total{job_name="${job}",status="${status}"} ${count}`);
    }
    out.push(
      "# HELP job_slots_total Planned instants whose fate this replica recorded: ran, caught-up, backfilled, skipped, paused, missed, dropped",
      "# TYPE job_slots_total counter",
    );
    for (const job of jobs) {
      for (const [fate, count] of this.slots.get(job) ?? [])
        out.push(`job_slots_total{job_name="${job}",fate="${fate}"} ${count}`);
    }
    for (const [family, { help }] of Object.entries(this.histogramFamilies)) {
      out.push(`# HELP ${family} ${help}`, `# TYPE ${family} histogram`);
      const series = this.histograms.get(family)!;
      for (const job of jobs) {
        const h = series.get(job);
        if (!h) continue;
        for (let i = 0; i < h.buckets.length; i++)
          out.push(`${family}_bucket{le="${num(h.buckets[i]!)}",job_name="${job}"} ${h.counts[i]}`);
        out.push(
          `${family}_bucket{le="+Inf",job_name="${job}"} ${h.count}`,
          `${family}_sum{job_name="${job}"} ${num(h.sum)}`,
          `${family}_count{job_name="${job}"} ${h.count}`,
        );
      }
    }
    for (const gauge of gauges) {
      out.push(`# HELP ${gauge.name} ${gauge.help}`, `# TYPE ${gauge.name} gauge`);
      for (const [job, value] of gauge.extra?.() ?? [])
        out.push(`${gauge.name}{job_name="${job}"} ${num(value)}`);
      for (const job of jobs) {
        const value = gauge.value(job);
        if (value !== undefined) out.push(`${gauge.name}{job_name="${job}"} ${num(value)}`);
      }
    }
    return `${out.join("\n")}\n`;
  }
}
