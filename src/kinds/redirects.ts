/**
 * Redirects of an `http` job, followed by hand so that every hop is decided here: whether to
 * follow at all, whether the job's headers go along, and (for jobs registered over HTTP) whether
 * the hop's address may be called (`check`).
 */

/** `false` (default): a 3xx is the answer. `true`: same-origin hops only. `"any"`: any origin. */
export type FollowRedirects = boolean | "any";

const MAX_HOPS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface Request {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal;
}

export interface Answer {
  response: Response;
  /** A redirect that was not followed: where it pointed. */
  location?: string;
}

/**
 * Fetch `url`, following redirects as `follow` allows. The job's headers (credentials, API keys,
 * `${NAME}` values) are sent only to the job's own origin: a hop to another origin, when allowed
 * at all, carries none of them. `check` runs before every request, the first one included.
 */
export async function fetchFollowing(
  url: string,
  request: Request,
  follow: FollowRedirects,
  check: (url: URL) => Promise<void> = async () => {},
): Promise<Answer> {
  const origin = new URL(url).origin;
  let current = new URL(url);
  let { method, body } = request;
  for (let hop = 0; ; hop++) {
    await check(current);
    const sameOrigin = current.origin === origin;
    const response = await fetch(current, {
      method,
      headers: sameOrigin ? request.headers : {},
      body,
      signal: request.signal,
      redirect: "manual",
    });
    const location = response.headers.get("location");
    if (!REDIRECTS.has(response.status) || location === null) return { response };
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      return { response, location };
    }
    const allowed = follow === "any" || (follow === true && next.origin === origin);
    if (!allowed || (next.protocol !== "http:" && next.protocol !== "https:"))
      return { response, location: next.href };
    if (hop + 1 >= MAX_HOPS) throw new Error(`more than ${MAX_HOPS} redirects`);
    await response.body?.cancel().catch(() => {});
    // As browsers do: 303, and 301/302 after a POST, go on as a GET without the body.
    if (
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) && method === "POST")
    ) {
      if (method !== "HEAD") method = "GET";
      body = undefined;
    }
    current = next;
  }
}
