// A user's memories, newest first, with filters; a memory's detail, edit, delete and history; export and erasure.

import { call } from "./api.js";
import { canWrite, notify, run, who } from "./app.js";
import { $, download, facts, formValues, h } from "./dom.js";
import { formatDate, t } from "./i18n.js";
import { renderPager } from "./pager.js";

export const TYPES = ["fact", "preference", "interaction", "metadata", "pattern"];
const PAGE = 20;
let filters = {};
let opened = null;

export const currentUser = () => filters.user_id || "";

export function setup() {
  for (const select of document.querySelectorAll("select.types")) {
    const options = TYPES.map((type) => h("option", { value: type, text: type }));
    if ("any" in select.dataset) options.unshift(h("option", { value: "", "data-i18n": "anyType", text: t("anyType") }));
    select.replaceChildren(...options);
  }
  $("#memories-form").addEventListener("submit", (event) => {
    event.preventDefault();
    filters = formValues(event.target);
    load(0);
  });
  $("#export").addEventListener("click", exportUser);
  $("#erase").addEventListener("click", openErase);
  $("#edit-form").addEventListener("submit", save);
  $("#delete-memory").addEventListener("click", remove);
  const erase = $("#erase-form");
  erase.confirm.addEventListener("input", () => {
    $("#erase-confirm").disabled = erase.confirm.value !== filters.user_id;
  });
  erase.addEventListener("submit", eraseUser);
  $("#erase-cancel").addEventListener("click", () => $("#erase-dialog").close());
}

export function reset() {
  filters = {};
  opened = null;
}

// A key bound to one user sees that user only: the field is filled in and fixed.
export function enter({ user } = {}) {
  const form = $("#memories-form");
  if (who.user_id) {
    form.user_id.value = who.user_id;
    form.user_id.readOnly = true;
  } else if (user) {
    form.user_id.value = user;
  }
  if (form.user_id.value) {
    filters = formValues(form);
    load(0);
  } else {
    form.user_id.focus();
  }
}

// Dates from the date inputs are whole days in the reader's time zone.
function dayStart(value, days = 0) {
  if (!value) return undefined;
  const date = new Date(`${value}T00:00:00`);
  date.setDate(date.getDate() + days);
  return date.toISOString();
}

async function load(offset) {
  const form = $("#memories-form");
  const { user_id: user, created_after: after, created_before: before, ...rest } = filters;
  if (!user) return;
  const query = { ...rest, created_after: dayStart(after), created_before: dayStart(before, 1), limit: PAGE, offset };
  const page = await run(() => call("GET", `/api/memories/user/${encodeURIComponent(user)}`, { query }), form);
  if (!page) return;
  $("#user-actions").hidden = false;
  const list = $("#memory-list");
  list.replaceChildren(...page.memories.map((memory) => memoryCard(memory, () => openMemory(memory.id))));
  if (!page.memories.length) list.append(h("li", { class: "empty", text: t("none") }));
  renderPager("memories", { offset, limit: PAGE, total: page.total, count: page.memories.length }, load);
}

export function memoryCard(memory, open, ...extra) {
  const tags = [memory.type, memory.session_id && `${t("session")}: ${memory.session_id}`,
                memory.agent_id && `${t("agent")}: ${memory.agent_id}`].filter(Boolean);
  return h("li", { class: "card", "data-memory-id": memory.id },
    h("p", { class: "content", text: memory.content }),
    h("p", { class: "tags" }, tags.map((tag) => h("span", { class: "tag", text: tag })),
      h("time", { datetime: memory.created_at, text: formatDate(memory.created_at) })),
    ...extra,
    h("button", { type: "button", class: "open", onclick: open, text: t("open") }));
}

async function openMemory(id) {
  const memory = await run(() => call("GET", `/api/memories/${encodeURIComponent(id)}`));
  if (!memory) return;
  opened = memory;
  facts($("#memory-facts"), [
    ["id", memory.id], [t("userId"), memory.user_id], [t("type"), memory.type],
    [t("session"), memory.session_id || "—"], [t("agent"), memory.agent_id || "—"],
    [t("createdAt"), formatDate(memory.created_at)], [t("updatedAt"), formatDate(memory.updated_at)],
    [t("expires"), formatDate(memory.expires_at)],
    [t("metadata"), JSON.stringify(memory.metadata)],
  ]);
  const form = $("#edit-form");
  form.hidden = !canWrite();
  form.content.value = memory.content;
  form.type.value = memory.type;
  form.metadata.value = JSON.stringify(memory.metadata, null, 1);
  form.expires_at.value = memory.expires_at || "";
  await loadHistory(id);
  const dialog = $("#memory-dialog");
  if (!dialog.open) dialog.showModal();
}

async function loadHistory(id) {
  const answer = await run(() => call("GET", `/api/memories/${encodeURIComponent(id)}/history`));
  if (!answer) return;
  $("#history-list").replaceChildren(...answer.history.map((event) => h("li", { class: `event ${event.event}` },
    h("strong", { text: event.event }), " ",
    h("time", { datetime: event.created_at, text: formatDate(event.created_at) }), " ",
    h("span", { class: "actor", text: t("by", { actor: event.actor }) }),
    event.old_content !== null ? h("del", { text: event.old_content }) : null,
    event.new_content !== null ? h("ins", { text: event.new_content }) : null)));
}

async function save(event) {
  event.preventDefault();
  const form = event.target;
  const values = formValues(form);
  const body = { content: values.content ?? "", type: values.type };
  if (values.metadata) {
    let metadata;
    try {
      metadata = JSON.parse(values.metadata);
    } catch {
      metadata = null;
    }
    if (!metadata || typeof metadata !== "object" || Array.isArray(metadata)) {
      form.querySelector("[data-error-for=metadata]").textContent = t("badJson");
      return;
    }
    body.metadata = metadata;
  }
  if (values.expires_at && values.expires_at !== opened.expires_at) body.expires_at = values.expires_at;
  const memory = await run(() => call("PUT", `/api/memories/${encodeURIComponent(opened.id)}`, { body }), form);
  if (!memory) return;
  await openMemory(memory.id);
  form.querySelector(".form-note").textContent = t("saved");
  load(0);
}

async function remove() {
  if (!window.confirm(t("confirmDelete"))) return;
  const done = await run(() => call("DELETE", `/api/memories/${encodeURIComponent(opened.id)}`), $("#edit-form"));
  if (!done) return;
  $("#memory-dialog").close();
  notify(t("deleted"));
  load(0);
}

async function exportUser() {
  const user = filters.user_id;
  const data = await run(() => call("GET", `/api/memories/user/${encodeURIComponent(user)}/export`));
  if (data) download(`memories-${user}.json`, JSON.stringify(data, null, 2));
}

function openErase() {
  const form = $("#erase-form");
  form.reset();
  $("#erase-confirm").disabled = true;
  $("#erase-user").textContent = filters.user_id;
  $("#erase-dialog").showModal();
  form.confirm.focus();
}

async function eraseUser(event) {
  event.preventDefault();
  const form = event.target;
  const user = filters.user_id;
  if (form.confirm.value !== user) return;
  const answer = await run(() => call("DELETE", `/api/memories/user/${encodeURIComponent(user)}`), form);
  if (!answer) return;
  $("#erase-dialog").close();
  notify(t("erased", { count: answer.deleted, user }));
  load(0);
}
