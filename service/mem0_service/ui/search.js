// Search as the API does it, with each memory's relevance score, the threshold line and why it matched.
// The console asks with threshold 0 and draws the line itself: what lies under it is what the API would leave
// out at the chosen threshold, which is the thing people tune.

import { call } from "./api.js";
import { run, who } from "./app.js";
import { $, formValues, h } from "./dom.js";
import { t } from "./i18n.js";
import { currentUser, memoryCard } from "./memories.js";

export function setup() {
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search(event.target);
  });
}

export function enter() {
  const form = $("#search-form");
  if (who.user_id) {
    form.user_id.value = who.user_id;
    form.user_id.readOnly = true;
  } else if (!form.user_id.value) {
    form.user_id.value = currentUser();
  }
  (form.user_id.value ? form.query : form.user_id).focus();
}

async function search(form) {
  const values = formValues(form);
  const threshold = Number(values.relevance_threshold ?? 0.7);
  const body = { user_id: values.user_id ?? "", query: values.query, relevance_threshold: 0,
                 limit: Number(values.limit ?? 10), explain: true };
  // The typed threshold is still the API's to judge (its error names the field): a query-less search checks it
  // without embedding anything.
  const check = { user_id: body.user_id, relevance_threshold: threshold, limit: 1 };
  const answer = await run(async () => {
    await call("POST", "/api/memories/search", { body: check });
    return call("POST", "/api/memories/search", { body });
  }, form);
  if (!answer) return;
  const list = $("#search-results");
  const items = [];
  let lineDrawn = false;
  for (const hit of answer.memories) {
    if (!lineDrawn && hit.relevance_score !== null && hit.relevance_score < threshold) {
      items.push(thresholdLine(threshold));
      lineDrawn = true;
    }
    items.push(resultCard(hit, threshold));
  }
  if (!lineDrawn && values.query) items.push(thresholdLine(threshold));
  if (!answer.memories.length) items.unshift(h("li", { class: "empty", text: t("noResults") }));
  list.replaceChildren(...items);
}

function thresholdLine(threshold) {
  return h("li", { class: "threshold", role: "separator", text: t("thresholdLine", { value: threshold.toFixed(2) }) });
}

function resultCard(hit, threshold) {
  const score = hit.relevance_score;
  const card = memoryCard(hit, () => {}, score === null ? null : scoreBar(score, threshold),
                          hit.explanation ? explanation(hit.explanation) : null);
  card.classList.toggle("below", score !== null && score < threshold);
  card.querySelector("button.open").remove();  // details live in the Memories section
  return card;
}

function scoreBar(score, threshold) {
  return h("div", { class: "score" },
    h("meter", { min: 0, max: 1, low: threshold, optimum: 1, value: score, "aria-hidden": "true" }),
    h("span", { class: "score-value", text: t("score", { value: score.toFixed(3) }) }));
}

function explanation(why) {
  return h("p", { class: "why" },
    h("span", { text: t("why", { how: t(why.matched_by) }) }), " · ",
    h("span", { text: t("denseScore", { value: why.dense_score.toFixed(2) }) }), " · ",
    h("span", { text: t("keywordScore", { value: why.keyword_term.toFixed(2) }) }));
}
