import { describe, expect, it } from "vitest";
import { type JobLinked, RunsByJob } from "../../src/run/runs-by-job.js";
import { job } from "../helpers/jobs.js";

type Run = JobLinked & { id: number };
const jobs = { a: job({ name: "a" }), b: job({ name: "b" }) };
const run = (id: number, name: "a" | "b"): Run => ({
  id,
  job: jobs[name],
  prevOfJob: undefined,
  nextOfJob: undefined,
});
const ids = (index: RunsByJob<Run>, name: string) => [...index.of(name)].map((r) => r.id);

describe("RunsByJob", () => {
  it("keeps each job's runs apart, newest first, through removals at the head, middle and tail", () => {
    const index = new RunsByJob<Run>();
    const runs = [run(1, "a"), run(2, "b"), run(3, "a"), run(4, "a"), run(5, "a")];
    for (const r of runs) index.add(r);
    expect(ids(index, "a")).toEqual([5, 4, 3, 1]);
    expect(ids(index, "b")).toEqual([2]);
    index.delete(runs[3]!); // middle (4)
    index.delete(runs[4]!); // head (5)
    index.delete(runs[0]!); // tail (1)
    expect(ids(index, "a")).toEqual([3]);
    expect(index.count("a")).toBe(1);
    index.delete(runs[0]!); // a second delete is a no-op
    index.delete(runs[2]!);
    index.delete(runs[1]!);
    expect(ids(index, "a")).toEqual([]);
    expect(index.count("b")).toBe(0);
    index.add(runs[2]!); // a job emptied and used again
    expect(ids(index, "a")).toEqual([3]);
  });
});
