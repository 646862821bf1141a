import { type Answer, call, failureText } from "../api.js";
import {
  bar,
  button,
  type Child,
  type Column,
  el,
  field,
  type Notice,
  notice,
  replace,
  submitting,
  table,
} from "../dom.js";
import { list, money, number, optionalNumber, time } from "../format.js";

// Virtual keys, teams, customers (create, edit limits and budgets, revoke, delete) and every budget's use
// against its limit as a bar. A new key's secret is shown once, with a copy button; the API never shows it
// again.

type Key = NonNullable<Answer<"GET /api/keys">["data"]>[number];
type Team = NonNullable<Answer<"GET /api/teams">["data"]>[number];
type Customer = NonNullable<Answer<"GET /api/customers">["data"]>[number];
type Budget = NonNullable<Key["budgets"]>[number];
type Limits = NonNullable<Key["limits"]>;
interface BudgetInput {
  id?: string;
  max_budget: number;
  budget_duration?: string;
}
interface LimitsInput {
  requests?: number;
  tokens?: number;
  parallel?: number;
  window?: string;
}

/** One budget's use: spent (and reserved by requests in flight) against its maximum. */
export function budgetBar(budget: Budget): HTMLElement {
  const used = (budget.spend ?? 0) + (budget.reserved ?? 0);
  const max = budget.max_budget ?? 0;
  const period = budget.budget_duration ? ` per ${budget.budget_duration}` : "";
  const label = `${money(budget.spend)} of ${money(max)}${period}`;
  return el(
    "div",
    { class: "budget" },
    bar(used, max, `Budget ${budget.id ?? ""}: ${label}`),
    el("small", {}, label),
  );
}

const budgetsCell = (budgets: readonly Budget[] | undefined) =>
  budgets && budgets.length > 0 ? budgets.map(budgetBar) : el("span", { class: "muted" }, "none");

function limitsText(limits: Limits | null | undefined): string {
  if (!limits) return "none";
  const parts = [
    limits.requests !== undefined ? `${number(limits.requests)} requests` : "",
    limits.tokens !== undefined ? `${number(limits.tokens)} tokens` : "",
  ].filter(Boolean);
  const per = parts.length > 0 ? `${parts.join(", ")} per ${limits.window ?? "1m"}` : "";
  return (
    [per, limits.parallel !== undefined ? `${limits.parallel} in parallel` : ""].filter(Boolean).join("; ") ||
    "none"
  );
}

/** The limit and budget fields of a create or edit form, and what they read as in a request body. */
function limitFields(limits?: Limits | null, budgets: readonly Budget[] = []) {
  const requests = el("input", {
    name: "limit_requests",
    inputmode: "numeric",
    value: limits?.requests ?? "",
  });
  const tokens = el("input", { name: "limit_tokens", inputmode: "numeric", value: limits?.tokens ?? "" });
  const parallel = el("input", {
    name: "limit_parallel",
    inputmode: "numeric",
    value: limits?.parallel ?? "",
  });
  const window = el("input", { name: "limit_window", value: limits?.window ?? "", placeholder: "1m" });
  // Each budget kept keeps its id (and so its spend); a blank maximum drops it; the last row adds one.
  const rows = [...budgets, undefined].map((budget) => ({
    id: budget?.id,
    max: el("input", {
      name: "budget_max",
      inputmode: "decimal",
      value: budget?.max_budget ?? "",
      placeholder: "dollars",
    }),
    duration: el("input", {
      name: "budget_duration",
      value: budget?.budget_duration ?? "",
      placeholder: "30d, 1mo; blank for ever",
    }),
  }));
  return {
    elements: [
      el(
        "fieldset",
        {},
        el("legend", {}, "Rate limits"),
        field("Requests", requests),
        field("Tokens", tokens),
        field("Window", window),
        field("Parallel", parallel),
      ),
      el(
        "fieldset",
        {},
        el("legend", {}, "Budgets"),
        rows.map((row) =>
          el(
            "div",
            { class: "row" },
            field(row.id ? `Budget ${row.id} ($)` : "New budget ($)", row.max),
            field("Period", row.duration),
          ),
        ),
      ),
    ],
    limits(): LimitsInput | null {
      const value: LimitsInput = {};
      const r = optionalNumber(requests.value);
      const t = optionalNumber(tokens.value);
      const p = optionalNumber(parallel.value);
      if (r !== undefined) value.requests = r;
      if (t !== undefined) value.tokens = t;
      if (p !== undefined) value.parallel = p;
      if (window.value.trim() && (r !== undefined || t !== undefined)) value.window = window.value.trim();
      return Object.keys(value).length === 0 ? null : value;
    },
    budgets(): BudgetInput[] {
      const out: BudgetInput[] = [];
      for (const row of rows) {
        const max = optionalNumber(row.max.value);
        if (max === undefined) continue;
        out.push({
          ...(row.id ? { id: row.id } : {}),
          max_budget: max,
          ...(row.duration.value.trim() ? { budget_duration: row.duration.value.trim() } : {}),
        });
      }
      return out;
    },
  };
}

