// Switchboard supervisor: a live wall of every call (who has it, language, accent, the
// caller's mood and its trend, intent, waits, alerts), the alerts to acknowledge, the queue and
// agent boards, the selected call's transcript, case file, the assistant's decisions and
// timeline, and stepping in: listen, coach the agent, barge in, take over, hand to an agent.
// `window.switchboard` exposes the same facts for automated tests and the desk benchmark
// (`shown`: when each alert was first on screen, ms since the epoch).
"use strict";

const sb = (window.switchboard = {
  user: null, calls: {}, selected: null, mode: null, connected: false, bytesReceived: 0, inboundLevel: 0,
  transcript: [], status: null, error: null, alerts: {}, shown: {}, desk: null, decisions: [], timeline: [],
});
let cfg = { ice_servers: [] };
let events = null, pc = null, mic = null, statsTimer = null, deskTimer = null;
let renderPending = false;

const mask = (n) => String(n || "").replace(/\d(?=\d{2})/g, "•");
const mmss = (secs) => `${Math.floor(secs / 60)}:${String(Math.max(0, Math.round(secs)) % 60).padStart(2, "0")}`;
function status(text, isError) {
  sb.status = text;
  $("status").textContent = text;
  $("status").classList.toggle("error", !!isError);
}

// --- logging in ----------------------------------------------------------------------------

async function loggedIn(me) {
  sb.user = me;
  $("who").textContent = `${me.username} (${me.role})`;
  $("login-box").hidden = true;
  $("logout").hidden = false;
  if (me.role !== "supervisor" && me.role !== "admin") {
    status("This page needs a supervisor login.", true);
    return;
  }
  try { cfg = await api("GET", "/api/agent/config"); } catch (_) { /* no WebRTC: no step-in */ }
  for (const id of ["wall-box", "alerts-box", "boards", "numbers-box", "history-box"]) $(id).hidden = false;
  searchHistory();
  $("sound").checked = localStorage.getItem("sb-sound") === "1";
  connectEvents();
  const calls = await api("GET", "/api/calls");
  for (const c of calls.filter((c) => !c.ended_at)) {
    addCall({ id: c.id, caller: c.caller, transport: c.transport, state: c.state, started_at: c.started_at, agent: c.agent });
    api("GET", `/api/calls/${encodeURIComponent(c.id)}`).then((r) => {
      const row = sb.calls[c.id];
      if (!row) return;
      row.language = r.language || null;
      if (r.caller_state) row.mood = r.caller_state.state;
      if (r.accent) row.accent = r.accent.label;
      if (r.case_file) row.intent = (r.case_file.intents || []).slice(-1)[0] || null;
      for (const a of r.alerts || []) alertRaised(c.id, a, a.acknowledged_by || null);
      scheduleRender();
    }).catch(() => {});
  }
  render();
  setInterval(render, 1000);
  refreshDesk();
  deskTimer = setInterval(refreshDesk, 2000);
  refreshNumbers();
  setInterval(refreshNumbers, 60000);
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("login-error").textContent = "";
  try {
    await api("POST", "/api/login", { username: $("username").value, password: $("password").value });
    await loggedIn(await api("GET", "/api/me"));
  } catch (err) { $("login-error").textContent = err.message; }
});
$("logout").addEventListener("click", async () => { await api("POST", "/api/logout").catch(() => {}); location.reload(); });
$("sound").addEventListener("change", () => localStorage.setItem("sb-sound", $("sound").checked ? "1" : "0"));

// --- the wall ------------------------------------------------------------------------------

function connectEvents() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  // This page does not show words as they are spoken: no partials (a call nobody else follows
  // then skips decoding them).
  events = new WebSocket(`${proto}//${location.host}/api/events?partials=false`);
  events.onmessage = (m) => onEvent(JSON.parse(m.data));
  events.onclose = () => { events = null; setTimeout(() => { if (sb.user) connectEvents(); }, 2000); };
}

