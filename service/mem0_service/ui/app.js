// The console's shell: sign-in, the sections a key may use, and one way of handling every failed call.

import { call, session } from "./api.js";
import { $, $$ } from "./dom.js";
import { clearErrorBanner, clearErrors, describe, showBanner, showFieldError } from "./errors.js";
import { language, setLanguage, t, translatePage } from "./i18n.js";
import * as health from "./health.js";
import * as keys from "./keys.js";
import * as memories from "./memories.js";
import * as search from "./search.js";
import * as sessions from "./sessions.js";
import * as users from "./users.js";

const VIEWS = { users, memories, search, sessions, keys, health };

// What the signed-in key may do, from GET /api/auth/check: the page shows only what the API would allow.
export const who = { role: null, user_id: null, agent_id: null, read_only: true };
export const isAdmin = () => who.role === "admin";
export const canWrite = () => !who.read_only;

// Runs an API action for a form (or the page): a 401 signs out, a 503 names the dependency, a field error is
// shown next to its field. Returns undefined when the action failed.
export async function run(action, form = null) {
  if (form) clearErrors(form);
  clearErrorBanner();
  try {
    return await action();
  } catch (error) {
    if (error.status === 401) {
      signOut(t("badKey"));
    } else if (error.status === 503 || !form || !showFieldError(form, error.field, describe(error))) {
      showBanner(describe(error));
    }
    return undefined;
  }
}

export function notify(message) {
  showBanner(message, "info");
}

export function showView(name, options = {}) {
  for (const button of $$("#tabs [data-view]")) {
    button.setAttribute("aria-current", button.dataset.view === name ? "page" : "false");
  }
  for (const view of $$(".view")) view.hidden = view.id !== `view-${name}`;
  VIEWS[name].enter?.(options);
}

function applyAccess() {
  for (const element of $$("[data-admin]")) element.hidden = !isAdmin();
  for (const element of $$("[data-write]")) element.hidden = !canWrite();
  const scope = [who.user_id && `user ${who.user_id}`, who.agent_id && `agent ${who.agent_id}`].filter(Boolean).join(", ");
  const badge = $("#who");
  badge.textContent = (isAdmin() ? t("signedInAdmin") : t("signedInScoped", { scope }))
    + (who.read_only ? ` · ${t("readOnlyBadge")}` : "");
  badge.hidden = false;
}

async function signIn(key) {
  const answer = await call("GET", "/api/auth/check", { key });
  session.key = key;
  Object.assign(who, { role: answer.role, user_id: answer.user_id ?? null, agent_id: answer.agent_id ?? null,
                       read_only: Boolean(answer.read_only) });
  $("#login").hidden = true;
  $("#tabs").hidden = false;
  $("#sign-out").hidden = false;
  applyAccess();
  showView(isAdmin() ? "users" : "memories", { user: who.user_id });
  $("#tabs [aria-current=page]")?.focus();
}

export function signOut(message = "") {
  session.key = null;
  Object.assign(who, { role: null, user_id: null, agent_id: null, read_only: true });
  for (const dialog of $$("dialog[open]")) dialog.close();
  for (const view of $$(".view")) view.hidden = true;
  // Nothing the last key could see stays in the page for the next one.
  for (const form of $$("main form, dialog form")) form.reset();
  for (const field of $$("[name=user_id], [name=agent_id]")) field.readOnly = false;
  for (const list of $$("#memory-list, #search-results, #message-list, #users-table tbody, #keys-table tbody, "
                        + "#history-list, #message-total, #memory-facts, #health-list, #metrics-list, [data-pager], "
                        + "#new-key-value")) {
    list.replaceChildren();
  }
  $("#older-messages").hidden = true;
  $("#new-key").hidden = true;
  $("#user-actions").hidden = true;
  for (const view of Object.values(VIEWS)) view.reset?.();
  $("#tabs").hidden = true;
  $("#sign-out").hidden = true;
  $("#who").hidden = true;
  $("#login").hidden = false;
  $("#key-input").value = "";
  showBanner(message);
  $("#key-input").focus();
}

function start() {
  $("#lang").value = language();
  translatePage();
  $("#lang").addEventListener("change", (event) => {
    setLanguage(event.target.value);
    if (who.role) {
      applyAccess();
      const current = $("#tabs [aria-current=page]");
      if (current && current.dataset.view !== "search") showView(current.dataset.view);  // redrawn in the new words
    }
  });
  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    clearErrors(form);
    const key = $("#key-input").value.trim();
    try {
      await signIn(key);
      showBanner("");
    } catch (error) {
      if (error.status === 503) showBanner(describe(error));
      else showFieldError(form, "key", error.status === 401 ? t("badKey") : describe(error));
    }
  });
  $("#sign-out").addEventListener("click", () => signOut());
  for (const button of $$("#tabs [data-view]")) {
    button.addEventListener("click", () => showView(button.dataset.view));
  }
  for (const view of Object.values(VIEWS)) view.setup?.();
  if (session.key) {
    signIn(session.key).catch((error) => signOut(error.status === 401 ? t("badKey") : describe(error)));
  } else {
    $("#key-input").focus();
  }
}

start();
