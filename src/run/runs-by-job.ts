import type { Job } from "../types.js";

/** What RunsByJob links: a run knows its job and its neighbours among that job's runs. */
export interface JobLinked {
  job: Job;
  prevOfJob: JobLinked | undefined;
  nextOfJob: JobLinked | undefined;
}

/**
 * The runs of each job, as a list threaded through the runs themselves: adding and removing a run
 * allocate nothing (a per-second fan-out adds 10,000 a second), and a job's runs are found
 * without looking at every other job's, so cancelling 25,000 jobs while 20,000 runs are going on
 * is 25,000 short walks, not 500 million steps (it blocked the event loop for 27 s).
 */
export class RunsByJob<R extends JobLinked> {
  readonly #heads = new Map<string, R>();

  add(run: R): void {
    const head = this.#heads.get(run.job.name);
    run.prevOfJob = undefined;
    run.nextOfJob = head;
    if (head) head.prevOfJob = run;
    this.#heads.set(run.job.name, run);
  }

  delete(run: R): void {
    const { prevOfJob: prev, nextOfJob: next } = run;
    if (prev) prev.nextOfJob = next;
    else if (next) this.#heads.set(run.job.name, next as R);
    else if (this.#heads.get(run.job.name) === run) this.#heads.delete(run.job.name);
    if (next) next.prevOfJob = prev;
    run.prevOfJob = undefined;
    run.nextOfJob = undefined;
  }

  /** The job's runs, newest first. */
  *of(jobName: string): Generator<R> {
    for (let run = this.#heads.get(jobName); run; run = run.nextOfJob as R | undefined) yield run;
  }

  count(jobName: string): number {
    let count = 0;
    for (let run = this.#heads.get(jobName); run; run = run.nextOfJob as R | undefined) count++;
    return count;
  }
}