function addCall(c) {
  sb.calls[c.id] = { mood: null, trend: 0, language: null, accent: null, intent: null, translate: false,
    waitingSince: c.state === "waiting_for_agent" ? Date.now() : null, ...c };
}

const alertKey = (call, id) => `${call}/${id}`;
function alertRaised(call, a, ackedBy) {
  const key = alertKey(call, a.alert_id || a.id);
  if (sb.alerts[key]) return;
  sb.alerts[key] = { key, call_id: call, id: a.alert_id || a.id, rule: a.rule, detail: a.detail, acked_by: ackedBy,
    at: Date.now() };
  if (!ackedBy && $("sound").checked) beep();
}

function beep() {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    gain.gain.value = 0.15;
    osc.frequency.value = 880;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.25);
    osc.onended = () => ctx.close();
  } catch (_) { /* no audio output */ }
}

function onEvent(ev) {
  const c = ev.call_id && sb.calls[ev.call_id];
  switch (ev.type) {
    case "call_started":
      addCall({ id: ev.call_id, caller: ev.caller, transport: ev.transport, state: "active", started_at: ev.started_at, agent: null });
      break;
    case "call_state_changed":
      if (c) {
        if (ev.state === "waiting_for_agent" && c.state !== "waiting_for_agent") c.waitingSince = Date.now();
        if (ev.state !== "waiting_for_agent" && ev.state !== "on_hold") c.waitingSince = null;
        c.state = ev.state;
      }
      break;
    case "language_detected": if (c) c.language = ev.language; break;
    case "language_changed": if (c) c.language = ev.to; break;
    case "accent_detected": if (c) c.accent = ev.accent && ev.accent.label; break;
    case "caller_state_changed": if (c) { c.mood = ev.state; c.trend = ev.trend; } break;
    case "transcript_final":
      if (c && ev.translation) c.translate = true;
      if (ev.call_id === sb.selected) line("Caller", ev.text, ev.translation);
      break;
    case "assistant_replied":
      if (c && ev.intent) c.intent = ev.intent;
      if (ev.call_id === sb.selected && ev.text) line("Assistant", ev.text);
      break;
    case "call_accepted": if (c) c.agent = ev.agent_id; break;
    case "taken_over": if (c) c.agent = ev.by; if (ev.call_id === sb.selected && ev.by === sb.user.username) stepped("take_over"); break;
    case "agent_left": if (c && c.agent === ev.agent_id) c.agent = null; break;
    case "alert_raised": alertRaised(ev.call_id, ev, null); break;
    case "alert_acknowledged": {
      const a = sb.alerts[alertKey(ev.call_id, ev.alert_id)];
      if (a) a.acked_by = ev.by;
      break;
    }
    case "call_ended":
      delete sb.calls[ev.call_id];
      for (const k of Object.keys(sb.alerts)) if (sb.alerts[k].call_id === ev.call_id) delete sb.alerts[k];
      if (ev.call_id === sb.selected) { endMedia(); $("step-status").textContent = `The call ended (${ev.reason}).`; }
      break;
    case "agent_transcript": if (ev.call_id === sb.selected) line(ev.agent_id, ev.text); break;
    case "case_file_updated": if (ev.call_id === sb.selected) showCase(ev.case_file); break;
  }
  if (ev.call_id === sb.selected) noteEvent(ev);
  if (ev.call_id) scheduleRender();
}

// Many events a second with hundreds of calls: one render per frame.
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  const go = () => { if (renderPending) { renderPending = false; render(); } };
  requestAnimationFrame(go);
  setTimeout(go, 100); // a hidden tab gets no frames
}

const openAlerts = (id) => Object.values(sb.alerts).filter((a) => a.call_id === id && !a.acked_by).length;
// Open alerts, then angry and rising, frustrated, confused; then the longest calls.
const weight = (c) => Math.min(openAlerts(c.id), 2) * 2 + ({ angry: 3, frustrated: 2, confused: 1 }[c.mood] || 0) +
  (c.trend > 0.15 ? 0.5 : 0);

