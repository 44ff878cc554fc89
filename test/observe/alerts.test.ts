import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderedQueue, withPathSuffix } from "../../src/observe/notify.js";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("alerts");

/** A local receiver standing in for Slack, Healthchecks.io or Better Stack. */
let receiver: Server;
const received: { method: string; path: string; body: string }[] = [];
let base = "";
beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      received.push({ method: req.method!, path: req.url!, body });
      // A target that never answers: the sender's timeout is all that ends the request.
      if (req.url?.startsWith("/hang")) return;
      res.writeHead(req.url?.startsWith("/broken") ? 500 : 200).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      receiver.close(() => resolve());
      receiver.closeAllConnections();
    }),
);

const alerts = () =>
  received.filter((r) => r.path === "/webhook").map((r) => JSON.parse(r.body) as Record<string, unknown>);

describe("alerts and pings", () => {
  it("fires once when failures reach the threshold, resolves once on the next success", async () => {
    const made = await sidecarRunner(db.sql, {
      ALERT_WEBHOOK_URL: `${base}/webhook`,
      ALERT_AFTER_FAILURES: "2",
      JOB_RUNNER_ID: "alerter",
    });
    let fail = true;
    made.runner.registerJob({
      name: "payments-sync",
      schedule: "@yearly",
      run: () => {
        if (fail) throw new Error("bank API 502");
      },
    });
    await made.runner.start();
    try {
      for (let i = 0; i < 4; i++) await (await made.runner.triggerJob("payments-sync")).done;
      await waitFor(() => alerts().length === 1);
      fail = false;
      await (await made.runner.triggerJob("payments-sync")).done;
      await (await made.runner.triggerJob("payments-sync")).done;
      await waitFor(() => alerts().length === 2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [firing, resolved] = alerts();
      expect(alerts()).toHaveLength(2);
      expect(firing).toMatchObject({
        status: "firing",
        job_name: "payments-sync",
        consecutive_failures: 2,
        last_error: "bank API 502",
        runner_id: "alerter",
      });
      expect(firing!.text).toMatch(/payments-sync has failed 2 times in a row: bank API 502/);
      expect(Date.parse(String(firing!.time))).toBeGreaterThan(Date.now() - 60_000);
      expect(resolved).toMatchObject({
        status: "resolved",
        job_name: "payments-sync",
        consecutive_failures: 0,
      });
      expect(resolved!.text).toMatch(/succeeded again/);
    } finally {
      await made.runner.stop();
    }
  });

  it("pings a job's URL with /start, then the URL on success or /fail on failure, in order", async () => {
    const made = await sidecarRunner(db.sql);
    made.runner.registerJob({
      name: "backup",
      schedule: "@yearly",
      ping: `${base}/hc/backup`,
      run: () => {},
    });
    made.runner.registerJob({
      name: "restore",
      schedule: "@yearly",
      ping: `${base}/hc/restore`,
      run: () => Promise.reject(new Error("x")),
    });
    await made.runner.start();
    try {
      await (await made.runner.triggerJob("backup")).done;
      await (await made.runner.triggerJob("restore")).done;
      const pings = () =>
        received.filter((r) => r.path.startsWith("/hc/")).map((r) => `${r.method} ${r.path}`);
      await waitFor(() => pings().length === 4);
      expect(pings().filter((p) => p.includes("backup"))).toEqual(["GET /hc/backup/start", "GET /hc/backup"]);
      expect(pings().filter((p) => p.includes("restore"))).toEqual([
        "GET /hc/restore/start",
        "GET /hc/restore/fail",
      ]);
    } finally {
      await made.runner.stop();
    }
  });

  it("keeps a ping URL's query string after /start and /fail", async () => {
    expect(withPathSuffix("https://hc-ping.com/5b1c?rid=7", "start")).toBe(
      "https://hc-ping.com/5b1c/start?rid=7",
    );
    expect(withPathSuffix("https://hc-ping.com/5b1c/", "fail")).toBe("https://hc-ping.com/5b1c/fail");
    const made = await sidecarRunner(db.sql);
    made.runner.registerJob({
      name: "query",
      schedule: "@yearly",
      ping: `${base}/hq/check?rid=42`,
      run: () => Promise.reject(new Error("x")),
    });
    await made.runner.start();
    try {
      await (await made.runner.triggerJob("query")).done;
      const pings = () => received.filter((r) => r.path.startsWith("/hq/")).map((r) => r.path);
      await waitFor(() => pings().length === 2);
      expect(pings()).toEqual(["/hq/check/start?rid=42", "/hq/check/fail?rid=42"]);
    } finally {
      await made.runner.stop();
    }
  });

  it("skips heartbeat pings while one hangs, and the loop goes on", async () => {
    const made = await sidecarRunner(db.sql, {
      HEARTBEAT_PING_URL: `${base}/hang/heartbeat`,
      JOB_LOOP_INTERVAL_SECONDS: "1",
    });
    await made.runner.start();
    try {
      const firstTick = made.runner.loop!.lastTick;
      await waitFor(() => made.runner.loop!.lastTick !== firstTick && made.runner.loop!.lastTick?.ok, 5000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(received.filter((r) => r.path === "/hang/heartbeat")).toHaveLength(1);
      expect(made.lines.join("")).toContain("heartbeat ping skipped");
    } finally {
      await made.runner.stop();
    }
  });

  it("bounds what waits for one target, keeps order, and survives a task that throws", async () => {
    const queue = new OrderedQueue();
    const order: number[] = [];
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    expect(queue.push("t", () => gate.then(() => void order.push(1)), 3)).toBe(true);
    expect(queue.push("t", () => Promise.reject(new Error("boom")), 3)).toBe(true);
    expect(queue.push("t", async () => void order.push(3), 3)).toBe(true);
    expect(queue.push("t", async () => void order.push(4), 3)).toBe(false);
    expect(queue.push("other", async () => void order.push(5), 3)).toBe(true);
    open();
    await queue.drain();
    expect(order).toEqual([5, 1, 3]);
    expect(queue.push("t", async () => void order.push(6), 3)).toBe(true);
    await queue.drain();
    expect(order).toEqual([5, 1, 3, 6]);
  });

  it("pings HEARTBEAT_PING_URL after every healthy loop, and counts deliveries that fail", async () => {
    const made = await sidecarRunner(db.sql, {
      HEARTBEAT_PING_URL: `${base}/heartbeat`,
      JOB_LOOP_INTERVAL_SECONDS: "1",
    });
    await made.runner.start();
    try {
      await waitFor(() => received.filter((r) => r.path === "/heartbeat").length >= 2, 5000);
    } finally {
      await made.runner.stop();
    }
    const broken = await sidecarRunner(db.sql, {
      ALERT_WEBHOOK_URL: `${base}/broken`,
      ALERT_AFTER_FAILURES: "1",
    });
    broken.runner.registerJob({
      name: "doomed",
      schedule: "@yearly",
      run: () => Promise.reject(new Error("no")),
    });
    await broken.runner.start();
    try {
      const started = Date.now();
      await (await broken.runner.triggerJob("doomed")).done;
      // The job's outcome was not held up by the failing webhook.
      expect(Date.now() - started).toBeLessThan(1000);
      await waitFor(
        async () =>
          /runner_notification_failures_total\{kind="webhook"\} 1/.test(
            await (await broken.request("/metrics")).text(),
          ),
        10_000,
      );
      expect(received.filter((r) => r.path === "/broken")).toHaveLength(3);
    } finally {
      await broken.runner.stop();
    }
  });
});
