// A session's message log (GET /api/sessions/{id}/messages): the turns in the order the service numbered them,
// the latest page first shown, older pages on request.

import { call } from "./api.js";
import { run, who } from "./app.js";
import { $, formValues, h } from "./dom.js";
import { formatDate, t } from "./i18n.js";

const PAGE = 50;
let shown = { query: null, messages: [], olderFrom: null };

export function setup() {
  $("#sessions-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(event.target);
    const query = { user_id: values.user_id, limit: PAGE };
    if (values.agent_id) query.agent_id = values.agent_id;
    load(values.session_id || "", query, null);
  });
  $("#older-messages").addEventListener("click", () => {
    if (shown.query) load(shown.session, shown.query, shown.olderFrom);
  });
}

export function reset() {
  shown = { query: null, messages: [], olderFrom: null };
}

// A key bound to one user (or agent) reads that user's (agent's) logs only: the fields are filled in and fixed.
export function enter() {
  const form = $("#sessions-form");
  for (const name of ["user_id", "agent_id"]) {
    if (who[name]) {
      form[name].value = who[name];
      form[name].readOnly = true;
    }
  }
  (form.user_id.value ? form.session_id : form.user_id).focus();
}

async function load(session, query, before) {
  const form = $("#sessions-form");
  const path = `/api/sessions/${encodeURIComponent(session)}/messages`;
  const page = await run(() => call("GET", path, { query: before ? { ...query, before } : query }), form);
  if (!page) return;
  // An older page goes in front of what is shown: the log reads top to bottom, oldest first.
  const messages = before ? [...page.messages, ...shown.messages] : page.messages;
  shown = { session, query, messages, olderFrom: page.has_more ? page.next_before : null };
  const list = $("#message-list");
  list.replaceChildren(...messages.map((message) => h("li", { class: `card message role-${message.role}` },
    h("div", { class: "meta" },
      h("span", { class: "badge", text: `#${message.seq}` }),
      h("span", { class: "badge", text: message.role }),
      message.name ? h("span", { text: message.name }) : null,
      message.agent_id ? h("span", { text: `${t("agent")}: ${message.agent_id}` }) : null,
      h("time", { text: formatDate(message.created_at) })),
    h("p", { class: "content", text: message.content }))));
  if (!messages.length) list.append(h("li", { class: "empty", text: t("noMessages") }));
  $("#message-total").textContent = page.total ? t("messageCount", { count: page.total }) : "";
  $("#older-messages").hidden = shown.olderFrom === null;
}