function render() {
  const calls = Object.values(sb.calls).sort((a, b) => weight(b) - weight(a) || a.started_at.localeCompare(b.started_at));
  $("count").textContent = `(${calls.length})`;
  const now = Date.now();
  $("wall").innerHTML = calls.map((c) => {
    const secs = Math.max(0, (now - Date.parse(c.started_at)) / 1000);
    const mood = c.mood ? `<span class="mood ${esc(c.mood)}">${esc(c.mood)}${c.trend > 0.15 ? " ↑" : c.trend < -0.15 ? " ↓" : ""}</span>` : "";
    const withWho = c.agent || (c.state === "waiting_for_agent" ? "queue" : "assistant");
    const wait = c.waitingSince ? mmss((now - c.waitingSince) / 1000) : "";
    const n = openAlerts(c.id);
    return `<tr tabindex="0" data-id="${esc(c.id)}" class="${c.id === sb.selected ? "selected" : ""}">` +
      `<td>${esc(mask(c.caller))}</td><td>${esc(c.transport)}</td>` +
      `<td>${esc(c.language || "")}${c.translate ? " <span class=\"muted\">(translated)</span>" : ""}</td>` +
      `<td>${esc(c.accent && c.accent !== "unknown" ? c.accent : "")}</td><td>${mood}</td>` +
      `<td>${esc(withWho)}</td><td>${esc((c.intent || "").replace(/_/g, " "))}</td>` +
      `<td>${esc(String(c.state).replace(/_/g, " "))}</td><td>${wait}</td><td>${mmss(secs)}</td>` +
      `<td>${n ? `<span class="badge">${n}</span>` : ""}</td></tr>`;
  }).join("");
  renderAlerts(calls);
}

function renderAlerts() {
  const all = Object.values(sb.alerts).sort((a, b) => (!!a.acked_by - !!b.acked_by) || b.at - a.at);
  const open = all.filter((a) => !a.acked_by).length;
  $("alert-count").textContent = open;
  $("alert-count").hidden = !open;
  $("no-alerts").hidden = all.length > 0;
  $("alerts").innerHTML = all.map((a) => {
    const c = sb.calls[a.call_id];
    return `<li data-key="${esc(a.key)}" class="${a.acked_by ? "acked" : ""}"><span class="rule">${esc(a.rule.replace(/_/g, " "))}</span>` +
      `<span>${esc(a.detail)}</span><span class="muted">${esc(mask(c ? c.caller : ""))}</span>` +
      `<a href="#" data-call="${esc(a.call_id)}">open call</a>` +
      (a.acked_by ? `<span class="muted">acknowledged by ${esc(a.acked_by)}</span>` : `<button data-ack="${esc(a.key)}">Acknowledge</button>`) + "</li>";
  }).join("");
  const t = Date.now();
  for (const a of all) if (!(a.key in sb.shown)) sb.shown[a.key] = t;
}

$("alerts").addEventListener("click", async (e) => {
  const open = e.target.closest("a[data-call]");
  if (open) { e.preventDefault(); select(open.dataset.call); return; }
  const b = e.target.closest("button[data-ack]");
  if (!b) return;
  const a = sb.alerts[b.dataset.ack];
  b.disabled = true;
  try {
    await api("POST", `/api/calls/${encodeURIComponent(a.call_id)}/alerts/${encodeURIComponent(a.id)}/acknowledge`);
  } catch (err) { status(`Not acknowledged: ${err.message}`, true); b.disabled = false; }
});

// --- the boards ----------------------------------------------------------------------------

