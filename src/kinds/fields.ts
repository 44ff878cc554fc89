import { z } from "zod";
import { parseDuration } from "../util/duration.js";

/** "30s", "10m", "250ms" or milliseconds, parsed to milliseconds; the message names the format. */
export const durationField = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: 'expected a duration such as "500ms", "30s" or "5m"' });
    return z.NEVER;
  }
  return ms;
});
