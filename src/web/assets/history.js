// The supervisor's call history: search finished calls, open one to play its recording with
// the transcript beside it (a click on a line plays from there) and review the AI's
// decisions (review.js). `window.switchboard.history` holds the last results and
// `window.switchboard.past` the call open, for tests.
"use strict";

async function searchHistory(e) {
  if (e) e.preventDefault();
  const q = new URLSearchParams();
  for (const k of ["customer", "number", "from", "to", "outcome", "language", "agent", "state"]) {
    let v = $(`h-${k}`).value.trim();
    if (!v) continue;
    // "To" is a day: include all of it.
    if (k === "to") v = new Date(Date.parse(v) + 86400000).toISOString().slice(0, 10);
    q.set(k, v);
  }
  $("history-status").textContent = "Searching…";
  try {
    const found = await api("GET", `/api/history?${q}`);
    window.switchboard.history = found;
    $("history-status").textContent = `${found.length} call${found.length === 1 ? "" : "s"}`;
    $("history").innerHTML = found.map((c) => `<tr tabindex="0" data-id="${esc(c.id)}">
      <td>${esc(c.started_at.slice(0, 16).replace("T", " "))}</td><td>${esc(c.caller)}</td>
      <td>${esc(c.customer_name || "–")}</td><td>${esc(c.language || "–")}</td><td>${esc(c.agent || "AI")}</td>
      <td>${esc(c.outcome || c.end_reason || "–")}</td>
      <td>${c.worst_state ? `<span class="mood ${esc(c.worst_state)}">${esc(c.worst_state)}</span>` : "–"}</td>
      <td>${c.purged ? "deleted (retention)" : ""}</td></tr>`).join("");
  } catch (err) {
    $("history-status").textContent = `Search failed: ${err.message}`;
  }
}

async function openPast(id) {
  $("past-box").hidden = false;
  $("past-id").textContent = id;
  $("past-transcript").innerHTML = "";
  const player = $("player");
  try {
    const sheet = await showReview(id, $("review"));
    window.switchboard.past = sheet;
    if (sheet.recording) {
      player.src = sheet.recording;
      player.hidden = false;
      $("no-recording").hidden = true;
    } else {
      player.removeAttribute("src");
      player.hidden = true;
      $("no-recording").hidden = false;
    }
    const who = { caller: "Caller", agent: "Agent", assistant: "AI" };
    $("past-transcript").innerHTML = sheet.transcript.map((l) =>
      `<p tabindex="0" data-ms="${l.start_ms}"><span class="muted">${fmt(l.start_ms)}</span> ` +
      `<span class="who">${esc(who[l.who] || l.who)}:</span>${esc(l.text)}</p>`).join("") ||
      '<p class="muted">No transcript (deleted by retention, or nothing was said).</p>';
    $("past-box").scrollIntoView({ block: "nearest" });
  } catch (err) {
    $("review").innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

// Seeking to a line plays from there.
function playFrom(p) {
  const player = $("player");
  if (!player.src) return;
  player.currentTime = Number(p.dataset.ms) / 1000;
  player.play().catch(() => { /* autoplay refused: the position is still set */ });
}

$("history-form").addEventListener("submit", searchHistory);
$("history").addEventListener("click", (e) => {
  const tr = e.target.closest("tr[data-id]");
  if (tr) openPast(tr.dataset.id);
});
$("history").addEventListener("keydown", (e) => {
  const tr = e.target.closest("tr[data-id]");
  if (tr && e.key === "Enter") openPast(tr.dataset.id);
});
$("past-transcript").addEventListener("click", (e) => {
  const p = e.target.closest("p[data-ms]");
  if (p) playFrom(p);
});
$("past-transcript").addEventListener("keydown", (e) => {
  const p = e.target.closest("p[data-ms]");
  if (p && e.key === "Enter") playFrom(p);
});