/** The form that edits one entity in `editBox`: its fields, Save, and Cancel, which closes it. */
function editForm(
  title: string,
  editBox: HTMLElement,
  ...fields: ReadonlyArray<Child | readonly Child[]>
): HTMLFormElement {
  return el(
    "form",
    { class: "card inline-form" },
    el("h2", {}, title),
    ...fields,
    el(
      "div",
      { class: "actions" },
      el("button", { type: "submit", class: "primary" }, "Save"),
      button("Cancel", () => editBox.replaceChildren()),
    ),
  );
}

function options(
  select: HTMLSelectElement,
  ids: readonly (string | undefined)[],
  selected?: string | null,
): HTMLSelectElement {
  select.append(el("option", { value: "" }, "none"));
  for (const id of ids) if (id) select.append(el("option", { value: id, selected: id === selected }, id));
  return select;
}

const confirmed = (text: string, work: () => Promise<unknown>, message: Notice, done: () => void) => () => {
  if (!confirm(text)) return;
  work().then(done, (error) => message.show(failureText(error), "error"));
};

export async function keysPage(main: HTMLElement): Promise<undefined> {
  const message = notice();
  const secretBox = el("div");
  const editBox = el("div");
  const listBox = el("div");
  const [teams, customers] = await Promise.all([call("GET /api/teams"), call("GET /api/customers")]);
  const teamIds = (teams.data ?? []).map((t) => t.id);
  const customerIds = (customers.data ?? []).map((c) => c.id);

  const name = el("input", { name: "name", autocomplete: "off", placeholder: "what it is for" });
  const team = options(el("select", { name: "team_id" }), teamIds);
  const customer = options(el("select", { name: "customer_id" }), customerIds);
  const models = el("input", { name: "models", autocomplete: "off", placeholder: "all when blank" });
  const limits = limitFields();
  const create = el(
    "form",
    { class: "card inline-form" },
    el("h2", {}, "Create a virtual key"),
    field("Name", name),
    field("Team", team),
    field("Customer", customer),
    field("Models", models, "Comma-separated; blank for every model."),
    limits.elements,
    el("button", { type: "submit", class: "primary" }, "Create key"),
  );
  submitting(
    create,
    message,
    async () => {
      const created = await call("POST /api/keys", {
        body: {
          ...(name.value.trim() ? { name: name.value.trim() } : {}),
          ...(team.value ? { team_id: team.value } : {}),
          ...(customer.value ? { customer_id: customer.value } : {}),
          ...(list(models.value).length > 0 ? { models: list(models.value) } : {}),
          limits: limits.limits(),
          budgets: limits.budgets(),
        },
      });
      replace(secretBox, secretOnce(created.key ?? "", created.id ?? ""));
      create.reset();
      return `Key ${created.id} created.`;
    },
    () => void draw(),
  );

  replace(
    main,
    el("div", { class: "page-head" }, el("h1", {}, "Virtual keys")),
    create,
    message,
    secretBox,
    editBox,
    listBox,
  );

  const columns: Column<Key>[] = [
    {
      title: "Key",
      cell: (k) => [
        el("span", { class: "name" }, k.name || k.id || ""),
        el("br"),
        el("code", {}, k.masked ?? ""),
      ],
    },
    {
      title: "Status",
      cell: (k) => el("span", { class: `badge ${k.active ? "ok" : "off"}` }, k.active ? "active" : "revoked"),
    },
    { title: "Team", cell: (k) => k.team_id ?? "–" },
    { title: "Customer", cell: (k) => k.customer_id ?? "–" },
    { title: "Models", cell: (k) => el("span", { class: "name" }, (k.models ?? []).join(", ") || "all") },
    { title: "Budgets", cell: (k) => budgetsCell(k.budgets), class: "budgets" },
    { title: "Limits", cell: (k) => limitsText(k.limits) },
    { title: "Created", cell: (k) => time(k.created_at) },
    {
      title: "Actions",
      class: "row-actions",
      cell: (k) => {
        const id = k.id ?? "";
        if (k.source === "config") return el("span", { class: "muted" }, "from the configuration file");
        return [
          button("Edit", () => replace(editBox, editKey(k))),
          button(k.active ? "Revoke" : "Activate", () =>
            call("PATCH /api/keys/{id}", { path: { id }, body: { active: !k.active } }).then(
              () => {
                message.show(`Key ${id} ${k.active ? "revoked" : "active again"}.`, "ok");
                void draw();
              },
              (error) => message.show(failureText(error), "error"),
            ),
          ),
          button(
            "Delete",
            confirmed(
              `Delete the key ${id}? Clients using it are refused at once.`,
              () => call("DELETE /api/keys/{id}", { path: { id } }),
              message,
              () => void draw(),
            ),
            "danger",
          ),
        ];
      },
    },
  ];

  function editKey(key: Key): HTMLElement {
    const id = key.id ?? "";
    const keyName = el("input", { name: "name", value: key.name ?? "" });
    const keyModels = el("input", { name: "models", value: (key.models ?? []).join(", ") });
    const fields = limitFields(key.limits, key.budgets);
    const form = editForm(
      `Edit key ${id}`,
      editBox,
      field("Name", keyName),
      field("Models", keyModels),
      fields.elements,
    );
    submitting(
      form,
      message,
      async () => {
        await call("PATCH /api/keys/{id}", {
          path: { id },
          body: {
            name: keyName.value.trim(),
            models: list(keyModels.value),
            limits: fields.limits(),
            budgets: fields.budgets(),
          },
        });
        editBox.replaceChildren();
        return `Key ${id} saved.`;
      },
      () => void draw(),
    );
    return form;
  }

  async function draw(): Promise<void> {
    replace(listBox, table(columns, (await call("GET /api/keys")).data ?? [], "No virtual keys yet."));
  }
  await draw();
  return undefined;
}

