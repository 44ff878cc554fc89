import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandHandler, commandSpec } from "../../src/kinds/command.js";
import { httpHandler, httpSpec } from "../../src/kinds/http.js";
import { context } from "../helpers/context.js";

const received: IncomingHttpHeaders[] = [];
const server = createServer((req, res) => {
  received.push(req.headers);
  req.resume().on("end", () => res.writeHead(200).end("ok"));
});
let base = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const slot = {
  idempotencyKey: "report@2026-03-29T01:00:00.000Z",
  scheduledFor: new Date("2026-03-29T01:00:00Z"),
};

describe("the slot's idempotency key reaches what a job calls", () => {
  it("http jobs send it as Idempotency-Key", async () => {
    await httpHandler(httpSpec.parse({ method: "POST", url: `${base}/a`, body: "{}" }))(context(slot));
    expect(received.at(-1)?.["idempotency-key"]).toBe("report@2026-03-29T01:00:00.000Z");
  });

  it("a job's own Idempotency-Key header wins, whatever its case", async () => {
    const spec = httpSpec.parse({ url: `${base}/b`, headers: { "IDEMPOTENCY-KEY": "mine" } });
    await httpHandler(spec)(context(slot));
    expect(received.at(-1)?.["idempotency-key"]).toBe("mine");
  });

  it("command jobs get RUNNER_IDEMPOTENCY_KEY and RUNNER_SCHEDULED_FOR (empty without a slot)", async () => {
    const spec = commandSpec.parse({ shell: 'echo "$RUNNER_IDEMPOTENCY_KEY|$RUNNER_SCHEDULED_FOR"' });
    expect(await commandHandler(spec)(context(slot))).toMatchObject({
      stdout: "report@2026-03-29T01:00:00.000Z|2026-03-29T01:00:00.000Z\n",
    });
    expect(await commandHandler(spec)(context({ idempotencyKey: "42" }))).toMatchObject({ stdout: "42|\n" });
  });
});
