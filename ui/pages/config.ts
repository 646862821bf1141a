import { ApiFailure, call, failureText } from "../api.js";
import { el, replace } from "../dom.js";
import { titleOf, tree } from "../tree.js";

// The effective configuration (GET /api/config): secrets masked by the gateway, where it came from, what the
// gateway ignored and how the last reload went. Warnings come first.

export async function configPage(main: HTMLElement): Promise<undefined> {
  replace(main, el("div", { class: "page-head" }, el("h1", {}, "Config")));
  try {
    const config = (await call("GET /api/config")) as Record<string, unknown>;
    const warnings = warningLines(config.warnings);
    main.append(
      warnings.length > 0
        ? el(
            "section",
            { class: "card warning", role: "alert" },
            el("h2", {}, "Warnings"),
            el(
              "ul",
              {},
              warnings.map((line) => el("li", {}, line)),
            ),
          )
        : el("p", { class: "muted" }, "No warnings: every key of the configuration is in use."),
    );
    for (const [name, value] of Object.entries(config))
      if (name !== "warnings")
        main.append(el("section", { class: "card" }, el("h2", {}, titleOf(name)), tree(value, name)));
  } catch (error) {
    if (error instanceof ApiFailure && (error.signInNeeded || error.unprotected)) throw error;
    main.append(
      el(
        "p",
        { class: "notice error", role: "alert" },
        `The configuration is not available: ${failureText(error)}`,
      ),
    );
  }
  return undefined;
}

/** Warnings as lines, whether the answer lists them or groups them ({ startup: [...], reload: [...] }). */
function warningLines(warnings: unknown, group = ""): string[] {
  if (typeof warnings === "string") return [group ? `${group}: ${warnings}` : warnings];
  if (Array.isArray(warnings)) return warnings.flatMap((item) => warningLines(item, group));
  if (typeof warnings === "object" && warnings !== null)
    return Object.entries(warnings).flatMap(([name, item]) => warningLines(item, titleOf(name)));
  return [];
}
