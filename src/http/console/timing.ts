import type { Route } from "../server.js";

/**
 * A console page's handler, its answer carrying `Server-Timing: app;dur=<ms>`: the time from the
 * request's routing to the page's HTML, database included. The benchmark reads it (the console
 * must render in under 50 ms of server time), and so can an operator's browser tools. Only the
 * admin sees the pages, so the figure tells no one else anything.
 */
export function timed(handle: Route["handle"]): Route["handle"] {
  return async (req, params, query) => {
    const started = performance.now();
    const reply = await handle(req, params, query);
    const took = (performance.now() - started).toFixed(1);
    return { ...reply, headers: { ...reply.headers, "server-timing": `app;dur=${took}` } };
  };
}