async function refreshDesk() {
  let d;
  try { d = await api("GET", "/api/desk"); } catch (_) { return; }
  sb.desk = d;
  for (const a of d.alerts) alertRaised(a.call_id, a, null);
  const target = d.service_level_target;
  $("service-level").innerHTML = `· service level <span class="${d.service_level == null ? "" : d.service_level >= target ? "sl-good" : "sl-bad"}">` +
    `${pct(d.service_level)}</span> answered within ${d.service_level_s} s (target ${pct(target)})`;
  $("queue-board").innerHTML = d.queues.length ? d.queues.map((q) =>
    `<tr><td>${esc(q.skill)}</td><td>${q.waiting}</td><td>${mmss(q.longest_wait_s)}</td>` +
    `<td>${q.estimated_wait_s == null ? "–" : mmss(q.estimated_wait_s)}</td>` +
    `<td>${pct(q.service_level)} <span class="muted">(${q.answered_in_time}/${q.answered + q.abandoned})</span></td></tr>`).join("")
    : `<tr><td colspan="5" class="muted">Nobody waiting, no queued calls in the last hour.</td></tr>`;
  $("agent-board").innerHTML = d.agents.map((a) =>
    `<tr><td>${esc(a.name)} <span class="muted">${esc(a.agent_id)}</span></td><td>${esc(String(a.presence).replace(/_/g, " "))}</td>` +
    `<td>${mmss(a.in_state_s)}</td><td>${esc(a.calls.map(mask).join(", ") || "–")}</td><td>${a.handled_today}</td></tr>`).join("");
  const pick = $("assign-to");
  const chosen = pick.value;
  pick.innerHTML = d.agents.filter((a) => a.presence !== "offline")
    .map((a) => `<option value="${esc(a.agent_id)}">${esc(a.name)} (${esc(String(a.presence).replace(/_/g, " "))})</option>`).join("");
  if (chosen) pick.value = chosen;
  scheduleRender();
}

// --- the numbers (charts drawn as SVG from /api/stats) --------------------------------------

const pct = (x) => (x == null ? "–" : `${Math.round(x * 100)}%`);
const secs = (x) => (x == null ? "–" : x >= 90 ? `${(x / 60).toFixed(1)} min` : `${Math.round(x)} s`);

