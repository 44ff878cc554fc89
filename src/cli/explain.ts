import { ConfigError } from "../errors.js";
import { dstPolicy, scheduleProblem } from "../schedule/cron.js";
import { isFixedTime } from "../schedule/dst.js";
import { type PlannedInstant, type TransitionDay, transitionDays, upcoming } from "../schedule/explain.js";
import type { DstPolicy } from "../types.js";
import { prepare, printJson } from "./context.js";
import { explainWindow, type WindowFlags } from "./explain-window.js";
import { jitteredStart } from "../schedule/jitter.js";

export interface ExplainFlags extends WindowFlags {
  next?: string;
  schedule?: string;
  timezone?: string;
  repeated?: string;
  skipped?: string;
}

interface Subject {
  job: string | null;
  schedule: string;
  timezone: string;
  dst: DstPolicy;
  /** Where the policy came from, for the header line. */
  policySource: string;
  /** The job's jitter: each instant's start is shown beside it. */
  jitterMs: number;
}

const MAX_NEXT = 1000;

/**
 * `runner explain <job> --next N` and `runner explain --schedule EXPR [--timezone TZ] --next N`:
 * the coming instants in the zone with DST notes, and what each policy does on the coming
 * transition days. Reads no database; `--schedule` loads no jobs either.
 */
export async function explainCommand(name: string | undefined, flags: ExplainFlags): Promise<number> {
  const window = flags.from !== undefined || flags.to !== undefined;
  if (window && (name === undefined || flags.next !== undefined))
    throw new ConfigError("--from/--to: only with a job and without --next (the past slots of a job)");
  // A job without --next: what happened to its slots (the last 24 h by default).
  if (name !== undefined && flags.next === undefined && flags.schedule === undefined)
    return explainWindow(name, flags);
  const count = parseNext(flags.next);
  const subject = name === undefined ? fromFlags(flags) : await fromJob(name, flags);
  const now = new Date();
  const instants = upcoming(subject.schedule, subject.timezone, subject.dst, now, count);
  const transitions = transitionDays(subject.schedule, subject.timezone, subject.dst, now);
  if (flags.json) {
    printJson({
      job_name: subject.job,
      schedule: subject.schedule,
      timezone: subject.timezone,
      dst: subject.dst,
      jitter_ms: subject.jitterMs,
      next: instants.map((i) => ({ ...instantJson(i), start: startOf(subject, i) })),
      transitions: transitions.map((t) => ({
        at: t.at.toISOString(),
        kind: t.kind,
        change: t.change,
        span: t.span,
        named: t.named,
        outcomes: t.outcomes.map((o) => ({
          ...o,
          instants: o.instants.map(instantJson),
          last: o.last && instantJson(o.last),
        })),
      })),
    });
    return 0;
  }
  const what = subject.job ? `${subject.job} (${subject.schedule})` : subject.schedule;
  console.log(
    `${what} in ${subject.timezone}, dst repeated=${subject.dst.repeated} skipped=${subject.dst.skipped} (${subject.policySource})`,
  );
  console.log(`next ${instants.length} instant${instants.length === 1 ? "" : "s"}:`);
  for (const i of instants) {
    const start = subject.jitterMs > 0 ? `  starts ${startOf(subject, i).slice(11, 23)}Z (jitter)` : "";
    console.log(`  ${i.local}  ${i.at.toISOString()}${start}${i.note ? `  ${i.note}` : ""}`);
  }
  if (instants.length < count) console.log("  (the expression has no more instants)");
  if (transitions.length === 0) console.log(`no DST transition in ${subject.timezone} within a year`);
  else console.log(`DST transitions ahead in ${subject.timezone}:`);
  for (const t of transitions) for (const line of transitionLines(t)) console.log(line);
  return 0;
}

/** When the instant's run starts, with the job's jitter (the instant itself without). */
function startOf(subject: Subject, i: PlannedInstant): string {
  return jitteredStart(subject.job ?? "", i.at, subject.jitterMs).toISOString();
}

function instantJson(i: PlannedInstant) {
  return { at: i.at.toISOString(), local: i.local, note: i.note };
}

function transitionLines(t: TransitionDay): string[] {
  const day = t.outcomes.flatMap((o) => o.instants)[0]?.local.slice(0, 10) ?? t.at.toISOString().slice(0, 10);
  const what = t.kind === "skipped" ? "do not exist" : "happen twice";
  const head = `  ${day} ${t.change}: local ${t.span} ${what}`;
  if (t.named.count === 0) return [`${head}; the schedule names none of them, no policy changes anything`];
  const named =
    t.named.count <= t.named.times.length
      ? t.named.times.join(", ")
      : `${t.named.count} of them, from ${t.named.times[0]}`;
  const lines = [`${head}; the schedule names ${named}`];
  for (const o of t.outcomes) {
    const label = `    ${t.kind}=${o.policy}${o.chosen ? " (this schedule)" : ""}: `;
    if (o.count === 0) lines.push(`${label}not run`);
    else {
      const shown =
        o.count > o.instants.length
          ? `${o.count} instants, ${o.instants[0]!.local} to ${o.last!.local}`
          : o.instants.map((i) => `${i.local} (${i.at.toISOString()})`).join(", ");
      lines.push(`${label}${t.kind === "skipped" ? "once at " : ""}${shown}`);
    }
  }
  return lines;
}

function parseNext(value: string | undefined): number {
  if (value === undefined) return 10;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_NEXT)
    throw new ConfigError(`--next: expected an integer from 1 to ${MAX_NEXT} (got ${JSON.stringify(value)})`);
  return n;
}

const REPEATED = ["first", "last", "both"] as const;
const SKIPPED = ["shift", "skip"] as const;

/** `--schedule EXPR [--timezone TZ] [--repeated P] [--skipped P]`: an expression that is not a job. */
function fromFlags(flags: ExplainFlags): Subject {
  if (flags.schedule === undefined)
    throw new ConfigError(
      "explain: name a job, or give --schedule EXPR [--timezone TZ] to try an expression",
    );
  const schedule = flags.schedule.trim();
  const timezone = flags.timezone ?? "UTC";
  const problem = scheduleProblem(schedule, timezone);
  if (problem)
    throw new ConfigError(
      `${problem.startsWith("unknown time zone") ? "--timezone" : "--schedule"}: ${problem}`,
    );
  const repeated = oneOf("--repeated", flags.repeated, REPEATED);
  const skipped = oneOf("--skipped", flags.skipped, SKIPPED);
  const kind = isFixedTime(schedule) ? "a fixed-time schedule" : "an interval schedule";
  return {
    job: null,
    schedule,
    timezone,
    dst: dstPolicy(schedule, { repeated, skipped }),
    policySource: repeated || skipped ? "from the flags, the rest the default" : `the default for ${kind}`,
    jitterMs: 0,
  };
}

async function fromJob(name: string, flags: ExplainFlags): Promise<Subject> {
  for (const flag of ["schedule", "timezone", "repeated", "skipped"] as const)
    if (flags[flag] !== undefined)
      throw new ConfigError(`--${flag}: only without a job (the job has its own); give one or the other`);
  const { daemon } = await prepare(flags);
  const job = daemon.registry.require(name);
  return {
    job: job.name,
    schedule: job.schedule,
    timezone: job.timezone,
    dst: job.dst,
    policySource: "the job's dst, fields it leaves out from the schedule's default",
    jitterMs: job.jitterMs,
  };
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${flag}: expected one of ${allowed.join(", ")} (got ${JSON.stringify(value)})`);
}
