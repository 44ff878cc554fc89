import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { testDatabase } from "../helpers/db.js";
import { sidecarRunner } from "../helpers/http.js";
import { waitFor } from "../helpers/runner.js";

const db = await testDatabase("conns");
let made: Awaited<ReturnType<typeof sidecarRunner>>;
const held: Socket[] = [];

beforeAll(async () => {
  made = await sidecarRunner(db.sql, { HTTP_MAX_CONNECTIONS: "3" });
  await made.runner.start();
});
afterAll(async () => {
  for (const socket of held) socket.destroy();
  await made.runner.stop();
});

/** One request on its own socket: the status line, or "closed" when the server hung up unanswered. */
function livez(port: number): Promise<string> {
  return new Promise((resolve) => {
    let answer = "";
    const socket = connect(port, "127.0.0.1", () =>
      socket.write("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    );
    socket.on("data", (chunk) => {
      answer += chunk;
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve(answer ? answer.split("\r\n")[0]! : "closed"));
  });
}

/** A connection that sends a request and keeps the socket (keep-alive), counting against the cap. */
async function hold(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  held.push(socket);
  await new Promise<void>((resolve) => {
    socket.once("data", () => resolve());
    socket.write("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  });
  return socket;
}

describe("HTTP_MAX_CONNECTIONS", () => {
  it("defaults to a few hundred", () => {
    expect(loadConfig({}).httpMaxConnections).toBe(256);
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: "0" })).toThrow(/HTTP_MAX_CONNECTIONS/);
  });

  it("closes connections past the cap at once, serves the open ones, and recovers when they go", async () => {
    const port = made.sidecar.port;
    const open = [await hold(port), await hold(port), await hold(port)];
    expect(await livez(port)).toBe("closed");
    // The held connections are still served.
    const again = await new Promise<string>((resolve) => {
      open[0]!.once("data", (chunk) => resolve(String(chunk).split("\r\n")[0]!));
      open[0]!.write("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    });
    expect(again).toBe("HTTP/1.1 200 OK");
    expect(made.lines.join("")).toContain("http connection refused: 3 connections already open");

    open[1]!.destroy();
    await waitFor(async () => (await livez(port)) === "HTTP/1.1 200 OK", 5000, "a free connection slot");
  });
});
