// Reviewing the AI's decisions on a finished call: one row per decision (the intent it
// understood, a tool call, a refusal, handing over or not, the caller's state) with the
// caller's words before it, marked right or wrong with the correct value and a note. Shared
// by the supervisor's call history and the agent's wrap-up. Saved verdicts are also kept in
// `window.switchboard.reviews` for tests.
"use strict";

const KIND_LABELS = {
  intent: "Understood", tool: "Did", refusal: "Refused", handover: "Hand-over", caller_state: "Caller state",
};

// Fetch a finished call's review sheet and draw its decisions into `el`; returns the sheet.
async function showReview(callId, el) {
  const sheet = await api("GET", `/api/calls/${encodeURIComponent(callId)}/review`);
  renderReview(callId, sheet.decisions, el);
  return sheet;
}

function renderReview(callId, decisions, el) {
  if (!decisions.length) {
    el.innerHTML = '<p class="muted">The assistant made no decisions on this call.</p>';
    return;
  }
  el.innerHTML = decisions.map((d, i) => {
    const r = d.review || {};
    const picked = (v) => (r.verdict === v ? "checked" : "");
    const correct = d.choices.length
      ? `<select class="correct" aria-label="Correct value"><option value="">correct value…</option>${
        d.choices.map((c) => `<option value="${esc(c)}" ${r.correct === c ? "selected" : ""}>${esc(c.replace(/_/g, " "))}</option>`).join("")}</select>`
      : `<input class="correct" aria-label="What should have happened" placeholder="What should have happened" value="${esc(r.correct || "")}">`;
    return `<div class="decision" data-decision="${esc(d.id)}">
      <div><b>${esc(KIND_LABELS[d.kind] || d.kind)}</b> ${esc(d.value.replace(/_/g, " "))}
        <span class="muted">${fmt(d.at_ms)}${d.turn ? ` · after “${esc(d.turn.text)}”` : ""}</span></div>
      <div class="row">
        <label class="inline"><input type="radio" name="verdict-${i}" value="right" ${picked("right")}> Right</label>
        <label class="inline"><input type="radio" name="verdict-${i}" value="wrong" ${picked("wrong")}> Wrong</label>
        ${correct}
        <input class="note" aria-label="Note" placeholder="Note" value="${esc(r.note || "")}">
        <button type="button" class="save secondary">Save</button>
        <span class="saved muted" role="status">${r.reviewer ? `reviewed by ${esc(r.reviewer)}` : ""}</span>
      </div></div>`;
  }).join("");
  el.querySelectorAll(".decision").forEach((div) => {
    div.querySelector(".save").addEventListener("click", () => saveVerdict(callId, div));
  });
}

async function saveVerdict(callId, div) {
  const chosen = div.querySelector("input[type=radio]:checked");
  const out = div.querySelector(".saved");
  if (!chosen) { out.textContent = "Choose right or wrong first."; return; }
  const correct = div.querySelector(".correct").value.trim();
  try {
    const r = await api("POST", `/api/calls/${encodeURIComponent(callId)}/review`, {
      decision: div.dataset.decision, verdict: chosen.value, correct: correct || null,
      note: div.querySelector(".note").value,
    });
    out.textContent = `Saved: ${r.verdict}${r.correct ? ` (should be ${r.correct})` : ""}.`;
    (window.switchboard.reviews = window.switchboard.reviews || []).push(r);
  } catch (e) {
    out.textContent = `Not saved: ${e.message}`;
  }
}
