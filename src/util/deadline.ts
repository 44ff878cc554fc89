/**
 * Wait for `promise`, but no longer than `ms`: resolves true when it settled in time. Shutdown
 * uses it so a database that hangs (rather than refusing) cannot hold a SIGTERM forever.
 */
export async function bounded(promise: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!promise) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
