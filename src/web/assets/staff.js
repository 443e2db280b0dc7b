// Shared by the agent desktop and the supervisor's desk: element lookup, escaping, the JSON
// API helper and the case file's rows.
"use strict";

const $ = (id) => document.getElementById(id);

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// A JSON request with the session cookie; throws the server's error message.
async function api(method, path, body) {
  const resp = await fetch(path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    credentials: "same-origin",
  });
  let data = null;
  try { data = await resp.json(); } catch (_) { /* empty body */ }
  if (!resp.ok) throw new Error((data && data.error) || resp.statusText);
  return data;
}

function list(items) {
  return items.length ? `<ul>${items.map((i) => `<li>${esc(i)}</li>`).join("")}</ul>` : "–";
}

// ms into the call as m:ss.
function fmt(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// The case file as [label, html] rows.
function caseRows(c) {
  const who = c.caller || {};
  return [
    ["Caller", `${esc(who.name || "unknown caller")} · ${esc(who.number || "")} · ${who.verified ? "verified" : "<strong>not verified</strong>"}`],
    ["Market", esc(who.market || "–")],
    ["Language", esc(c.language || who.preferred_language || "–") + (c.accent && c.accent.label ? ` · accent ${esc(c.accent.label)}` : "")],
    ["Mood", c.mood ? `${esc(c.mood.state)} · trend ${c.mood.trend > 0.05 ? "rising" : c.mood.trend < -0.05 ? "calming" : "steady"}` +
      (c.mood.evidence && c.mood.evidence.length ? ` · ${esc(c.mood.evidence.join(", "))}` : "") : "–"],
    ["Intent", esc((c.intents || []).join(", ") || "–")],
    ["Hand-over", c.handover ? esc(c.handover.reason.replace(/_/g, " ")) : "–"],
    ["Notes", list(c.notes || [])],
    ["Account", list((c.account || []).map((l) => `${l.kind}: ${l.text}`))],
    ["Previous contacts", list((c.previous_contacts || []).map((l) => l.text))],
    ["AI did", list((c.ai_actions || []).map((a) => `${a.tool} ${a.detail || ""} (${a.refused ? "refused by policy" : a.ok ? "ok" : "failed"})`))],
    ["Still open", list(c.open || [])],
    ["Summary", list((c.summary || []).map((l) => `${fmt(l.at_ms)} ${l.text}${l.english ? ` [${l.english}]` : ""}`))],
  ];
}