async function refreshNumbers() {
  let s;
  try { s = await api("GET", "/api/stats"); } catch (_) { return; }
  sb.stats = s;
  const kpi = (label, value) => `<div class="kpi"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;
  $("kpis").innerHTML = [
    kpi("calls offered", String(s.calls_offered)), kpi("resolved by the AI (containment)", pct(s.containment)),
    kpi("average speed of answer", secs(s.average_speed_of_answer_s)), kpi("abandoned in the queue", pct(s.abandonment_rate)),
    kpi(`first-contact resolution (${s.fcr_days} days)`, pct(s.first_contact_resolution)), kpi("transfer rate", pct(s.transfer_rate)),
    kpi("agent occupancy", pct(s.agent_occupancy)),
    kpi(`AI right in reviews (${Object.values(s.reviews || {}).reduce((n, r) => n + r.reviewed, 0)} reviewed)`, pct(s.ai_accuracy)),
  ].join("");
  // Calls per hour (grey) and those the AI resolved (blue): 24 hourly slots ending now.
  const slot = 3600e3, end = Math.ceil(Date.parse(s.to) / slot) * slot, start = end - 24 * slot;
  const hours = s.per_hour.filter((h) => Date.parse(h.hour) >= start);
  const top = Math.max(1, ...hours.map((h) => h.calls));
  const w = 380 / 24;
  let axis = "";
  for (let i = 0; i < 24; i += 4) {
    const t = new Date(start + i * slot).toISOString().slice(11, 16);
    axis += `<text x="${10 + i * w}" y="135" font-size="9" fill="#5a6478">${t}</text>`;
  }
  $("chart-hours").innerHTML = hours.length ? hours.map((h) => {
    const x = 10 + Math.floor((Date.parse(h.hour) - start) / slot) * w;
    const hc = (h.calls / top) * 110, ha = (h.ai_resolved / top) * 110;
    return `<rect x="${x}" y="${120 - hc}" width="${w * 0.8}" height="${hc}" fill="#c9d2e3"><title>${esc(h.hour)}: ${h.calls} calls</title></rect>` +
      `<rect x="${x}" y="${120 - ha}" width="${w * 0.8}" height="${ha}" fill="#1a56db"><title>${h.ai_resolved} resolved by the AI</title></rect>`;
  }).join("") + axis : `<text x="10" y="70" fill="#5a6478">No calls yet.</text>`;
  // AI vs humans: median bars, p90 ticks.
  const rows = [["AI", s.ai_resolution, "#1a56db"], ["Humans", s.human_handle, "#137a3a"]];
  const longest = Math.max(1, ...rows.map(([, r]) => r.p90_s || 0));
  $("chart-times").innerHTML = rows.map(([name, r, colour], i) => {
    const y = 20 + i * 55, m = ((r.median_s || 0) / longest) * 300, p = ((r.p90_s || 0) / longest) * 300;
    return `<text x="0" y="${y + 15}" font-size="12">${name}</text>` +
      `<rect x="70" y="${y}" width="${m}" height="22" fill="${colour}"></rect>` +
      `<line x1="${70 + p}" x2="${70 + p}" y1="${y - 4}" y2="${y + 26}" stroke="#1d2433" stroke-width="2"></line>` +
      `<text x="70" y="${y + 40}" font-size="11" fill="#5a6478">median ${secs(r.median_s)}, p90 ${secs(r.p90_s)} (${r.n} calls)</text>`;
  }).join("");
  // Service level against its target.
  const sl = s.service_level;
  $("chart-sl").innerHTML = `<rect x="10" y="40" width="380" height="30" fill="#e6eaf2"></rect>` +
    `<rect x="10" y="40" width="${(sl || 0) * 380}" height="30" fill="${sl != null && sl >= s.service_level_target ? "#137a3a" : "#b3261e"}"></rect>` +
    `<line x1="${10 + s.service_level_target * 380}" x2="${10 + s.service_level_target * 380}" y1="32" y2="78" stroke="#1d2433" stroke-width="2"></line>` +
    `<text x="10" y="100" font-size="13">${pct(sl)} answered within ${s.service_level_s} s (target ${pct(s.service_level_target)}; ${s.answered_in_time} of ${s.queued} queued)</text>`;
  // Caller states as one stacked bar.
  const colours = { calm: "#8fd3a5", confused: "#c9d2e3", frustrated: "#f5b971", angry: "#e0776c", unknown: "#eef1f6" };
  const total = Object.values(s.caller_states).reduce((a, b) => a + b, 0) || 1;
  let x = 10;
  $("chart-moods").innerHTML = Object.entries(s.caller_states).map(([state, n], i) => {
    const width = (n / total) * 380;
    const out = `<rect x="${x}" y="30" width="${width}" height="36" fill="${colours[state] || "#c9d2e3"}"><title>${esc(state)}: ${n}</title></rect>` +
      `<text x="${10 + i * 95}" y="95" font-size="12">${esc(state)} ${n}</text>`;
    x += width;
    return out;
  }).join("") || `<text x="10" y="70" fill="#5a6478">No calls yet.</text>`;
}

// --- the selected call ---------------------------------------------------------------------

function select(id) {
  if (sb.selected === id) return;
  if (sb.mode) leave();
  sb.selected = id;
  sb.transcript = [];
  sb.decisions = [];
  sb.timeline = [];
  for (const el of ["transcript", "decisions", "timeline"]) $(el).innerHTML = "";
  $("case").innerHTML = `<dd class="muted">No case file yet.</dd>`;
  $("call-id").textContent = id;
  $("call-box").hidden = false;
  api("GET", `/api/calls/${encodeURIComponent(id)}`).then((r) => {
    for (const s of r.transcript || []) line(s.speaker === "caller" ? "Caller" : cap(s.speaker), s.text);
    if (r.case_file) showCase(r.case_file);
  }).catch(() => {});
  api("GET", `/api/calls/${encodeURIComponent(id)}/timeline`).then((events) => {
    if (sb.selected !== id) return;
    const live = sb.timeline.slice();
    sb.timeline = [];
    sb.decisions = [];
    $("timeline").innerHTML = "";
    $("decisions").innerHTML = "";
    const seen = new Set();
    for (const ev of events) { seen.add(evKey(ev)); noteEvent(ev); }
    for (const ev of live) if (!seen.has(evKey(ev))) noteEvent(ev);
  }).catch(() => {});
  render();
}
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const evKey = (ev) => JSON.stringify({ ...ev, at: undefined });
$("wall").addEventListener("click", (e) => { const tr = e.target.closest("tr"); if (tr) select(tr.dataset.id); });
$("wall").addEventListener("keydown", (e) => { const tr = e.target.closest("tr"); if (tr && e.key === "Enter") select(tr.dataset.id); });

