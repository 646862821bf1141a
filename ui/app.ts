import { ApiFailure, call, failureText, session, whenRefused } from "./api.js";
import { append, el, replace } from "./dom.js";
import { configPage } from "./pages/config.js";
import { dashboardPage } from "./pages/dashboard.js";
import { budgetsPage, customersPage, keysPage, teamsPage } from "./pages/governance.js";
import { logsPage } from "./pages/logs.js";
import { providersPage } from "./pages/providers.js";
import { routingPage } from "./pages/routing.js";

// The web UI's shell: sign-in, the page list, and hash routes (#/logs, ...) so the key never enters a URL
// and the gateway serves one index.html.

/** A page draws itself into `main` and returns what to stop (sockets, timers) when the user leaves it. */
export type Page = (main: HTMLElement) => Promise<(() => void) | undefined> | (() => void) | undefined;

const PAGES: ReadonlyArray<readonly [route: string, title: string, page: Page]> = [
  ["dashboard", "Dashboard", dashboardPage],
  ["logs", "Logs", logsPage],
  ["providers", "Providers", providersPage],
  ["keys", "Virtual keys", keysPage],
  ["teams", "Teams", teamsPage],
  ["customers", "Customers", customersPage],
  ["budgets", "Budgets", budgetsPage],
  ["routing", "Routing", routingPage],
  ["config", "Config", configPage],
];

const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
const signOut = document.getElementById("sign-out") as HTMLButtonElement;
let leave: (() => void) | undefined;

function stopPage(): void {
  leave?.();
  leave = undefined;
}

function showSignIn(reason?: string): void {
  stopPage();
  nav.hidden = true;
  signOut.hidden = true;
  document.title = "Sign in · Switchyard";
  const key = el("input", {
    type: "password",
    name: "key",
    autocomplete: "current-password",
    required: true,
    "aria-label": "Admin key",
  });
  const form = el(
    "form",
    { class: "card sign-in", on: { submit: (event) => void submit(event) } },
    el("h1", {}, "Sign in"),
    el(
      "p",
      {},
      "Enter the gateway's admin key (SWITCHYARD_API_KEY). It stays in this browser tab's session.",
    ),
    el("label", { class: "field" }, el("span", {}, "Admin key"), key),
    reason ? el("p", { class: "notice error", role: "alert" }, reason) : null,
    el("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    session.signIn(key.value);
    try {
      await call("GET /api/budgets");
      if (location.hash === "" || location.hash === "#/sign-in") location.hash = "#/dashboard";
      else void route();
    } catch (error) {
      // A refusal is drawn by whenRefused; anything else (the gateway unreachable) is shown here.
      if (error instanceof ApiFailure && (error.unprotected || error.signInNeeded)) return;
      session.signOut();
      showSignIn(failureText(error));
    }
  }
  replace(main, form);
  key.focus();
}

function showUnprotected(message: string): void {
  stopPage();
  nav.hidden = true;
  signOut.hidden = true;
  document.title = "Unprotected · Switchyard";
  replace(
    main,
    el(
      "section",
      { class: "card warning", role: "alert" },
      el("h1", {}, "This gateway is unprotected"),
      el(
        "p",
        {},
        "It runs without an admin key: anyone who reaches it can send requests through its providers, and its management API (and so this UI) stays shut.",
      ),
      el("p", {}, "To protect it and manage it here, set an admin key and restart:"),
      el("pre", {}, "SWITCHYARD_API_KEY=<a long random secret> switchyard"),
      el("p", { class: "muted" }, "(or general_settings.master_key in the configuration file)"),
      el("p", { class: "muted" }, `The gateway said: ${message}`),
    ),
  );
}

whenRefused((failure) => {
  if (failure.unprotected) showUnprotected(failure.message);
  else {
    const hadKey = session.key() !== null;
    session.signOut();
    showSignIn(hadKey ? "The gateway refused that admin key; sign in again." : undefined);
  }
});

function drawNav(current: string): void {
  replace(
    nav,
    PAGES.map(([route, title]) =>
      el("a", { href: `#/${route}`, "aria-current": route === current ? "page" : undefined }, title),
    ),
  );
}

async function route(): Promise<void> {
  if (session.key() === null) {
    showSignIn();
    // Asked without a key, the gateway says whether it has one at all (403 request_refused when it has none).
    call("GET /api/budgets").catch(() => {});
    return;
  }
  const name = location.hash.replace(/^#\/?/, "").split(/[/?]/)[0] || "dashboard";
  const entry = PAGES.find(([route]) => route === name);
  if (entry === undefined) {
    location.hash = "#/dashboard";
    return;
  }
  stopPage();
  nav.hidden = false;
  signOut.hidden = false;
  drawNav(name);
  document.title = `${entry[1]} · Switchyard`;
  const content = el("div", { class: "page" });
  replace(main, content);
  try {
    const stop = await entry[2](content);
    if (main.contains(content)) leave = stop ?? undefined;
    else stop?.();
  } catch (error) {
    if (!(error instanceof ApiFailure && (error.signInNeeded || error.unprotected)))
      append(content, el("p", { class: "notice error", role: "alert" }, failureText(error)));
  }
}

signOut.addEventListener("click", () => {
  session.signOut();
  location.hash = "#/sign-in";
  showSignIn();
});
window.addEventListener("hashchange", () => void route());
void route();
