import { describe, expect, it } from "vitest";
import { jobsModule, runCli } from "../helpers/process.js";

// No DATABASE_URL and no jobs file: explain reads neither a database nor, with --schedule, any job.
const jobs = jobsModule(`export default [
  { name: "nightly", schedule: "30 2 * * *", timezone: "Europe/Berlin", dst: { repeated: "last" }, run() {} },
  { name: "spread", schedule: "0 * * * *", jitter: "10m", run() {} },
];`);

interface Explained {
  job_name: string | null;
  dst: { repeated: string; skipped: string };
  next: { at: string; local: string; note: string | null }[];
  transitions: { kind: string; outcomes: { policy: string; chosen: boolean; count: number }[] }[];
}

// Each case spawns a runner: on a busy 2-core machine that takes seconds.
describe("runner explain", { timeout: 120_000 }, () => {
  it("--schedule simulates an expression that is not a job: the next instants with DST notes", async () => {
    const text = await runCli([
      "explain",
      "--schedule",
      "30 2 * * *",
      "--timezone",
      "Europe/Berlin",
      "--next",
      "400",
    ]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split("\n");
    expect(lines[0]).toBe(
      "30 2 * * * in Europe/Berlin, dst repeated=first skipped=shift (the default for a fixed-time schedule)",
    );
    expect(lines[1]).toBe("next 400 instants:");
    // 400 days ahead hold both transition days, whatever today is.
    expect(text.stdout).toMatch(
      / 03:00:00 \+02:00 {2}\S+Z {2}02:30:00 does not exist \(clocks jump 02:00 \+01:00 -> 03:00 \+02:00\)/,
    );
    expect(text.stdout).toMatch(
      /^ {4}skipped=shift \(this schedule\): once at \d{4}-03-\d\d 03:00:00 \+02:00/m,
    );
    expect(text.stdout).toMatch(/^ {4}repeated=last: \d{4}-10-\d\d 02:30:00 \+01:00/m);

    const json = await runCli([
      "explain",
      "--schedule",
      "*/30 * * * *",
      "--timezone",
      "Australia/Lord_Howe",
      "--next",
      "3",
      "--json",
    ]);
    const parsed = JSON.parse(json.stdout) as Explained;
    expect(parsed).toMatchObject({ job_name: null, dst: { repeated: "both", skipped: "skip" } });
    expect(parsed.next).toHaveLength(3);
    expect(parsed.transitions.map((t) => t.kind).sort()).toEqual(["repeated", "skipped"]);
  });

  it("<job> uses the job's zone and dst policy", async () => {
    const result = await runCli(["explain", "nightly", "--next", "2", "--json", "--jobs", jobs]);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as Explained;
    expect(parsed).toMatchObject({ job_name: "nightly", dst: { repeated: "last", skipped: "shift" } });
    const repeated = parsed.transitions.find((t) => t.kind === "repeated")!;
    expect(repeated.outcomes.filter((o) => o.chosen).map((o) => o.policy)).toEqual(["last"]);
  });

  it("--next shows each instant's start with the job's jitter, the same in every run", async () => {
    const runs = await Promise.all(
      [0, 1].map(() => runCli(["explain", "spread", "--next", "3", "--jobs", jobs])),
    );
    expect(runs[0]!.code).toBe(0);
    const starts = runs[0]!.stdout.split("\n").filter((line) => line.includes("starts"));
    expect(starts).toHaveLength(3);
    const delays = starts.map((line) => {
      const [, at, start] = / (\S+Z) {2}starts (\S+)Z \(jitter\)/.exec(line)!;
      return Date.parse(`${at!.slice(0, 11)}${start}Z`) - Date.parse(at!);
    });
    for (const delay of delays) expect(delay >= 0 && delay <= 600_000).toBe(true);
    expect(delays.some((delay) => delay > 0)).toBe(true);
    expect(runs[1]!.stdout).toBe(runs[0]!.stdout);
    const json = JSON.parse(
      (await runCli(["explain", "spread", "--next", "1", "--json", "--jobs", jobs])).stdout,
    );
    expect(json.jitter_ms).toBe(600_000);
    expect(Date.parse(json.next[0].start) - Date.parse(json.next[0].at)).toBeLessThanOrEqual(600_000);
  });

  it("says what is wrong in one line and exits 2", async () => {
    const cases: [string[], string][] = [
      [
        ["explain"],
        "runner: explain: name a job, or give --schedule EXPR [--timezone TZ] to try an expression",
      ],
      [
        ["explain", "--schedule", "61 * * * *"],
        'runner: --schedule: invalid cron expression "61 * * * *": Invalid value for minute: 61',
      ],
      [
        ["explain", "--schedule", "@daily", "--timezone", "Mars/Base"],
        'runner: --timezone: unknown time zone "Mars/Base" (expected an IANA name such as Europe/Berlin)',
      ],
      [
        ["explain", "--schedule", "@daily", "--next", "1001"],
        'runner: --next: expected an integer from 1 to 1000 (got "1001")',
      ],
      [
        ["explain", "--schedule", "@daily", "--skipped", "later"],
        'runner: --skipped: expected one of shift, skip (got "later")',
      ],
      [
        ["explain", "nightly", "--schedule", "@daily", "--jobs", jobs],
        "runner: --schedule: only without a job (the job has its own); give one or the other",
      ],
      [
        ["explain", "nope", "--next", "1", "--jobs", jobs],
        'runner: unknown job "nope"; known jobs: nightly, prune_runs, spread',
      ],
      [
        ["explain", "nightly", "--next", "1", "--from", "2h", "--jobs", jobs],
        "runner: --from/--to: only with a job and without --next (the past slots of a job)",
      ],
      [
        ["explain", "nightly", "--from", "noon", "--jobs", jobs],
        'runner: --from: expected an ISO time with a zone (2026-12-01T02:00Z) or a duration before now (2h) (got "noon")',
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    for (const [i, [args, line]] of cases.entries())
      expect({ args, code: results[i]!.code, stderr: results[i]!.stderr.trim() }).toEqual({
        args,
        code: 2,
        stderr: line,
      });
  });
});