function line(who, text, english) {
  sb.transcript.push({ who, text });
  const p = document.createElement("p");
  p.innerHTML = `<span class="who">${esc(who)}:</span>${esc(text)}` + (english ? ` <span class="muted">[${esc(english)}]</span>` : "");
  $("transcript").append(p);
  $("transcript").scrollTop = $("transcript").scrollHeight;
}

function showCase(c) {
  $("case").innerHTML = caseRows(c).map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("");
}

// What an event says on the timeline, and (for the assistant's decisions) in its own list.
const QUIET = new Set(["transcript_partial", "transcript_final", "agent_transcript", "consult_transcript",
  "secure_capture_progress", "case_file_updated"]);
function noteEvent(ev) {
  if (QUIET.has(ev.type)) return;
  sb.timeline.push(ev);
  const when = ev.at_ms != null ? fmt(ev.at_ms) : ev.at ? new Date(ev.at).toLocaleTimeString() : new Date().toLocaleTimeString();
  const li = document.createElement("li");
  li.innerHTML = `<span class="muted">${esc(when)}</span> ${esc(ev.type.replace(/_/g, " "))} ${esc(summary(ev))}`;
  $("timeline").append(li);
  $("timeline").scrollTop = $("timeline").scrollHeight;
  const d = decision(ev);
  if (d) {
    sb.decisions.push(d);
    const item = document.createElement("li");
    item.textContent = d;
    $("decisions").append(item);
  }
}

function summary(ev) {
  switch (ev.type) {
    case "caller_state_changed": return `${ev.previous || "–"} → ${ev.state} (frustration ${Math.round(ev.frustration * 100)}%)`;
    case "language_detected": return ev.language;
    case "language_changed": return `${ev.from} → ${ev.to}`;
    case "accent_detected": return ev.accent ? ev.accent.label : "";
    case "call_routed": return ev.decision ? `to ${ev.decision.agent_id}` : "";
    case "call_accepted": case "agent_joined": return ev.agent_id;
    case "agent_left": return `${ev.agent_id} (${ev.reason})`;
    case "supervisor_joined": case "supervisor_mode_changed": return `${ev.supervisor} (${ev.mode})`;
    case "supervisor_left": return ev.supervisor;
    case "taken_over": return `by ${ev.by} from ${ev.from}`;
    case "call_assigned": return `to ${ev.agent_id} by ${ev.by}`;
    case "alert_raised": return `${ev.rule.replace(/_/g, " ")}: ${ev.detail}`;
    case "alert_acknowledged": return `${ev.rule.replace(/_/g, " ")} by ${ev.by}`;
    case "call_state_changed": return ev.state.replace(/_/g, " ");
    case "escalation_requested": return ev.reason.replace(/_/g, " ");
    case "assistant_replied": return ev.intent ? ev.intent.replace(/_/g, " ") : "";
    case "secure_capture_ended": return ev.outcome;
    case "call_ended": return ev.reason;
    default: return "";
  }
}

function decision(ev) {
  if (ev.type === "assistant_replied") {
    const acts = (ev.actions || []).map((a) => `${a.tool}: ${a.detail}${a.refused ? " (refused by policy)" : a.ok ? "" : " (failed)"}`);
    const understood = ev.intent ? `understood "${ev.intent.replace(/_/g, " ")}"` : "no intent";
    return `${understood}${acts.length ? `; ${acts.join("; ")}` : ""}`;
  }
  if (ev.type === "escalation_requested") return `handed over to a person: ${ev.reason.replace(/_/g, " ")}`;
  if (ev.type === "taken_over" && ev.from === "assistant") return `taken over by ${ev.by}`;
  if (ev.type === "call_assigned" && ev.from === "assistant") return `handed to ${ev.agent_id} by ${ev.by}`;
  return null;
}

