// Where a failed call is shown: next to the field the API named, in the form, or as a banner for the whole page.

import { $, $$ } from "./dom.js";
import { t } from "./i18n.js";

export function clearErrors(form) {
  for (const line of $$(".field-error, .form-error, .form-note", form)) line.textContent = "";
  for (const input of $$("[aria-invalid]", form)) input.removeAttribute("aria-invalid");
}

// Each line gets an id, so the input can point its screen-reader description at it.
export function showFieldError(form, field, message) {
  const input = field ? $(`[data-field="${CSS.escape(field)}"]`, form) : null;
  let line = field ? $(`[data-error-for="${CSS.escape(field)}"]`, form) : null;
  if (input && !line) {
    line = document.createElement("p");
    line.className = "field-error";
    line.dataset.errorFor = field;
    (input.closest("label") || input).after(line);
  }
  line = line || $(".form-error", form);
  if (!line) return false;
  line.id = line.id || `error-${field || "form"}-${Math.random().toString(36).slice(2, 8)}`;
  line.textContent = message;
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", line.id);
    input.focus();
  }
  return true;
}

export function showBanner(message, kind = "error") {
  const banner = $("#banner");
  banner.textContent = message;
  banner.className = `banner ${kind}`;
  banner.hidden = !message;
}

// A new action clears the last failure, not the news of what just succeeded.
export function clearErrorBanner() {
  const banner = $("#banner");
  if (banner.classList.contains("error")) showBanner("");
}

export function describe(error) {
  if (error.status === 503) {
    return t("unavailable", { dependency: error.dependency || "?", message: error.message });
  }
  if (error instanceof TypeError) return t("networkError", { message: error.message });
  return error.message;
}