function secretOnce(secret: string, id: string): HTMLElement {
  const code = el("code", { class: "secret" }, secret);
  const copied = el("span", { role: "status", "aria-live": "polite" });
  return el(
    "div",
    { class: "card secret-once", role: "alert" },
    el("h2", {}, `Secret of ${id}`),
    el("p", {}, "Copy it now: the gateway shows it this once and never again."),
    el(
      "div",
      { class: "row" },
      code,
      button("Copy", () => {
        navigator.clipboard.writeText(secret).then(
          () => {
            copied.textContent = "Copied.";
          },
          () => {
            // No clipboard (an insecure origin): select the text for the user to copy.
            getSelection()?.selectAllChildren(code);
            copied.textContent = "Selected: press Ctrl+C.";
          },
        );
      }),
      copied,
    ),
  );
}

type Entity = Team & Customer;

/** Teams and customers: the same page for two routes. */
function entityPage(kind: "teams" | "customers") {
  const noun = kind === "teams" ? "team" : "customer";
  return async (main: HTMLElement): Promise<undefined> => {
    const message = notice();
    const editBox = el("div");
    const listBox = el("div");
    const customerIds =
      kind === "teams" ? ((await call("GET /api/customers")).data ?? []).map((c) => c.id) : [];
    const id = el("input", {
      name: "id",
      autocomplete: "off",
      pattern: "[A-Za-z0-9_.:-]{1,128}",
      placeholder: "generated when blank",
    });
    const name = el("input", { name: "name", autocomplete: "off" });
    const customer = options(el("select", { name: "customer_id" }), customerIds);
    const limits = limitFields();
    const create = el(
      "form",
      { class: "card inline-form" },
      el("h2", {}, `Create a ${noun}`),
      field("Id", id),
      field("Name", name),
      kind === "teams" ? field("Customer", customer) : null,
      limits.elements,
      el("button", { type: "submit", class: "primary" }, `Create ${noun}`),
    );
    const body = () => ({
      ...(name.value.trim() ? { name: name.value.trim() } : {}),
      ...(kind === "teams" && customer.value ? { customer_id: customer.value } : {}),
      limits: limits.limits(),
      budgets: limits.budgets(),
    });
    submitting(
      create,
      message,
      async () => {
        const fields = { ...body(), ...(id.value.trim() ? { id: id.value.trim() } : {}) };
        const created =
          kind === "teams"
            ? await call("POST /api/teams", { body: fields })
            : await call("POST /api/customers", { body: fields });
        create.reset();
        return `${noun} ${created.id} created.`;
      },
      () => void draw(),
    );
    replace(
      main,
      el("div", { class: "page-head" }, el("h1", {}, kind === "teams" ? "Teams" : "Customers")),
      create,
      message,
      editBox,
      listBox,
    );

    const edit = (entity: Entity): HTMLElement => {
      const entityId = entity.id ?? "";
      const entityName = el("input", { name: "name", value: entity.name ?? "" });
      const fields = limitFields(entity.limits, entity.budgets);
      const form = editForm(`Edit ${noun} ${entityId}`, editBox, field("Name", entityName), fields.elements);
      submitting(
        form,
        message,
        async () => {
          const patch = { name: entityName.value.trim(), limits: fields.limits(), budgets: fields.budgets() };
          if (kind === "teams") await call("PATCH /api/teams/{id}", { path: { id: entityId }, body: patch });
          else await call("PATCH /api/customers/{id}", { path: { id: entityId }, body: patch });
          editBox.replaceChildren();
          return `${noun} ${entityId} saved.`;
        },
        () => void draw(),
      );
      return form;
    };

    const columns: Column<Entity>[] = [
      { title: "Id", cell: (e) => el("span", { class: "name" }, e.id ?? "") },
      { title: "Name", cell: (e) => el("span", { class: "name" }, e.name ?? "") },
      ...(kind === "teams" ? [{ title: "Customer", cell: (e: Entity) => e.customer_id ?? "–" }] : []),
      { title: "Budgets", cell: (e) => budgetsCell(e.budgets), class: "budgets" },
      { title: "Limits", cell: (e) => limitsText(e.limits) },
      {
        title: "Actions",
        class: "row-actions",
        cell: (e) => {
          const entityId = e.id ?? "";
          if (e.source === "config") return el("span", { class: "muted" }, "from the configuration file");
          const remove = () =>
            kind === "teams"
              ? call("DELETE /api/teams/{id}", { path: { id: entityId } })
              : call("DELETE /api/customers/{id}", { path: { id: entityId } });
          return [
            button("Edit", () => replace(editBox, edit(e))),
            button(
              "Delete",
              confirmed(`Delete the ${noun} ${entityId}?`, remove, message, () => void draw()),
              "danger",
            ),
          ];
        },
      },
    ];

    async function draw(): Promise<void> {
      const rows =
        kind === "teams" ? (await call("GET /api/teams")).data : (await call("GET /api/customers")).data;
      replace(listBox, table(columns, (rows ?? []) as Entity[], `No ${kind} yet.`));
    }
    await draw();
    return undefined;
  };
}

