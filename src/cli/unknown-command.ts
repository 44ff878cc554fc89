import { ConfigError } from "../errors.js";
import { nearest } from "../util/similar.js";

/**
 * `runner histroy x` reaches the default command `run` with stray words. Name the first one as an
 * unknown command and suggest the nearest command name, as git does.
 */
export function unknownCommand(word: string, commands: string[]): ConfigError {
  const meant = nearest(word, commands);
  return new ConfigError(
    meant
      ? `unknown command ${JSON.stringify(word)} (did you mean ${JSON.stringify(meant)}?)`
      : `unknown command ${JSON.stringify(word)}; commands: ${commands.join(", ")}`,
  );
}
