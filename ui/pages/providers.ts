import { type Answer, ApiFailure, call, failureText } from "../api.js";
import { button, el, field, type Notice, notice, replace, submitting, table } from "../dom.js";
import { list, number, optionalNumber, time } from "../format.js";

// Providers and their keys (/api/providers, /api/providers/{name}/keys): add, edit, delete; a key's secret
// is write-only (the API answers it masked); Disable takes a key out of use and keeps it (a provider whose
// keys are all disabled refuses requests), Enable puts it back; Test sends one cheap request through the key.

type Provider = NonNullable<Answer<"GET /api/providers">["data"]>[number];
type ProviderKey = NonNullable<Answer<"GET /api/providers/{name}/keys">["data"]>[number];

const KINDS = [
  "openai",
  "anthropic",
  "gemini",
  "vertex",
  "bedrock",
  "azure",
  "groq",
  "mistral",
  "cohere",
  "deepseek",
  "openrouter",
  "together",
  "fireworks",
  "xai",
  "ollama",
  "custom",
];

export async function providersPage(main: HTMLElement): Promise<undefined> {
  const message = notice();
  const listBox = el("div");
  replace(
    main,
    el("div", { class: "page-head" }, el("h1", {}, "Providers")),
    addProviderForm(message, () => void draw()),
    message,
    listBox,
  );

  async function draw(): Promise<void> {
    const providers = (await call("GET /api/providers")).data ?? [];
    const cards = await Promise.all(providers.map((p) => providerCard(p, message, () => void draw())));
    replace(
      listBox,
      cards.length === 0 ? el("p", { class: "muted" }, "No providers yet: add one above.") : cards,
    );
  }
  await draw();
  return undefined;
}

function addProviderForm(message: Notice, done: () => void): HTMLElement {
  const name = el("input", {
    name: "name",
    required: true,
    pattern: "[A-Za-z0-9_.:-]{1,128}",
    autocomplete: "off",
  });
  const kind = el("input", {
    name: "kind",
    required: true,
    list: "provider-kinds",
    value: "openai",
    autocomplete: "off",
  });
  const baseUrl = el("input", {
    name: "base_url",
    type: "url",
    placeholder: "https://… (the kind's own when blank)",
  });
  const form = el(
    "form",
    { class: "card inline-form" },
    el("h2", {}, "Add a provider"),
    field("Name", name),
    field("Kind", kind),
    el(
      "datalist",
      { id: "provider-kinds" },
      KINDS.map((k) => el("option", { value: k })),
    ),
    field("Base URL", baseUrl),
    el("button", { type: "submit", class: "primary" }, "Add provider"),
  );
  submitting(
    form,
    message,
    async () => {
      const added = name.value.trim();
      await call("POST /api/providers", {
        body: {
          name: added,
          kind: kind.value.trim(),
          ...(baseUrl.value.trim() ? { base_url: baseUrl.value.trim() } : {}),
        },
      });
      form.reset();
      return `Provider ${added} added: add a key to serve it.`;
    },
    done,
  );
  return form;
}

async function providerCard(provider: Provider, message: Notice, redraw: () => void): Promise<HTMLElement> {
  const name = provider.name ?? "";
  let keys: ProviderKey[] = [];
  let keysError = "";
  try {
    keys = (await call("GET /api/providers/{name}/keys", { path: { name } })).data ?? [];
  } catch (error) {
    if (error instanceof ApiFailure && (error.signInNeeded || error.unprotected)) throw error;
    keysError = failureText(error);
  }
  const fromFile = provider.source === "config";
  const editBox = el("div");
  const results = notice();

  const act = (work: () => Promise<unknown>, done: string) => async () => {
    try {
      await work();
      message.show(done, "ok");
      redraw();
    } catch (error) {
      message.show(failureText(error), "error");
    }
  };

  const keyTable = table<ProviderKey>(
    [
      { title: "Key", cell: (k) => el("span", { class: "name" }, k.name ?? "") },
      { title: "Secret", cell: (k) => el("code", {}, k.secret ?? "") },
      { title: "Models", cell: (k) => el("span", { class: "name" }, (k.models ?? []).join(", ") || "all") },
      { title: "Weight", cell: (k) => number(k.weight), class: "num" },
      {
        title: "Status",
        cell: (k) =>
          el("span", { class: `badge ${k.enabled ? "ok" : "off"}` }, k.enabled ? "enabled" : "disabled"),
      },
      {
        title: "Actions",
        cell: (k) => [
          k.enabled ? button("Test", () => void testKey(name, k, results)) : null,
          button("Edit", () => replace(editBox, keyForm(name, k, message, redraw))),
          button(
            k.enabled ? "Disable" : "Enable",
            act(
              () =>
                call("PATCH /api/providers/{name}/keys/{id}", {
                  path: { name, id: k.id ?? "" },
                  body: { enabled: !k.enabled },
                }),
              k.enabled
                ? `Key ${k.name} disabled: ${name} no longer uses it${
                    keys.some((other) => other.enabled && other.id !== k.id)
                      ? "."
                      : ", and with no key enabled refuses requests."
                  }`
                : `Key ${k.name} enabled.`,
            ),
          ),
          button(
            "Delete",
            () => {
              if (confirm(`Delete the key ${k.name} of ${name}?`))
                void act(
                  () => call("DELETE /api/providers/{name}/keys/{id}", { path: { name, id: k.id ?? "" } }),
                  `Key ${k.name} deleted.`,
                )();
            },
            "danger",
          ),
        ],
        class: "row-actions",
      },
    ],
    keys,
    "No keys: requests cannot reach this provider until it has one.",
  );

  return el(
    "section",
    { class: "card provider", "data-provider": name },
    el(
      "div",
      { class: "page-head" },
      el(
        "h2",
        {},
        el("span", { class: "name" }, name),
        " ",
        el("span", { class: "badge" }, provider.kind ?? ""),
        fromFile ? el("span", { class: "badge" }, "from the configuration file") : null,
      ),
      el(
        "div",
        { class: "actions" },
        fromFile
          ? null
          : button("Edit provider", () => replace(editBox, providerForm(provider, message, redraw))),
        button("Add key", () => replace(editBox, keyForm(name, undefined, message, redraw))),
        fromFile
          ? null
          : button(
              "Delete provider",
              () => {
                if (confirm(`Delete the provider ${name} and its keys?`))
                  void act(
                    () => call("DELETE /api/providers/{name}", { path: { name } }),
                    `Provider ${name} deleted.`,
                  )();
              },
              "danger",
            ),
      ),
    ),
    el(
      "p",
      { class: "muted" },
      `${provider.base_url ?? "the kind's default address"} · updated ${time(provider.updated_at)}`,
    ),
    keysError ? el("p", { class: "notice error" }, keysError) : keyTable,
    results,
    editBox,
  );
}