export const teamsPage = entityPage("teams");
export const customersPage = entityPage("customers");

type OwnedBudget = NonNullable<Answer<"GET /api/budgets">["data"]>[number];

export async function budgetsPage(main: HTMLElement): Promise<undefined> {
  const budgets = (await call("GET /api/budgets")).data ?? [];
  const href = (b: OwnedBudget) =>
    `#/${b.owner_type === "key" ? "keys" : b.owner_type === "team" ? "teams" : "customers"}`;
  replace(
    main,
    el("div", { class: "page-head" }, el("h1", {}, "Budgets")),
    el(
      "p",
      { class: "muted" },
      "Every budget of every key, team and customer: spent in the current window (and reserved by requests in flight) against its maximum.",
    ),
    table<OwnedBudget>(
      [
        {
          title: "Owner",
          cell: (b) => [
            el("a", { href: href(b) }, b.owner_type ?? ""),
            " ",
            el("span", { class: "name" }, b.owner_id ?? ""),
          ],
        },
        { title: "Use", cell: budgetBar, class: "budgets" },
        { title: "Maximum", cell: (b) => money(b.max_budget), class: "num" },
        {
          title: "Soft limit",
          cell: (b) => (b.soft_budget == null ? "–" : money(b.soft_budget)),
          class: "num",
        },
        { title: "Period", cell: (b) => b.budget_duration ?? "life" },
        { title: "Window since", cell: (b) => time(b.window_start) },
      ],
      budgets,
      "No budgets: set one on a key, team or customer.",
    ),
  );
  return undefined;
}
