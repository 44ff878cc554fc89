import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "../helpers/db.js";
import { basic, sidecarRunner } from "../helpers/http.js";

/** The jobs page over plain HTTP with more jobs than one page holds. */
const db = await testDatabase("console_http");
const ADMIN = basic("ops", "console-pass-3");
let made: Awaited<ReturnType<typeof sidecarRunner>>;

beforeAll(async () => {
  made = await sidecarRunner(db.sql, { ADMIN_BASIC_USERNAME: "ops", ADMIN_BASIC_PASSWORD: "console-pass-3" });
  for (let i = 0; i < 60; i++)
    made.runner.registerJob({
      name: `sync-${String(i).padStart(2, "0")}`,
      schedule: "@yearly",
      description: i === 42 ? "the ledger export" : "",
      run: () => {},
    });
  await made.runner.start();
});
afterAll(() => made.runner.stop());

const jobsOn = async (path: string) => {
  const res = await made.request(path, { headers: ADMIN });
  expect(res.status).toBe(200);
  const html = await res.text();
  return {
    html,
    jobs: [...html.matchAll(/<tr data-job="([^"]+)">/g)].map((m) => m[1]),
    more: /<a href="([^"]+)">More jobs/.exec(html)?.[1]?.replaceAll("&amp;", "&"),
  };
};

describe("the jobs page", () => {
  it("shows 50 jobs a page by name, counts every job, and links to the next page", async () => {
    const first = await jobsOn("/");
    expect(first.jobs).toHaveLength(50);
    expect(first.jobs[0]).toBe("sync-00");
    expect(first.html).toContain("<li><strong>60</strong> jobs</li>");
    expect(first.more).toBe("/?after=sync-49");
    const second = await jobsOn(first.more!);
    expect(second.jobs).toEqual(Array.from({ length: 10 }, (_, i) => `sync-${50 + i}`));
    expect(second.more).toBeUndefined();
  });

  it("searches names and descriptions, and keeps the filter and the search in the next page's link", async () => {
    expect((await jobsOn("/?q=LEDGER")).jobs).toEqual(["sync-42"]);
    expect((await jobsOn("/?q=sync-1")).jobs).toEqual(Array.from({ length: 10 }, (_, i) => `sync-1${i}`));
    expect((await jobsOn("/?filter=paused")).jobs).toEqual([]);
    const all = await jobsOn("/?q=sync");
    expect(all.more).toBe("/?q=sync&after=sync-49");
  });

  it("answers 400 naming a bad parameter", async () => {
    const res = await made.request("/?sort=name", { headers: ADMIN });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "sort: unknown parameter (expected filter, q, after)" });
    const long = await made.request(`/?q=${"x".repeat(201)}`, { headers: ADMIN });
    expect(await long.json()).toEqual({ error: "q: at most 200 characters" });
  });
});
