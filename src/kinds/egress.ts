import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/**
 * Where jobs registered over HTTP may send requests (SCHEDULER_API_ALLOWED_HOSTS). Whoever can
 * register a job could otherwise make this process call anything it can reach: loopback services,
 * the private network, cloud metadata, and read the answers back through last-result.
 */
export interface EgressPolicy {
  /** Exact hosts ("api.example.com", "10.0.0.5") and suffixes (".example.com"); unset: none given. */
  allowedHosts: readonly string[] | undefined;
  production: boolean;
}

/** Addresses no job registered over HTTP may reach unless its host is listed exactly. */
const SPECIAL = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], // "this network"; 0.0.0.0 reaches the local host
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT; Alibaba's metadata at 100.100.100.200
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local; AWS, GCP and Azure metadata at 169.254.169.254
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 3], // multicast, reserved, broadcast
] as const)
  SPECIAL.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 96], // unspecified, loopback, IPv4-compatible
  ["::ffff:0:0", 96], // IPv4-mapped: 127.0.0.1 written as IPv6
  ["64:ff9b::", 96], // NAT64: IPv4 addresses again
  ["fc00::", 7], // unique local; AWS metadata at fd00:ec2::254
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
] as const)
  SPECIAL.addSubnet(net, prefix, "ipv6");

function isSpecial(address: string): boolean {
  const family = isIP(address);
  return family === 0 || SPECIAL.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** A URL's host as resolvers and the list compare it: lower case, without IPv6 brackets. */
function bare(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
}

/** How a listed entry reads, normalised like a URL's host (so "2130706433" is 127.0.0.1). */
export function normaliseEntry(entry: string): string {
  const trimmed = entry.trim().toLowerCase();
  if (trimmed.startsWith(".")) return trimmed;
  try {
    return bare(new URL(`http://${trimmed}/`).hostname);
  } catch {
    return trimmed;
  }
}

/** "exact" when the host is listed as is, "suffix" when under a listed ".suffix", else undefined. */
function listed(policy: EgressPolicy, host: string): "exact" | "suffix" | undefined {
  const entries = (policy.allowedHosts ?? []).map(normaliseEntry);
  if (entries.includes(host)) return "exact";
  // ".example.com" covers example.com and every host under it.
  const under = (entry: string) => host.endsWith(entry) || host === entry.slice(1);
  return entries.some((entry) => entry.startsWith(".") && under(entry)) ? "suffix" : undefined;
}

/**
 * Why a URL may not be registered (checked without DNS, at registration and when replicas load
 * the definition); undefined when it may. With the list unset: refused in production, allowed
 * elsewhere (the sidecar warns at startup).
 */
export function egressProblem(policy: EgressPolicy, url: URL): string | undefined {
  if (policy.allowedHosts === undefined)
    return policy.production
      ? "jobs registered over HTTP are disabled: SCHEDULER_API_ALLOWED_HOSTS is unset (RUNNER_ENV=production)"
      : undefined;
  const host = bare(url.hostname);
  const how = listed(policy, host);
  if (!how) return `host ${host} is not in SCHEDULER_API_ALLOWED_HOSTS`;
  if (how !== "exact" && isIP(host) !== 0 && isSpecial(host))
    return `${host} is a loopback, private, link-local or metadata address; list it exactly in SCHEDULER_API_ALLOWED_HOSTS to allow it`;
  return undefined;
}

/**
 * The check of every request of a job registered over HTTP, the first one and each redirect hop:
 * the host must be listed, and every address it resolves to must be public unless the host is
 * listed exactly. A refusal names the host and the address, never anything about ports.
 */
export function egressCheck(policy: EgressPolicy): ((url: URL) => Promise<void>) | undefined {
  if (policy.allowedHosts === undefined && !policy.production) return undefined;
  return async (url) => {
    const problem = egressProblem(policy, url);
    if (problem) throw new Error(`refused: ${problem}`);
    const host = bare(url.hostname);
    if (listed(policy, host) === "exact") return;
    let addresses: { address: string }[];
    try {
      addresses = isIP(host) !== 0 ? [{ address: host }] : await lookup(host, { all: true, verbatim: true });
    } catch {
      throw new Error(`refused: cannot resolve ${host}`);
    }
    const special = addresses.find(({ address }) => isSpecial(address));
    if (special)
      throw new Error(
        `refused: ${host} resolves to ${special.address}, a loopback, private, link-local or metadata address; list ${host} exactly in SCHEDULER_API_ALLOWED_HOSTS to allow it`,
      );
  };
}
