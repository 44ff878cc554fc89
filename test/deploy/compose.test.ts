import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";

// deploy/compose-test.sh brings compose.yaml up with podman-compose (CI runs it: .ci/run); this
// checks, without podman, what keeps that script in step with compose.yaml: every public image
// compose.yaml pulls has a stand-in built on the local base, labelled as one, honouring what
// compose.yaml gives it.
const root = resolve(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

type Service = {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string[];
};
const services = (): Record<string, Service> => parseYaml(read("compose.yaml")).services;
const standIns = () => readdirSync(join(root, "deploy/compose-standins")).toSorted();

describe("compose.yaml is brought up by CI with stand-ins for the public images", () => {
  it("runs deploy/compose-test.sh right after the image test", () => {
    const lines = read(".ci/run").split("\n");
    const image = lines.indexOf("bash deploy/image-test.sh");
    const compose = lines.indexOf("bash deploy/compose-test.sh");
    expect(image).toBeGreaterThan(-1);
    expect(compose).toBeGreaterThan(image);
    expect(lines.slice(image + 1, compose).filter((line) => line.startsWith("bash "))).toEqual([]);
  });

  it("has a stand-in for every service that pulls a public image, and only for those", () => {
    const pulled = Object.entries(services())
      .filter(([, service]) => service.image && !service.build)
      .map(([name]) => name)
      .toSorted();
    expect(pulled).toEqual(["postgres", "prometheus"]);
    expect(standIns()).toEqual(pulled);
  });

  it("builds each stand-in on the local base and labels it as a stand-in, which the script reads", () => {
    const script = read("deploy/compose-test.sh");
    expect(script).toContain('{{index .Labels "runner.compose-test.stand-in"}}');
    for (const name of standIns()) {
      const containerfile = read(`deploy/compose-standins/${name}/Containerfile`);
      expect(containerfile.match(/^FROM .*$/gm), name).toEqual(["FROM ${BASE_IMAGE}"]);
      expect(containerfile, name).toMatch(/^LABEL runner\.compose-test\.stand-in="Debian .+, not .+"$/m);
    }
  });

  it("the postgres stand-in honours the variables and the data directory compose.yaml gives it", () => {
    const postgres = services().postgres!;
    const entrypoint = read("deploy/compose-standins/postgres/docker-entrypoint.sh");
    for (const variable of Object.keys(postgres.environment!))
      expect(entrypoint, variable).toContain(`$${variable}`);
    const dataDir = postgres.volumes!.map((volume) => volume.split(":")[1]);
    const containerfile = read("deploy/compose-standins/postgres/Containerfile");
    expect(containerfile).toContain(`PGDATA=${dataDir[0]}`);
  });

  it("the prometheus stand-in starts /bin/prometheus, to which compose's command gives the flags", () => {
    const containerfile = read("deploy/compose-standins/prometheus/Containerfile");
    expect(containerfile).toMatch(/^ENTRYPOINT \["\/bin\/prometheus"\]$/m);
    expect(services().prometheus!.command![0]).toMatch(/^--config\.file=/);
  });

  it("keeps the generated credentials out of the checkout and the CI log", () => {
    const script = read("deploy/compose-test.sh");
    // The .env goes to a private temporary directory; podman-compose's output (which echoes
    // every `podman run -e`) goes to a log there, shown only with the secrets replaced.
    expect(script).toContain('>"$work/.env"');
    expect(script).not.toMatch(/>\s*\.env\b/);
    expect(script).toContain(') >>"$work/compose.log" 2>&1');
    expect(script).toContain('sed -e "s/$password/<password>/g" -e "s/$secret/<secret>/g"');
  });
});