function providerForm(provider: Provider, message: Notice, done: () => void): HTMLElement {
  const name = provider.name ?? "";
  const kind = el("input", {
    name: "kind",
    required: true,
    list: "provider-kinds",
    value: provider.kind ?? "",
  });
  const baseUrl = el("input", { name: "base_url", type: "url", value: provider.base_url ?? "" });
  const timeout = el("input", {
    name: "request_timeout_ms",
    inputmode: "numeric",
    value: provider.request_timeout_ms ?? "",
  });
  const retries = el("input", {
    name: "max_retries",
    inputmode: "numeric",
    value: provider.max_retries ?? "",
  });
  const form = el(
    "form",
    { class: "inline-form" },
    el("h3", {}, `Edit ${name}`),
    field("Kind", kind),
    field("Base URL", baseUrl),
    field("Timeout (ms)", timeout),
    field("Retries", retries),
    el("button", { type: "submit", class: "primary" }, "Save"),
  );
  submitting(
    form,
    message,
    async () => {
      await call("PATCH /api/providers/{name}", {
        path: { name },
        body: {
          kind: kind.value.trim(),
          base_url: baseUrl.value.trim() || null,
          request_timeout_ms: optionalNumber(timeout.value) ?? null,
          max_retries: optionalNumber(retries.value) ?? null,
        },
      });
      return `Provider ${name} saved.`;
    },
    done,
  );
  return form;
}

function keyForm(
  provider: string,
  key: ProviderKey | undefined,
  message: Notice,
  done: () => void,
): HTMLElement {
  const name = el("input", { name: "key_name", required: true, value: key?.name ?? "", autocomplete: "off" });
  const secret = el("input", {
    name: "secret",
    type: "password",
    autocomplete: "new-password",
    required: key === undefined,
    placeholder: key === undefined ? "" : "unchanged when blank",
  });
  const models = el("input", {
    name: "models",
    value: (key?.models ?? []).join(", "),
    placeholder: "all when blank",
    autocomplete: "off",
  });
  const weight = el("input", { name: "weight", inputmode: "decimal", value: key?.weight ?? 1 });
  const form = el(
    "form",
    { class: "inline-form" },
    el("h3", {}, key === undefined ? `Add a key to ${provider}` : `Edit key ${key.name ?? ""}`),
    field("Key name", name),
    field("Secret", secret, "Write-only: the gateway never shows it again."),
    field("Models", models, "Comma-separated; blank for all."),
    field("Weight", weight),
    el("button", { type: "submit", class: "primary" }, key === undefined ? "Add key" : "Save key"),
  );
  submitting(
    form,
    message,
    async () => {
      const fields = {
        name: name.value.trim(),
        models: list(models.value),
        weight: optionalNumber(weight.value) ?? 1,
      };
      if (key === undefined)
        await call("POST /api/providers/{name}/keys", {
          path: { name: provider },
          body: { ...fields, secret: secret.value },
        });
      else
        await call("PATCH /api/providers/{name}/keys/{id}", {
          path: { name: provider, id: key.id ?? "" },
          body: { ...fields, ...(secret.value ? { secret: secret.value } : {}) },
        });
      return `Key ${fields.name} of ${provider} saved.`;
    },
    done,
  );
  return form;
}

async function testKey(provider: string, key: ProviderKey, results: Notice): Promise<void> {
  results.show(`Testing ${key.name}…`);
  try {
    const answer = await call("POST /api/providers/{name}/keys/{id}/test", {
      path: { name: provider, id: key.id ?? "" },
    });
    const outcome = answer as
      | { ok?: unknown; status?: unknown; message?: unknown; latency_ms?: unknown }
      | undefined;
    const ok = outcome?.ok === true;
    const detail = [
      typeof outcome?.status === "number" && outcome.status > 0 ? `HTTP ${outcome.status}` : "",
      typeof outcome?.message === "string" ? outcome.message : "",
      typeof outcome?.latency_ms === "number" ? `${outcome.latency_ms} ms` : "",
    ]
      .filter(Boolean)
      .join(" · ");
    results.show(
      `Test of ${key.name}: ${ok ? "works" : "failed"}${detail ? ` (${detail})` : ""}`,
      ok ? "ok" : "error",
    );
  } catch (error) {
    if (error instanceof ApiFailure && (error.signInNeeded || error.unprotected)) return;
    results.show(`Test of ${key.name} failed: ${failureText(error)}`, "error");
  }
}
