/** GET /metrics with many jobs, against GET /livez on the same listener. */
import { migratedPool, silentDaemon } from "./bench-runner.js";
import { startSidecar } from "../../dist/http/sidecar.js";
import { percentile } from "./stats.js";

interface Args {
  jobs: number;
  /** false: no run before scraping (100,000 triggered runs would take longer than the figure). */
  history?: boolean;
  requests: number;
  url: string;
  schema: string;
}
const args = JSON.parse(process.argv[2]!) as Args;

async function main() {
  const sql = await migratedPool(args.url, args.schema);
  const runner = await silentDaemon(sql, args.schema, {
    JOB_RUNNER_ID: "scrape",
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: "0",
  });
  for (let i = 0; i < args.jobs; i++)
    runner.registerJob({ name: `job-${i}`, schedule: "@yearly", run: () => {} });
  const sidecar = await startSidecar(runner);
  await runner.start();
  // Give every job some history so histograms and counters are populated, as in production.
  if (args.history !== false)
    await Promise.all(runner.registry.names().map(async (name) => (await runner.triggerJob(name)).done));
  const time = async (path: string) => {
    const samples: number[] = [];
    let bytes = 0;
    for (let i = 0; i < args.requests; i++) {
      const started = performance.now();
      const res = await fetch(`http://127.0.0.1:${sidecar.port}${path}`);
      bytes = (await res.arrayBuffer()).byteLength;
      samples.push(performance.now() - started);
    }
    return { p50: percentile(samples, 50), p99: percentile(samples, 99), bytes };
  };
  await time("/metrics");
  const metrics = await time("/metrics");
  const livez = await time("/livez");
  await runner.stop();
  await sql.end();
  console.log(JSON.stringify({ metrics, livez }));
  process.exit(0);
}
void main();
