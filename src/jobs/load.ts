import { existsSync } from "node:fs";
import { extname } from "node:path";
import type { Config } from "../config.js";
import { pathList } from "../config/schemas.js";
import { ConfigError } from "../errors.js";
import { builtinJobs } from "./builtin/index.js";
import { loadJobsModule } from "./registry.js";
import type { Job } from "../types.js";

const MODULE_EXTENSIONS = new Set([".js", ".mjs", ".cjs"]);
const FILE_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

/**
 * Fill a registry through `addJob`: built-in jobs, then every --jobs / JOBS_FILE entry in order.
 * All problems of all files are collected into one ConfigError.
 */
export async function loadJobs(
  addJob: (job: Job) => void,
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const problems: string[] = [];
  const add = (jobs: Awaited<ReturnType<typeof loadJobsModule>>) => {
    for (const job of jobs) {
      try {
        addJob(job);
      } catch (error) {
        if (error instanceof ConfigError) problems.push(...error.problems);
        else throw error;
      }
    }
  };
  add(builtinJobs(config));
  const fromEnv = fromJobsFileVariable(config.jobsFiles, env);
  for (const [index, path] of config.jobsFiles.entries()) {
    // Problems name where the path came from: the JOBS_FILE variable or a --jobs flag.
    const flag = index < fromEnv ? "JOBS_FILE" : "--jobs";
    const extension = extname(path).toLowerCase();
    try {
      if (!existsSync(path)) problems.push(`${flag} ${path}: file not found`);
      else if (MODULE_EXTENSIONS.has(extension)) add(await loadJobsModule(path, flag));
      else if (FILE_EXTENSIONS.has(extension)) {
        // Loaded on demand: the YAML parser costs start-up time only to those who use jobs files.
        const { loadJobsFile } = await import("./jobs-file.js");
        add(await loadJobsFile(path, env));
      } else problems.push(`${flag} ${path}: expected a .js/.mjs module or a .yaml/.yml/.json file`);
    } catch (error) {
      if (error instanceof ConfigError) problems.push(...error.problems);
      else throw error;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** How many of `paths` (JOBS_FILE's entries, then --jobs flags: loadConfig) came from JOBS_FILE. */
function fromJobsFileVariable(paths: string[], env: NodeJS.ProcessEnv): number {
  const parsed = pathList.safeParse(env.JOBS_FILE ?? "");
  const listed = parsed.success ? parsed.data : [];
  return listed.every((path, index) => paths[index] === path) ? listed.length : 0;
}
