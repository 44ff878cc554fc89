import type { Sql } from "postgres";
import { errorMessage } from "../errors.js";
import type { Liveness } from "../run/liveness.js";
import { withDeadline } from "../util/deadline.js";
import type { Check, SidecarParts } from "./parts.js";
import { json, type Reply } from "./respond.js";

/** GET /livez: the process answers and its loop is not stalled. */
export function livez(liveness: Liveness): Reply {
  const stalled = liveness.isStalled();
  return json(stalled ? 503 : 200, { status: stalled ? "fail" : "ok", state: liveness.state });
}

/**
 * A database probe with a short timeout, shared by concurrent probes and reused for a second,
 * so a probe storm cannot load the database and a hung server cannot hang /readyz. While a timed
 * out query is still waiting (a network partition), no other is sent: they would pile up in the
 * pool's queue, one a second, for as long as the partition lasts.
 */
export function databaseProbe(sql: () => Sql | undefined, timeoutMs = 1500) {
  let last: { at: number; check: Promise<Check> } | undefined;
  let waiting: { since: number; query: Promise<unknown> } | undefined;
  const fail = (error: string): Check => ({ name: "database", status: "fail", error });
  const probe = async (): Promise<Check> => {
    const pool = sql();
    if (!pool) return fail("not connected yet");
    if (waiting) return fail(`no answer for ${Math.round((Date.now() - waiting.since) / 1000)} s`);
    const started = performance.now();
    const current = { since: Date.now(), query: pool`select 1`.execute() };
    waiting = current;
    const settled = () => {
      if (waiting === current) waiting = undefined;
    };
    current.query.then(settled, settled);
    try {
      await withDeadline(current.query, timeoutMs, () => {
        throw new Error(`no answer within ${timeoutMs} ms`);
      });
      return {
        name: "database",
        status: "ok",
        latency_ms: Math.round((performance.now() - started) * 10) / 10,
      };
    } catch (error) {
      return fail(errorMessage(error));
    }
  };
  return (): Promise<Check> => {
    // Before the pool exists there is nothing to probe or to cache: caching that answer for a
    // second held /readyz at 503 for up to a second after the runner had connected.
    if (!sql()) return Promise.resolve(fail("not connected yet"));
    if (!last || Date.now() - last.at > 1000) last = { at: Date.now(), check: probe() };
    return last.check;
  };
}

/**
 * GET /readyz: 503 while starting or stopping, while the database is unreachable, or when the jobs
 * heartbeat is stale and JOBS_ENABLED or JOB_HEARTBEAT_REQUIRED asks for it. The jobs check is
 * listed either way, with `enforced`. A replica that runs jobs reports its own heartbeat; one with
 * JOBS_ENABLED=false and JOB_HEARTBEAT_REQUIRED=true (an API container) reads the shared
 * `jobs-runner` row, which only replicas running jobs write, and names the runner that wrote it.
 */
export async function readyz({
  liveness,
  config,
  probe,
  store,
}: Pick<SidecarParts, "liveness" | "config" | "probe" | "store">): Promise<Reply> {
  const database = await probe();
  const checks: Check[] = [
    {
      name: "runner",
      status: liveness.state === "running" ? "ok" : "fail",
      state: liveness.state,
      up: liveness.isUp(),
    },
    !config.jobsEnabled && config.heartbeatRequired
      ? await sharedHeartbeat(store, config, database)
      : ownHeartbeat(liveness, config),
    database,
  ];
  const failing = checks.filter((check) => check.status === "fail" && check.enforced !== false);
  return json(failing.length === 0 ? 200 : 503, { status: failing.length === 0 ? "ok" : "fail", checks });
}

/** This replica's own loop heartbeat; enforced when it runs jobs. */
function ownHeartbeat(liveness: Liveness, config: SidecarParts["config"]): Check {
  const seconds = liveness.heartbeatAgeSeconds();
  const age = seconds === undefined ? null : Math.round(seconds * 10) / 10;
  const fresh = age !== null && age <= config.heartbeatTtlSeconds;
  return {
    name: "jobs",
    status: fresh ? "ok" : "fail",
    age_seconds: age,
    runner_id: config.runnerId,
    threshold_seconds: config.heartbeatTtlSeconds,
    enforced: config.jobsEnabled || config.heartbeatRequired,
  };
}

/** The freshest `jobs-runner` heartbeat of any replica running jobs, aged by the database's clock. */
async function sharedHeartbeat(
  store: SidecarParts["store"],
  config: SidecarParts["config"],
  database: Check,
): Promise<Check> {
  const ttl = config.heartbeatTtlSeconds;
  const check = { name: "jobs", threshold_seconds: ttl, enforced: true, source: "jobs-runner" };
  const fail = (error: string, runner: string | null = null, age: number | null = null): Check => ({
    ...check,
    status: "fail",
    age_seconds: age,
    runner_id: runner,
    error,
  });
  if (database.status !== "ok") return fail("database unavailable");
  try {
    const row = await withDeadline(store().runnerHeartbeat(), 1500);
    if (!row) return fail("no replica running jobs has written the jobs-runner heartbeat");
    const age = Math.round(row.age_seconds * 10) / 10;
    if (age > ttl)
      return fail(
        `jobs-runner heartbeat from ${row.runner_id} is ${age} s old (threshold ${ttl} s)`,
        row.runner_id,
        age,
      );
    return { ...check, status: "ok", age_seconds: age, runner_id: row.runner_id };
  } catch (error) {
    return fail(errorMessage(error));
  }
}
