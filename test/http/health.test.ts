import { afterEach, describe, expect, it, vi } from "vitest";
import type { Sql } from "postgres";
import { createPool } from "../../src/store/pool.js";
import { databaseProbe } from "../../src/http/health.js";
import type { Daemon as Runner } from "../../src/run/daemon.js";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const db = await testDatabase("health");
let runner: Runner | undefined;
afterEach(async () => {
  await runner?.stop();
  runner = undefined;
});

interface Ready {
  status: string;
  checks: { name: string; status: string; [key: string]: unknown }[];
}
const check = (body: Ready, name: string) => body.checks.find((c) => c.name === name)!;

describe("/livez and /readyz", () => {
  it("answers 503 while starting, then 200 with the jobs and database checks", async () => {
    const made = await sidecarRunner(db.sql, { JOB_RUNNER_ID: "ready-1" });
    runner = made.runner;
    const before = await made.request("/readyz");
    expect(before.status).toBe(503);
    expect(check((await before.json()) as Ready, "runner")).toMatchObject({ status: "fail", state: "new" });
    expect((await made.request("/livez")).status).toBe(200);
    await runner.start();
    const ready = await waitFor(async () => {
      const res = await made.request("/readyz");
      return res.status === 200 ? ((await res.json()) as Ready) : undefined;
    });
    expect(ready.status).toBe("ok");
    expect(check(ready, "jobs")).toMatchObject({
      status: "ok",
      runner_id: "ready-1",
      threshold_seconds: 180,
      enforced: true,
    });
    expect(check(ready, "jobs").age_seconds).toBeLessThan(5);
    expect(check(ready, "database")).toMatchObject({ status: "ok" });
  });

  it("goes 503 when the heartbeat is older than the TTL, and says why", async () => {
    const made = await sidecarRunner(db.sql, {
      JOB_HEARTBEAT_TTL_SECONDS: "1",
      JOB_LOOP_INTERVAL_SECONDS: "3600",
    });
    runner = made.runner;
    await runner.start();
    await waitFor(async () => (await made.request("/readyz")).status === 200);
    const stale = await waitFor(async () => {
      const res = await made.request("/readyz");
      return res.status === 503 ? ((await res.json()) as Ready) : undefined;
    }, 5000);
    expect(check(stale, "jobs")).toMatchObject({ status: "fail", threshold_seconds: 1, enforced: true });
    expect(check(stale, "jobs").age_seconds as number).toBeGreaterThan(1);
    // A loop that writes the heartbeat again brings readiness back on its own.
    await runner.loop!.tick();
    expect((await made.request("/readyz")).status).toBe(200);
  });

  it("does not enforce the heartbeat when JOBS_ENABLED=false, unless JOB_HEARTBEAT_REQUIRED=true", async () => {
    const relaxed = await sidecarRunner(db.sql, {
      JOBS_ENABLED: "false",
      JOB_HEARTBEAT_TTL_SECONDS: "1",
      JOB_LOOP_INTERVAL_SECONDS: "3600",
    });
    runner = relaxed.runner;
    await runner.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const res = await relaxed.request("/readyz");
    expect(res.status).toBe(200);
    expect(check((await res.json()) as Ready, "jobs")).toMatchObject({ status: "fail", enforced: false });
    await runner.stop();

    const strict = await sidecarRunner(db.sql, {
      JOBS_ENABLED: "false",
      JOB_HEARTBEAT_REQUIRED: "true",
      JOB_HEARTBEAT_TTL_SECONDS: "1",
      JOB_LOOP_INTERVAL_SECONDS: "3600",
    });
    runner = strict.runner;
    await runner.start();
    await waitFor(async () => (await strict.request("/readyz")).status === 503, 5000);
  });

  it("answers 503 while stopping, and job_runner_up says 0", async () => {
    const made = await sidecarRunner(db.sql, { SHUTDOWN_GRACE_SECONDS: "2" });
    runner = made.runner;
    runner.registerJob({
      name: "busy",
      schedule: "@yearly",
      run: (ctx) => new Promise((r) => ctx.signal.addEventListener("abort", r)),
    });
    await runner.start();
    await runner.triggerJob("busy");
    const stopping = runner.stop();
    const res = await made.request("/readyz");
    expect(res.status).toBe(503);
    expect(await (await made.request("/metrics")).text()).toMatch(/^job_runner_up 0$/m);
    await stopping;
  });

  it("answers 503 with the reason while the database is unreachable, and 200 again on its own", async () => {
    const { proxy, url } = await TcpProxy.start(db.url);
    const pool = createPool(url, db.schema, 3);
    try {
      const made = await sidecarRunner(pool, { JOB_LOOP_INTERVAL_SECONDS: "1" });
      runner = made.runner;
      await runner.start();
      const ready = async () => {
        const res = await made.request("/readyz");
        return { status: res.status, body: (await res.json()) as Ready };
      };
      await waitFor(async () => (await ready()).status === 200);
      await proxy.cut();
      const down = await waitFor(async () => {
        const answer = await ready();
        return answer.status === 503 ? answer.body : undefined;
      }, 5000);
      expect(check(down, "database").status).toBe("fail");
      expect(check(down, "database").error).toEqual(expect.any(String));
      // The heartbeat is younger than its TTL: only the database check fails.
      expect(check(down, "jobs").status).toBe("ok");
      await waitFor(
        async () => /^job_runner_up 0$/m.test(await (await made.request("/metrics")).text()),
        5000,
      );
      expect((await made.request("/livez")).status).toBe(200);
      await proxy.restore();
      const back = await waitFor(async () => {
        const answer = await ready();
        return answer.status === 200 ? answer.body : undefined;
      }, 8000);
      expect(check(back, "database")).toMatchObject({ status: "ok" });
      await waitFor(
        async () => /^job_runner_up 1$/m.test(await (await made.request("/metrics")).text()),
        5000,
      );
    } finally {
      await runner?.stop();
      runner = undefined;
      await pool.end({ timeout: 1 });
      await proxy.close();
    }
  });

  it("keeps ticking past a step that hangs (a dropped connection): up 0 and the reason, /livez 200, then recovers", async () => {
    const made = await sidecarRunner(db.sql, { JOB_LOOP_INTERVAL_SECONDS: "1" });
    runner = made.runner;
    let hang = false;
    runner.addLoopStep({
      name: "hang",
      run: () => (hang ? new Promise<void>(() => {}) : Promise.resolve()),
    });
    await runner.start();
    await waitFor(() => runner!.loop?.lastTick?.ok);
    hang = true;
    // The step fails the tick after its timeout (the interval, at least 2 s); the loop goes on.
    const failed = await waitFor(() => runner!.loop?.lastTick?.failures.find((f) => f.step === "hang"), 6000);
    expect(failed.error).toBe("did not finish within 2000 ms");
    expect(await (await made.request("/metrics")).text()).toMatch(/^job_runner_up 0$/m);
    expect((await made.request("/livez")).status).toBe(200);
    const heartbeat = runner.liveness.lastHeartbeatAt!.getTime();
    await waitFor(() => runner!.liveness.lastHeartbeatAt!.getTime() > heartbeat, 5000);
    hang = false;
    await waitFor(async () => /^job_runner_up 1$/m.test(await (await made.request("/metrics")).text()), 6000);
  }, 20_000);

  it("answers /livez 503 and job_runner_up 0 when no tick completes (a blocked event loop), and recovers", async () => {
    const made = await sidecarRunner(db.sql, { JOB_LOOP_INTERVAL_SECONDS: "1" });
    runner = made.runner;
    await runner.start();
    await waitFor(() => runner!.loop?.lastTick?.ok);
    // What a blocked loop looks like from the next request: its last tick is older than two
    // intervals plus 5 s on the monotonic clock (stalls are measured on it, not the wall clock).
    const realNow = performance.now.bind(performance);
    const later = vi.spyOn(performance, "now").mockImplementation(() => realNow() + 8000);
    const stalled = await made.request("/livez");
    const metrics = await (await made.request("/metrics")).text();
    later.mockRestore();
    expect(stalled.status).toBe(503);
    expect(await stalled.json()).toMatchObject({ status: "fail", state: "running" });
    expect(metrics).toMatch(/^job_runner_up 0$/m);
    await waitFor(async () => (await made.request("/livez")).status === 200, 5000);
  });

  it("sends no second probe query while one is still waiting for a hung server", async () => {
    let sent = 0;
    const hung = (() => ({
      execute: () => {
        sent++;
        return new Promise(() => {});
      },
    })) as unknown as Sql;
    const probe = databaseProbe(() => hung, 100);
    expect(await probe()).toMatchObject({ status: "fail", error: "no answer within 100 ms" });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await probe()).toMatchObject({
      status: "fail",
      error: expect.stringMatching(/^no answer for \d+ s$/),
    });
    expect(sent).toBe(1);
  });
});
