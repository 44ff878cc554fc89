import { Command, CommanderError, Option } from "commander";
import { backfillCommand } from "./backfill.js";
import { checkCommand, migrateCommand, pauseCommand, triggerCommand } from "./control.js";
import { collect } from "./context.js";
import { explainCommand } from "./explain.js";
import { historyCommand, jobsCommand, statusCommand } from "./inspect.js";
import { logsCommand } from "./logs.js";
import { auditCommand } from "./audit.js";
import { runCommand } from "./run.js";
import { unknownCommand } from "./unknown-command.js";
import { ConfigError, DatabaseUnreachableError, EXIT, errorMessage } from "../errors.js";
import { redactSecrets } from "../observe/log.js";
import { VERSION } from "../version.js";

const jobsOption = () =>
  new Option(
    "--jobs <path>",
    "a jobs module (.js/.mjs) or jobs file (.yaml/.yml/.json); repeatable; env JOBS_FILE",
  ).argParser(collect);

function program(setCode: (code: number) => void): Command {
  const cli = new Command("runner")
    .description(
      "Runs named cron jobs, records every run and a heartbeat in Postgres, exactly once across replicas.",
    )
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  const done = (promise: Promise<number>) => promise.then(setCode);

  cli
    .command("run", { isDefault: true })
    .description("the daemon (default command)")
    .option("-i, --interval <seconds>", "loop cadence, 1..3600 (env JOB_LOOP_INTERVAL_SECONDS, default 60)")
    .option("-j, --job <name>", "only this job (repeatable)", collect)
    .option("--once", "one pass, then exit; with --job: run those jobs now (backfill)")
    .option("--param <key=value>", "passed to the job as ctx.params (repeatable; with --once)", collect)
    .addOption(jobsOption())
    // Stray words reach the default command: `runner histroy x` is an unknown command, not
    // "too many arguments for 'run'".
    .allowExcessArguments()
    .action((flags, command: Command) => {
      if (command.args.length > 0) throw unknownCommand(command.args[0]!, commandNames(cli));
      return done(runCommand(flags));
    });
  cli
    .command("migrate")
    .description("apply sql/ migrations (idempotent)")
    .action(() => done(migrateCommand()));
  cli
    .command("jobs")
    .description("registered jobs: name, schedule, timezone, next run, timeout, retries")
    .option("--json", "JSON for scripts")
    .addOption(jobsOption())
    .action((flags) => done(jobsCommand(flags)));
  cli
    .command("status")
    .description("per-job state from the database")
    .option("--json", "JSON for scripts")
    .addOption(jobsOption())
    .action((flags) => done(statusCommand(flags)));
  cli
    .command("history <job>")
    .description("the newest runs of a job")
    .option("--limit <n>", "how many runs", "20")
    .option("--json", "JSON for scripts")
    .addOption(jobsOption())
    .action((job, flags) => done(historyCommand(job, flags)));
  cli
    .command("audit [job]")
    .description("the audit trail: pauses, resumes, triggers, backfills, registrations, deletions")
    .option("--limit <n>", "how many events, newest first", "50")
    .option("--json", "JSON for scripts")
    .addOption(jobsOption())
    .action((job, flags) => done(auditCommand(job, flags)));
  cli
    .command("logs <run-id>")
    .description("the kept output of a run (ctx.log, a command's stdout and stderr)")
    .option("--follow", "print a running run's lines as they come, until it finishes")
    .option("--json", "one JSON object per line for scripts")
    .addOption(jobsOption())
    .action((id, flags) => done(logsCommand(id, flags)));
  cli
    .command("trigger <job>")
    .description("ask the running daemons for a run now, through the database")
    .option("--param <key=value>", "passed to the job as ctx.params (repeatable)", collect)
    .option("--json", "JSON for scripts")
    .addOption(jobsOption())
    .action((job, flags) => done(triggerCommand(job, flags)));
  cli
    .command("backfill <job>")
    .description("run the past slots of a job that have no successful run, as those slots (exactly once)")
    .requiredOption("--from <iso>", "the window's first instant, e.g. 2026-03-29T00:00Z")
    .requiredOption("--to <iso>", "the window's last instant (not in the future)")
    .option("--dry-run", "list the slots it would run; run nothing")
    .option("--concurrency <n>", "slots running at once, across processes, 1..100", "1")
    .option("--rate <n/s>", "slot starts per second at most, e.g. 5/s")
    .addOption(jobsOption())
    .action((job, flags) => done(backfillCommand(job, flags)));
  cli
    .command("pause <job>")
    .description("pause a job on every replica (persisted), with why and until when")
    .option("--reason <text>", "why: shown in status, the console and the audit trail")
    .option("--until <iso>", "resume by itself at this time, e.g. 2026-12-24T00:00Z")
    .option("--for <duration>", "resume by itself after this long, e.g. 2h")
    .addOption(jobsOption())
    .action((job, flags) => done(pauseCommand(job, true, flags)));
  cli
    .command("resume <job>")
    .description("resume a paused job")
    .addOption(jobsOption())
    .action((job, flags) => done(pauseCommand(job, false, flags)));
  cli
    .command("check")
    .description("validate configuration and registry, print a summary, exit 0 or 2")
    .option("--json", "JSON for scripts")
    .addOption(jobsOption())
    .action((flags) => done(checkCommand(flags)));
  cli
    .command("explain [job]")
    .description(
      "what happened to a job's slots (--from/--to, default the last 24 h), or the next instants of a job or of --schedule EXPR (--next)",
    )
    .option("--from <time>", "window start: an ISO time with a zone, or a duration before now (2h)")
    .option("--to <time>", "window end (default now): an ISO time with a zone, or a duration before now")
    .option("--next <n>", "the next N instants instead, 1..1000 (default 10), with DST notes")
    .option("--schedule <expr>", "a cron expression that is not a job (no database, no jobs needed)")
    .option("--timezone <tz>", "with --schedule: its IANA time zone (default UTC)")
    .option("--repeated <policy>", "with --schedule: first, last or both (default: the expression's)")
    .option("--skipped <policy>", "with --schedule: shift or skip (default: the expression's)")
    .option("--json", "JSON for scripts")
    .addOption(jobsOption())
    .action((job, flags) => done(explainCommand(job, flags)));
  return cli;
}

function commandNames(cli: Command): string[] {
  return [...cli.commands.map((command) => command.name()), "help"];
}

function fail(lines: string[]): void {
  for (const line of lines) process.stderr.write(`runner: ${redactSecrets(line)}\n`);
}

/** Parse argv and run a command. Resolves with the exit code (docs/contract.md#exit-codes); never prints a stack. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  process.on("unhandledRejection", (reason) => {
    // A job that leaks a rejection must not take the daemon down with it.
    process.stderr.write(
      redactSecrets(
        `${JSON.stringify({ level: "error", msg: "unhandled rejection (ignored)", err: errorMessage(reason) })}\n`,
      ),
    );
  });
  try {
    await program((c) => {
      code = c;
    }).parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      fail(error.problems);
      return EXIT.usage;
    }
    if (error instanceof DatabaseUnreachableError) {
      fail([error.message]);
      return EXIT.databaseUnreachable;
    }
    fail([`unexpected error: ${errorMessage(error)}`]);
    return EXIT.runFailed;
  }
}
