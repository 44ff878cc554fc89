import { type LookupAddress, lookup as dnsLookup } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { Readable } from "node:stream";

/** One request, as redirects.ts makes it (redirects are its business, never the fetcher's). */
export type Fetcher = (
  url: URL,
  init: { method: string; headers: Record<string, string>; body: string | undefined; signal: AbortSignal },
) => Promise<Response>;

/** fetch, one hop at a time. */
export const plainFetch: Fetcher = (url, init) => fetch(url, { ...init, redirect: "manual" });

/** Statuses whose answer has no body (the Response constructor refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * A fetcher whose connections go to addresses `refuse` accepts, decided inside the DNS lookup
 * the connection itself uses: the address checked is the address connected to, so a name that
 * resolves to a public address for a check and to 127.0.0.1 a moment later (DNS rebinding) cannot
 * slip through. `refuse` returns why an address is refused, or undefined.
 */
export function pinnedFetch(refuse: (host: string, address: string) => string | undefined): Fetcher {
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 4);
      const why = addresses.map(({ address }) => refuse(hostname, address)).find(Boolean);
      if (why) return callback(Object.assign(new Error(why), { code: "EREFUSED" }), "", 4);
      if (options.all)
        return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const request = url.protocol === "https:" ? httpsRequest : httpRequest;
      const headers =
        init.body === undefined
          ? init.headers
          : { ...init.headers, "content-length": String(Buffer.byteLength(init.body)) };
      const req = request(url, { method: init.method, headers, signal: init.signal, lookup }, (res) => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(res.headers))
          for (const one of [value ?? []].flat()) answer.append(name, one);
        const status = res.statusCode ?? 502;
        const empty = NO_BODY.has(status) || init.method === "HEAD";
        if (empty) res.resume();
        const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        resolve(new Response(body, { status, headers: answer }));
      });
      req.on("error", reject);
      req.end(init.body);
    });
}
