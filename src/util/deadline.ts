/** The default outcome of a missed deadline (withDeadline without onTimeout). */
export class DeadlineError extends Error {
  constructor(readonly ms: number) {
    super(`did not finish within ${ms} ms`);
    this.name = "DeadlineError";
  }
}

/**
 * Settle as `promise` does, unless `ms` pass first: then settle with what `onTimeout` returns,
 * or reject with what it throws (a DeadlineError without it). The timer is cleared as soon as
 * the promise settles, so it never holds an exiting process; a promise that settles after the
 * deadline is ignored (its rejection included: it is never unhandled).
 */
export function withDeadline<T, U = never>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => U | Promise<U> = () => {
    throw new DeadlineError(ms);
  },
): Promise<T | U> {
  return new Promise<T | U>((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Wait for `promise`, but no longer than `ms`: resolves true when it settled in time (either
 * way), false at the deadline. Never rejects. Shutdown uses it so a database that hangs (rather
 * than refusing) cannot hold a SIGTERM forever.
 */
export function bounded(promise: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!promise) return Promise.resolve(true);
  return withDeadline(
    promise.then(
      () => true,
      () => true,
    ),
    ms,
    () => false,
  );
}
