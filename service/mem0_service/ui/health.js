// The health panel: every dependency's state, the index backlog and version, and a few numbers from /metrics.

import { call } from "./api.js";
import { isAdmin, run } from "./app.js";
import { $, facts } from "./dom.js";
import { describe } from "./errors.js";
import { t } from "./i18n.js";

const NUMBERS = [
  ["mem0_memories", "memoriesStored"], ["mem0_vectors", "vectorsStored"], ["mem0_index_outbox", "outbox"],
  ["mem0_http_requests_total", "requests"], ["mem0_auth_failures_total", "authFailures"],
  ["mem0_uptime_seconds", "uptime"],
];

export function setup() {
  $("#health-refresh").addEventListener("click", enter);
}

export async function enter() {
  await Promise.all([loadReadiness(), loadMetrics()]);
}

// A 503 from readiness is an answer, not a failure: its body lists the failing checks.
async function loadReadiness() {
  let report;
  try {
    report = await call("GET", "/api/health", { query: { deep: 1 } });
  } catch (error) {
    if (error.status !== 503 || !error.body?.checks) return run(() => Promise.reject(error));
    report = error.body;
  }
  const rows = [[t("status"), report.status], [t("version"), report.version]];
  if (report.index_backlog !== null && report.index_backlog !== undefined) rows.push([t("backlog"), report.index_backlog]);
  if (report.quarantined) rows.push([t("quarantined"), report.quarantined]);
  if (report.jobs) {
    rows.push([t("jobQueue"), t("jobCounts", { queued: report.jobs.queued, running: report.jobs.running,
                                                 failed: report.jobs.dead_letters })]);
  }
  for (const [name, check] of Object.entries(report.checks || {})) {
    rows.push([name, check.status === "ok" ? `${t("checkOk")} · ${check.latency_ms} ms` : `${check.status}: ${check.error}`]);
  }
  facts($("#health-list"), rows);
  return report;
}

async function loadMetrics() {
  if (!isAdmin()) {
    facts($("#metrics-list"), [["/metrics", t("needsAdmin")]]);
    return;
  }
  let text;
  try {
    text = await call("GET", "/metrics", { text: true });
  } catch (error) {
    // A proxy may keep /metrics for the internal scraper (the bundled Caddyfile does): say so in place.
    if (error.status === 401) return run(() => Promise.reject(error));
    facts($("#metrics-list"), [["/metrics", describe(error)]]);
    return;
  }
  const sums = sumSeries(text);
  const known = NUMBERS.filter(([name]) => name in sums).map(([name, label]) => [t(label), Math.round(sums[name])]);
  // Work queues, where a deployment has them, are shown under their own metric names.
  const queues = Object.keys(sums).filter((name) => /^mem0_\w*queue\w*$/.test(name))
    .map((name) => [name, Math.round(sums[name])]);
  facts($("#metrics-list"), [...known, ...queues]);
}

// Prometheus text: the sum over a metric's label sets is the number worth showing here.
function sumSeries(text) {
  const sums = {};
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-+\deE.naNIf]+)/.exec(line);
    if (match) sums[match[1]] = (sums[match[1]] || 0) + Number(match[3]);
  }
  return sums;
}
