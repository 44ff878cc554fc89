import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { jobsModule, RunnerProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/runner.js";
import { needTool } from "../helpers/tools.js";

const db = await testDatabase("prom");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface QueryResult {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe("a real Prometheus scraping a real runner", () => {
  it("sees job_runner_up 1 and run counters through its query API", async (test) => {
    const binary = needTool("prometheus", test);
    const jobs = jobsModule(`export default [{ name: "tick", schedule: "* * * * * *", run: () => {} }];`);
    const runner = new RunnerProcess(["--interval", "1", "--jobs", jobs], {
      DATABASE_URL: db.url,
      DATABASE_SCHEMA: db.schema,
    });
    const dir = mkdtempSync(join(tmpdir(), "runner-prometheus-"));
    let prometheus: ReturnType<typeof spawn> | undefined;
    try {
      const listening = await runner.waitForLog((l) => String(l.msg).startsWith("http sidecar listening"));
      const config = join(dir, "prometheus.yml");
      writeFileSync(
        config,
        `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: runner\n    static_configs: [{ targets: ["127.0.0.1:${listening.port}"] }]\n`,
      );
      const port = await freePort();
      prometheus = spawn(
        binary,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        {
          stdio: "ignore",
        },
      );
      const query = async (q: string) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`).catch(
          () => undefined,
        );
        return res?.ok ? ((await res.json()) as QueryResult).data.result : [];
      };
      // Two scrapes at least, then the values.
      await waitFor(
        async () => Number((await query("count_over_time(job_runner_up[1m])"))[0]?.value[1] ?? 0) >= 2,
        30_000,
        "two scrapes",
      );
      const up = await query("job_runner_up");
      expect(up[0]!.value[1]).toBe("1");
      expect(up[0]!.metric).toMatchObject({ job: "runner", instance: `127.0.0.1:${listening.port}` });
      const runs = await waitFor(async () => {
        const result = await query('job_runs_total{job_name="tick",status="succeeded"} > 0');
        return result.length > 0 ? result : undefined;
      }, 15_000);
      expect(Number(runs[0]!.value[1])).toBeGreaterThan(0);
    } finally {
      prometheus?.kill("SIGTERM");
      runner.child.kill("SIGTERM");
      await runner.exited;
    }
  }, 60_000);
});
