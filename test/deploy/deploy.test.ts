import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { VARIABLES } from "../../src/config.js";

const root = resolve(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

/** Every variable the configuration reads: the table in src/config.ts. */
const knownVariables = new Set(Object.keys(VARIABLES));

type Container = {
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string } } }[];
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
};

function manifests() {
  const dir = join(root, "deploy/kubernetes");
  return readdirSync(dir).flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((doc) => doc.toJS()),
  );
}

describe("deployment artifacts match the contract", () => {
  it(".env.example lists every variable runner reads, and nothing else", () => {
    const listed = read(".env.example")
      .split("\n")
      .map((line) => /^([A-Z_]+)=/.exec(line)?.[1])
      .filter((name): name is string => !!name);
    expect(listed.toSorted()).toEqual([...knownVariables].toSorted());
  });

  it("the Deployment probes /readyz and /livez on the sidecar port and outlives the shutdown grace", () => {
    const deployment = manifests().find((m) => m.kind === "Deployment");
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    const container: Container = pod.containers[0];
    expect(container.ports).toEqual([{ name: "http", containerPort: 9464 }]);
    expect(container.readinessProbe!.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(container.livenessProbe!.httpGet).toEqual({ path: "/livez", port: "http" });
    const grace = Number(container.env!.find((e) => e.name === "SHUTDOWN_GRACE_SECONDS")!.value);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(grace);
    for (const secret of ["DATABASE_URL", "ADMIN_BASIC_PASSWORD", "INTERNAL_SECRET"]) {
      expect(container.env!.find((e) => e.name === secret)?.valueFrom?.secretKeyRef?.name).toBe(
        "runner-secrets",
      );
    }
  });

  it("every variable a manifest or compose sets is one runner reads", () => {
    for (const manifest of manifests()) {
      const spec = manifest.spec?.template?.spec ?? manifest.spec?.jobTemplate?.spec?.template?.spec;
      for (const container of (spec?.containers ?? []) as Container[]) {
        for (const variable of container.env ?? [])
          expect(knownVariables, `${manifest.kind}: ${variable.name}`).toContain(variable.name);
      }
    }
    const compose = parseYaml(read("compose.yaml"));
    for (const name of Object.keys(compose.services.runner.environment))
      expect(knownVariables, `compose: ${name}`).toContain(name);
  });

  it("the Service exposes the sidecar with Prometheus scrape annotations, and the CronJob runs --once", () => {
    const service = manifests().find((m) => m.kind === "Service");
    expect(service.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9464",
      "prometheus.io/path": "/metrics",
    });
    const cron = manifests().find((m) => m.kind === "CronJob");
    expect(cron.spec.concurrencyPolicy).toBe("Forbid");
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0].args).toEqual([
      "run",
      "--job",
      "storage_janitor",
      "--once",
    ]);
  });

  it("compose starts the runner once PostgreSQL is healthy and checks /readyz", () => {
    const compose = parseYaml(read("compose.yaml"));
    expect(compose.services.postgres.healthcheck.test.join(" ")).toContain("pg_isready");
    expect(compose.services.runner.depends_on.postgres.condition).toBe("service_healthy");
    expect(compose.services.runner.healthcheck.test.join(" ")).toContain("/readyz");
    expect(compose.services.prometheus.volumes.join(" ")).toContain("alerts.yml");
  });

  it("containers listen on every interface with production semantics; compose publishes on loopback, credentials from .env", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toMatch(/^\s+RUNNER_ENV=production \\$/m);
    expect(dockerfile).toMatch(/^\s+HTTP_HOST=0\.0\.0\.0 \\$/m);
    const deployment = manifests().find((m) => m.kind === "Deployment");
    const env: Container["env"] = deployment.spec.template.spec.containers[0].env;
    expect(env!.find((e) => e.name === "HTTP_HOST")?.value).toBe("0.0.0.0");
    expect(env!.find((e) => e.name === "RUNNER_ENV")?.value).toBe("production");
    const compose = parseYaml(read("compose.yaml"));
    const runner = compose.services.runner;
    expect(runner.environment).toMatchObject({ RUNNER_ENV: "production", HTTP_HOST: "0.0.0.0" });
    for (const secret of ["ADMIN_BASIC_USERNAME", "ADMIN_BASIC_PASSWORD", "INTERNAL_SECRET"])
      expect(runner.environment[secret], secret).toMatch(new RegExp(`^\\$\\{${secret}:\\?.*\\.env`));
    for (const service of Object.values(compose.services) as { ports?: string[] }[])
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    expect(read(".gitignore").split("\n")).toContain(".env");
  });

  it("the Dockerfile runs node directly as a non-root user", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/runner"\]$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
  });

  it("the Grafana dashboard and the alert rules use only contract metrics and the job_name label", () => {
    const contract =
      /^(job_runner_up|job_heartbeat_age_seconds|job_runs_total|job_run_duration_seconds_bucket|job_schedule_delay_seconds_bucket|job_consecutive_failures|job_last_success_timestamp_seconds|job_next_run_timestamp_seconds|job_running|runner_notification_failures_total|up)$/;
    const dashboard = JSON.parse(read("deploy/grafana/runner.json"));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
      p.targets.map((t) => t.expr),
    );
    const rules = parseYaml(read("deploy/prometheus/alerts.yml")).groups.flatMap(
      (g: { rules: { expr: string }[] }) => g.rules.map((r) => r.expr),
    );
    for (const expr of [...exprs, ...rules]) {
      // Recording rules (runner:...) are ours to name; everything else must be a contract metric.
      const bare = expr.replace(/runner:[a-z_:]+/g, "");
      for (const name of bare.match(/\b(job_[a-z_]+|runner_[a-z_]+|up)\b(?=\s*[{[)]|\s*$|\s*[><=*-])/g) ??
        []) {
        if (name === "job_name") continue;
        expect(name, expr).toMatch(contract);
      }
      // `job` is Prometheus's own scrape-target label: fine on `up`, never on runner's metrics.
      expect(expr.replace(/\bup\{[^}]*\}/g, "up")).not.toMatch(/[{,(]\s*job\s*=/);
    }
  });
});
