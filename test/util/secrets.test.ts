import { describe, expect, it } from "vitest";
import {
  registerConfigSecrets,
  registerSecret,
  scrub,
  scrubValue,
  urlSecrets,
} from "../../src/util/secrets.js";

describe("the one scrubber of secrets", () => {
  it("redacts a secret as is, percent-encoded and JSON-escaped, longest form first", () => {
    const secret = 'p@ss "w/rd"';
    const text = `a=${secret} url=?t=${encodeURIComponent(secret)} json=${JSON.stringify(secret)}`;
    expect(scrub(text, [secret])).toBe('a=[REDACTED] url=?t=[REDACTED] json="[REDACTED]"');
  });

  it("leaves values under 4 characters alone (they would blank out ordinary words)", () => {
    expect(scrub("the cat sat", ["cat"])).toBe("the cat sat");
  });

  it("scrubs every string inside a JSON-like value", () => {
    expect(scrubValue({ a: ["x hunter22 y", 3], b: { c: "hunter22" } }, ["hunter22"])).toEqual({
      a: ["x [REDACTED] y", 3],
      b: { c: "[REDACTED]" },
    });
  });

  it("uses the registered secrets by default", () => {
    registerSecret("registered-secret-value");
    expect(scrub("token registered-secret-value")).toBe("token [REDACTED]");
    expect(scrubValue({ t: "registered-secret-value" })).toEqual({ t: "[REDACTED]" });
  });

  it("finds a URL's credentials and tokens: user info, token-like path segments, query values", () => {
    expect(
      urlSecrets(
        "https://hook-user:hook%40pw@hooks.example.com/services/T0AB12CD/B0EF34GH/xoxbTokenPart?sig=abcd&format=json&v=2",
        true,
      ).sort(),
    ).toEqual(["B0EF34GH", "T0AB12CD", "abcd", "hook-user", "hook@pw", "xoxbTokenPart"].sort());
    expect(urlSecrets("https://hc-ping.com/ping/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278", true)).toEqual([
      "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278",
    ]);
    expect(urlSecrets("https://ghp0TokenAsUser1@api.example.com/hook", true)).toEqual(["ghp0TokenAsUser1"]);
    // A database URL: only the password; "postgres" and the database name are no secrets.
    expect(urlSecrets("postgres://postgres:db%2Fpw-9@db:5432/app", false)).toEqual(["db/pw-9"]);
    expect(urlSecrets("not a url", true)).toEqual([]);
  });

  it("registers every secret of the configuration", () => {
    registerConfigSecrets({
      databaseUrl: "postgres://app:db-password-5@db/app",
      adminPassword: "admin-password-6",
      internalSecret: "internal-secret-7",
      alertWebhookUrl: "https://hooks.example.com/services/T0AB12CD/B0EF34GH/webhookToken8",
      heartbeatPingUrl: "https://ping.example.com/heartbeat?token=pingtok9",
    });
    const line =
      "postgres://app:db-password-5@db/app admin-password-6 internal-secret-7 /services/T0AB12CD/B0EF34GH/webhookToken8 ?token=pingtok9";
    expect(scrub(line)).toBe(
      "postgres://app:[REDACTED]@db/app [REDACTED] [REDACTED] /services/[REDACTED]/[REDACTED]/[REDACTED] ?token=[REDACTED]",
    );
  });
});
