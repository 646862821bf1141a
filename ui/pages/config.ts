import { ApiFailure, call, failureText } from "../api.js";
import { el, replace } from "../dom.js";
import { tree } from "../tree.js";

// The effective configuration (GET /api/config): secrets masked by the gateway, where each part came from,
// the keys it ignored and how the last reload went. Warnings come first.

export async function configPage(main: HTMLElement): Promise<undefined> {
  replace(main, el("div", { class: "page-head" }, el("h1", {}, "Config")));
  try {
    const config = (await call("GET /api/config")) as Record<string, unknown>;
    const warnings = config.warnings;
    if (Array.isArray(warnings) && warnings.length > 0)
      main.append(
        el(
          "section",
          { class: "card warning" },
          el("h2", {}, "Warnings"),
          el(
            "ul",
            {},
            warnings.map((w) => el("li", {}, typeof w === "string" ? w : JSON.stringify(w))),
          ),
        ),
      );
    const rest = Object.fromEntries(Object.entries(config).filter(([name]) => name !== "warnings"));
    main.append(el("section", { class: "card" }, tree(rest)));
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
