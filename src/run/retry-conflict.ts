import type { Store } from "../store/store.js";
import type { OverlapPolicy } from "../types.js";
import { iso } from "../util/iso.js";

/**
 * Why a manual run of a job must wait: a retry of it is pending (job_retries) and its overlap is
 * `skip`, so the retry, not a second run beside it, is what comes next. One line naming the retry
 * (attempt, due time, the failed run it retries), or undefined when nothing stands in the way.
 * `overlap` is the job's definition where the caller has it; `runner trigger` may not, and then
 * the overlap recorded with the retry decides.
 */
export async function pendingRetryConflict(
  store: Pick<Store, "retries">,
  jobName: string,
  overlap: OverlapPolicy | undefined,
): Promise<string | undefined> {
  const [next] = await store.retries.ofJob(jobName, 1);
  if (!next || (overlap ?? (next.overlap_skip ? "skip" : "allow")) !== "skip") return undefined;
  return (
    `job "${jobName}" has a retry pending (attempt ${next.attempt}, due ${iso(next.due_at)}, ` +
    `retrying run ${next.retry_of}) and its overlap is skip; trigger it after that retry has run`
  );
}
