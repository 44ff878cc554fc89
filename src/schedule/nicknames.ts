import { nearest } from "../util/similar.js";

/** The @nicknames croner knows (it matches them case-insensitively). */
export const NICKNAMES = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/**
 * Why an expression starting with "@" is not a nickname, or undefined when it is one. croner would
 * answer an unknown one with "five, six, or seven parts", which runner does not accept.
 */
export function nicknameProblem(expression: string): string | undefined {
  const word = expression.trim().toLowerCase();
  if (NICKNAMES.includes(word)) return undefined;
  const meant = nearest(word, NICKNAMES);
  return (
    `unknown cron nickname ${JSON.stringify(expression)}${meant ? ` (did you mean ${JSON.stringify(meant)}?)` : ""}; ` +
    `expected ${NICKNAMES.join(", ")}, or 5 fields (minute hour day month weekday) or 6 (with seconds first)`
  );
}
