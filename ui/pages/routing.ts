import { ApiFailure, call, failureText } from "../api.js";
import { el, replace } from "../dom.js";
import { titleOf, tree } from "../tree.js";

// Routing as the gateway runs it now (GET /api/routing): model groups, aliases, fallbacks, the strategy and
// each deployment's live circuit and health state.

export async function routingPage(main: HTMLElement): Promise<undefined> {
  replace(main, el("div", { class: "page-head" }, el("h1", {}, "Routing")));
  try {
    const routing = (await call("GET /api/routing")) as Record<string, unknown>;
    for (const [name, value] of Object.entries(routing))
      main.append(el("section", { class: "card" }, el("h2", {}, titleOf(name)), tree(value, name)));
  } catch (error) {
    if (error instanceof ApiFailure && (error.signInNeeded || error.unprotected)) throw error;
    main.append(
      el("p", { class: "notice error", role: "alert" }, `Routing is not available: ${failureText(error)}`),
    );
  }
  return undefined;
}
