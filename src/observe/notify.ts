import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import { retry } from "../util/retry.js";
import { redactSecrets } from "./log.js";

export interface DeliveryOptions {
  /** Per attempt. @default 5000 */
  timeoutMs?: number;
  /** Attempts in all. @default 3 */
  attempts?: number;
  /** Upper bound of the (jittered) delay before the second attempt, doubled after. @default 500 */
  backoffMs?: number;
}

/**
 * Deliver one HTTP request with a short timeout and a few retries. Never throws: resolves true
 * on a 2xx, false when every attempt failed (logged, and counted by the caller).
 */
export async function deliver(
  log: Logger,
  what: string,
  url: string,
  init: RequestInit = {},
  options: DeliveryOptions = {},
): Promise<boolean> {
  const { timeoutMs = 5000, attempts = 3, backoffMs = 500 } = options;
  try {
    return await retry(
      async () => {
        const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
        await response.arrayBuffer().catch(() => undefined);
        if (!response.ok) throw new Error(`answered ${response.status}`);
        return true;
      },
      { attempts, initialMs: backoffMs, maxMs: Number.POSITIVE_INFINITY },
    );
  } catch (error) {
    log.warn({ target: redactSecrets(safeUrl(url)), attempts }, "%s failed: %s", what, errorMessage(error));
    return false;
  }
}

/** Scheme and host only: paths (Healthchecks.io UUIDs), queries and user info carry tokens. */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return "(invalid url)";
  }
}

/**
 * Keeps deliveries to one target in order (a job's /start ping before its success ping) without
 * ever making the caller wait. A target that hangs holds each delivery for its timeouts and
 * retries while new ones keep coming, so each key holds at most `limit` pending deliveries.
 */
export class OrderedQueue {
  private tails = new Map<string, Promise<void>>();
  private pending = new Map<string, number>();

  /** Queues `task` after the key's earlier tasks; false when the key already has `limit` pending. */
  push(key: string, task: () => Promise<unknown>, limit = 100): boolean {
    const waiting = this.pending.get(key) ?? 0;
    if (waiting >= limit) return false;
    this.pending.set(key, waiting + 1);
    // Tails never reject: a task that throws only ends its own turn.
    const run = async () => {
      try {
        await task();
      } catch {}
    };
    const next = (this.tails.get(key) ?? Promise.resolve()).then(run).finally(() => {
      const left = (this.pending.get(key) ?? 1) - 1;
      if (left > 0) this.pending.set(key, left);
      else this.pending.delete(key);
      if (this.tails.get(key) === next) this.tails.delete(key);
    });
    this.tails.set(key, next);
    return true;
  }

  /** Resolves when everything queued so far was delivered or given up (used at shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }
}

/** `url` with `/suffix` added to its path, keeping a query string (`?rid=...`) where it belongs. */
export function withPathSuffix(url: string, suffix: string): string {
  try {
    const parsed = new URL(url);
    parsed.pathname = `${parsed.pathname.replace(/\/+$/, "")}/${suffix}`;
    return parsed.toString();
  } catch {
    return `${url}/${suffix}`;
  }
}
