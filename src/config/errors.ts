/** A configuration that cannot be used. `problems` lists every problem found, each as "path: what is wrong". */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  readonly source: string;

  constructor(source: string, problems: readonly string[]) {
    const list = problems.map((p) => `\n  - ${p}`).join("");
    super(`invalid configuration in ${source}:${list}`);
    this.name = "ConfigError";
    this.source = source;
    this.problems = [...problems];
  }
}
