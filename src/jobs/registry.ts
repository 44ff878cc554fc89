import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../errors.js";
import { describeImportError } from "./import-error.js";
import { parseCodeJob } from "./schema.js";
import type { Job } from "../types.js";
import { nearest } from "../util/similar.js";

/** The jobs this process knows, by name. */
export class Registry {
  private readonly jobs = new Map<string, Job>();
  /** The jobs sorted by name, kept until the next change: the loop and a scrape list them often. */
  private sorted: Job[] | undefined;
  private changes = 0;

  /** Moves on every add and remove (jobs are never changed in place): whether the list changed. */
  get version(): number {
    return this.changes;
  }

  /** Adds a job; a duplicate name is a configuration error naming both sources. */
  add(job: Job): void {
    const existing = this.jobs.get(job.name);
    if (existing) {
      throw new ConfigError(`job "${job.name}" is defined twice (${existing.source} and ${job.source})`);
    }
    this.jobs.set(job.name, job);
    this.changed();
  }

  private changed(): void {
    this.changes++;
    this.sorted = undefined;
  }

  remove(name: string): Job | undefined {
    const job = this.jobs.get(name);
    if (this.jobs.delete(name)) this.changed();
    return job;
  }

  get(name: string): Job | undefined {
    return this.jobs.get(name);
  }

  /** Bound, so it can be handed on: the store's loop queries take it to tell this replica's jobs (KnownJobs). */
  readonly has = (name: string): boolean => this.jobs.has(name);

  list(): Job[] {
    this.sorted ??= [...this.jobs.values()].sort((a, b) => a.name.localeCompare(b.name));
    return [...this.sorted];
  }

  names(): string[] {
    return this.list().map((job) => job.name);
  }

  get size(): number {
    return this.jobs.size;
  }

  /** Throws ConfigError naming the unknown job and listing the known ones. */
  require(name: string): Job {
    const job = this.jobs.get(name);
    if (!job) throw new ConfigError(unknownJobMessage(name, this.names()));
    return job;
  }
}

export function unknownJobMessage(name: string, known: string[]): string {
  const meant = nearest(name, known);
  return `unknown job "${name}"${meant ? ` (did you mean "${meant}"?)` : ""}; known jobs: ${known.length > 0 ? known.join(", ") : "(none)"}`;
}

/**
 * Load a jobs module: its default export (or named export `jobs`) is an array of jobs.
 * Every problem of every job is collected, so one run of `runner check` shows them all.
 */
export async function loadJobsModule(path: string, flag = "--jobs"): Promise<Job[]> {
  const absolute = resolve(path);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    // Only a missing module file is "file not found": Node reports a package the module imports
    // with the same code and the module's path in the message.
    if (!existsSync(absolute)) throw new ConfigError(`${flag} ${path}: file not found`);
    throw new ConfigError(describeImportError(error, flag, path, absolute));
  }
  const exported = module.default ?? module.jobs;
  const list = Array.isArray(exported)
    ? exported
    : exported && typeof exported === "object"
      ? [exported]
      : undefined;
  if (!list) {
    throw new ConfigError(`${flag} ${path}: expected a default export that is an array of jobs`);
  }
  const problems: string[] = [];
  const jobs: Job[] = [];
  list.forEach((input, index) => {
    const parsed = parseCodeJob(input, `${path}: job[${index}]`, path);
    problems.push(...parsed.problems);
    if (parsed.job) jobs.push(parsed.job);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return jobs;
}
