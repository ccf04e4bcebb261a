// Users (admin keys): who has memories, how many, and when they last changed; filtered by id prefix.

import { call } from "./api.js";
import { run, showView } from "./app.js";
import { $, formValues, h } from "./dom.js";
import { formatDate, t } from "./i18n.js";
import { renderPager } from "./pager.js";

const PAGE = 25;
let prefix = "";

export function setup() {
  $("#users-form").addEventListener("submit", (event) => {
    event.preventDefault();
    prefix = formValues(event.target).prefix || "";
    load(0);
  });
}

export function reset() {
  prefix = "";
}

export function enter() {
  load(0);
}

async function load(offset) {
  const form = $("#users-form");
  const page = await run(() => call("GET", "/api/users", { query: { prefix, limit: PAGE, offset } }), form);
  if (!page) return;
  const body = $("#users-table tbody");
  body.replaceChildren(...page.users.map((user) => h("tr", {},
    h("td", {}, h("button", { type: "button", class: "link", text: user.user_id,
                              onclick: () => showView("memories", { user: user.user_id }) })),
    h("td", { class: "number", text: user.memory_count }),
    h("td", { text: formatDate(user.last_activity) }))));
  if (!page.users.length) body.append(h("tr", {}, h("td", { colspan: 3, text: t("none") })));
  renderPager("users", { offset, limit: PAGE, total: page.total, count: page.users.length }, load);
}
