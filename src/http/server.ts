import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import { HttpError, type Reply } from "./respond.js";

export interface Route {
  method: string;
  /** Named groups become params, e.g. /^\/v1\/jobs\/(?<name>[^/]+)\/trigger$/. */
  path: RegExp;
  handle(
    req: IncomingMessage,
    params: Record<string, string>,
    query: URLSearchParams,
  ): Promise<Reply> | Reply;
}

/**
 * Sent with every answer unless a route says otherwise: nothing is cached, sniffed as another type,
 * framed by another page (clickjacking the console's buttons) or allowed to load anything.
 */
const SECURITY_HEADERS: Record<string, string> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
};

function write(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { ...SECURITY_HEADERS, ...reply.headers };
  let payload: string;
  if (reply.raw) {
    payload = String(reply.body ?? "");
    headers["content-type"] ??= "text/plain; charset=utf-8";
  } else {
    payload = JSON.stringify(reply.body ?? {});
    headers["content-type"] = "application/json; charset=utf-8";
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** Path params are percent-decoded; a malformed escape is the client's error, not a crash. */
function decodeParams(groups: Record<string, string> | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(groups ?? {})) {
    try {
      params[key] = decodeURIComponent(value);
    } catch {
      throw new HttpError(400, `malformed path segment ${JSON.stringify(value)}`);
    }
  }
  return params;
}

/**
 * The request target as a URL. Resolving it against a base would read `//metrics` as a host
 * (and throw on `//`): an origin-form target is appended to the base instead.
 */
function targetUrl(target = "/"): URL {
  try {
    return new URL(target.startsWith("/") ? `http://sidecar${target}` : target);
  } catch {
    throw new HttpError(400, "malformed request target");
  }
}

async function dispatch(routes: Route[], req: IncomingMessage): Promise<Reply> {
  const url = targetUrl(req.url);
  const matching = routes.filter((route) => route.path.test(url.pathname));
  if (matching.length === 0) throw new HttpError(404, `no such path: ${url.pathname.slice(0, 200)}`);
  const route = matching.find(
    (r) => r.method === req.method || (req.method === "HEAD" && r.method === "GET"),
  );
  if (!route) {
    const methods = new Set(matching.map((r) => r.method));
    if (methods.has("GET")) methods.add("HEAD");
    const allow = [...methods].join(", ");
    throw new HttpError(405, `method ${String(req.method).slice(0, 20)} not allowed`, { allow });
  }
  return route.handle(req, decodeParams(route.path.exec(url.pathname)?.groups), url.searchParams);
}

/**
 * The sidecar listener. Every error becomes an HTTP answer (4xx, or 500 with the message logged);
 * nothing a client sends can throw past here. Timeouts keep a trickling client from holding a
 * socket: headers within 5 s, the whole request within 10 s.
 */
export function createHttpServer(routes: Route[], log: Logger, options: { maxConnections: number }): Server {
  // Timeouts are enforced by a sweep; Node's default sweep runs every 30 s.
  const server = createServer({ connectionsCheckingInterval: 1000 }, async (req, res) => {
    const started = performance.now();
    let reply: Reply;
    try {
      reply = await dispatch(routes, req);
    } catch (error) {
      if (error instanceof HttpError) {
        reply = { status: error.status, body: { error: error.message }, headers: error.headers };
      } else {
        log.error(
          { err: error, method: req.method, path: req.url?.slice(0, 200) },
          "http handler failed: %s",
          errorMessage(error),
        );
        reply = { status: 500, body: { error: "internal error" } };
      }
      // Unread body bytes of a rejected request must not be parsed as the next request.
      if (!req.complete) res.setHeader("connection", "close");
    }
    write(res, reply);
    log.debug(
      {
        method: req.method,
        path: req.url?.slice(0, 200),
        status: reply.status,
        ms: Math.round(performance.now() - started),
      },
      "http",
    );
  });
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5000;
  server.maxHeadersCount = 100;
  // Past this many open sockets a new one is closed at once: a flood of connections costs the
  // process no memory beyond them, and the ones already open keep being served.
  server.maxConnections = options.maxConnections;
  let dropped = 0;
  let lastWarned = 0;
  server.on("drop", () => {
    dropped++;
    if (Date.now() - lastWarned < 10_000) return;
    lastWarned = Date.now();
    log.warn(
      { dropped, max_connections: options.maxConnections },
      "http connection refused: %d connections already open (HTTP_MAX_CONNECTIONS)",
      options.maxConnections,
    );
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  return server;
}
