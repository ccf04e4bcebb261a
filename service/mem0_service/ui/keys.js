// Scoped keys (admin keys): create with a scope and a read-only flag, see the secret once, revoke.

import { call } from "./api.js";
import { run } from "./app.js";
import { $, formValues, h } from "./dom.js";
import { formatDate, t } from "./i18n.js";

export function setup() {
  $("#key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const created = await run(() => call("POST", "/api/keys", { body: formValues(form) }), form);
    if (!created) return;
    $("#new-key-value").textContent = created.key;
    $("#new-key").hidden = false;
    load();
  });
}

export function enter() {
  $("#new-key").hidden = true;
  $("#new-key-value").textContent = "";
  load();
}

async function load() {
  const answer = await run(() => call("GET", "/api/keys"));
  if (!answer) return;
  $("#keys-table tbody").replaceChildren(...answer.keys.map((key) => h("tr", { class: key.revoked_at ? "revoked" : "" },
    h("td", { text: key.name || "—" }), h("td", {}, h("code", { text: key.prefix })),
    h("td", { text: key.user_id || "—" }), h("td", { text: key.agent_id || "—" }),
    h("td", { text: key.access === "read" ? t("readOnly") : t("readWrite") }),
    h("td", { text: formatDate(key.created_at) }),
    h("td", {}, key.revoked_at ? t("revoked") : h("button", { type: "button", class: "danger", text: t("revoke"),
                                                             onclick: () => revoke(key.id) })))));
}

async function revoke(id) {
  if (await run(() => call("DELETE", `/api/keys/${encodeURIComponent(id)}`))) load();
}