// --- stepping in ---------------------------------------------------------------------------

async function join(mode) {
  const call = sb.selected;
  mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
  pc = new RTCPeerConnection({ iceServers: cfg.ice_servers });
  mic.getAudioTracks().forEach((t) => pc.addTrack(t, mic));
  pc.ontrack = (ev) => {
    const stream = ev.streams[0] || new MediaStream([ev.track]);
    $("remote").srcObject = stream;
    levelMeter(stream, "in-level", () => !!pc, (l) => { sb.inboundLevel = Math.max(sb.inboundLevel, l); });
  };
  pc.onconnectionstatechange = () => { sb.connected = !!pc && pc.connectionState === "connected"; };
  levelMeter(mic, "mic-level", () => !!pc);
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, 2000);
  const answer = await api("POST", `/api/calls/${encodeURIComponent(call)}/supervise`, { sdp: pc.localDescription.sdp, mode });
  await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  statsTimer = setInterval(async () => {
    if (!pc) return;
    (await pc.getStats()).forEach((r) => { if (r.type === "inbound-rtp" && r.kind === "audio") sb.bytesReceived = r.bytesReceived; });
  }, 500);
}

function endMedia() {
  clearInterval(statsTimer);
  statsTimer = null;
  if (pc) { pc.close(); pc = null; }
  if (mic) { mic.getTracks().forEach((t) => t.stop()); mic = null; }
  sb.connected = false;
  sb.mode = null;
  $("leave").disabled = true;
}

const words = { listen: "Listening: nobody hears you.", coach: "Coaching: only the agent hears you.",
  barge: "Barged in: everyone hears you.", take_over: "You have the call: the assistant or agent is off it." };
function stepped(mode) {
  sb.mode = mode;
  $("step-status").textContent = words[mode];
  $("leave").textContent = mode === "take_over" ? "Hang up" : "Leave";
  $("leave").disabled = false;
}

async function step(mode) {
  if (!sb.selected) return;
  sb.error = null;
  try {
    if (!pc) await join(mode === "take_over" ? "listen" : mode);
    else if (mode !== "take_over") await api("POST", `/api/calls/${encodeURIComponent(sb.selected)}/supervise/${mode}`);
    if (mode === "take_over") await api("POST", `/api/calls/${encodeURIComponent(sb.selected)}/supervise/take-over`);
    stepped(mode);
  } catch (err) {
    sb.error = err.message;
    $("step-status").textContent = `Not done: ${err.message}`;
    if (!sb.mode) endMedia();
  }
}

async function leave() {
  const call = sb.selected;
  if (call && sb.mode && sb.mode !== "take_over") await api("POST", `/api/calls/${encodeURIComponent(call)}/supervise/leave`).catch(() => {});
  if (call && sb.mode === "take_over") await api("POST", `/api/calls/${encodeURIComponent(call)}/hangup`).catch(() => {});
  endMedia();
  $("step-status").textContent = "";
}

async function assign() {
  const agent = $("assign-to").value;
  if (!sb.selected || !agent) return;
  sb.error = null;
  try {
    await api("POST", `/api/calls/${encodeURIComponent(sb.selected)}/assign`, { agent });
    $("step-status").textContent = `Handed to ${agent}: it is offered to them alone.`;
  } catch (err) {
    sb.error = err.message;
    $("step-status").textContent = `Not handed over: ${err.message}`;
  }
}

$("listen").addEventListener("click", () => step("listen"));
$("coach").addEventListener("click", () => step("coach"));
$("barge").addEventListener("click", () => step("barge"));
$("take-over").addEventListener("click", () => step("take_over"));
$("leave").addEventListener("click", leave);
$("assign").addEventListener("click", assign);

api("GET", "/api/me").then(loggedIn).catch(() => {}).finally(() => { sb.sessionChecked = true; });
