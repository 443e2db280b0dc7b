// Switchboard supervisor: a live wall of every call (who has it, language, the caller's mood),
// the selected call's transcript, and stepping in: listen, coach the agent, barge in, take
// over. `window.switchboard` exposes the same facts for automated tests.
"use strict";

const $ = (id) => document.getElementById(id);
const sb = (window.switchboard = {
  user: null, calls: {}, selected: null, mode: null, connected: false, bytesReceived: 0, inboundLevel: 0,
  transcript: [], status: null, error: null,
});
let cfg = { ice_servers: [] };
let events = null, pc = null, mic = null, statsTimer = null;

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const mask = (n) => String(n || "").replace(/\d(?=\d{2})/g, "•");
function status(text, isError) {
  sb.status = text;
  $("status").textContent = text;
  $("status").classList.toggle("error", !!isError);
}

async function api(method, path, body) {
  const resp = await fetch(path, {
    method, credentials: "same-origin",
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  try { data = await resp.json(); } catch (_) { /* empty body */ }
  if (!resp.ok) throw new Error((data && data.error) || resp.statusText);
  return data;
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
  $("wall-box").hidden = false;
  connectEvents();
  const calls = await api("GET", "/api/calls");
  for (const c of calls.filter((c) => !c.ended_at)) {
    sb.calls[c.id] = { ...c, mood: null, trend: 0, language: null };
    api("GET", `/api/calls/${encodeURIComponent(c.id)}`).then((r) => {
      const row = sb.calls[c.id];
      if (!row) return;
      row.language = r.language || null;
      if (r.caller_state) row.mood = r.caller_state.state;
      render();
    }).catch(() => {});
  }
  render();
  setInterval(render, 1000);
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

// --- the wall ------------------------------------------------------------------------------

function connectEvents() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  events = new WebSocket(`${proto}//${location.host}/api/events`);
  events.onmessage = (m) => onEvent(JSON.parse(m.data));
  events.onclose = () => { events = null; setTimeout(() => { if (sb.user) connectEvents(); }, 2000); };
}

function onEvent(ev) {
  const c = ev.call_id && sb.calls[ev.call_id];
  switch (ev.type) {
    case "call_started":
      sb.calls[ev.call_id] = { id: ev.call_id, caller: ev.caller, transport: ev.transport, state: "active",
        started_at: ev.started_at, agent: null, mood: null, trend: 0, language: null };
      break;
    case "call_state_changed": if (c) c.state = ev.state; break;
    case "language_detected": if (c) c.language = ev.language; break;
    case "language_changed": if (c) c.language = ev.to; break;
    case "caller_state_changed": if (c) { c.mood = ev.state; c.trend = ev.trend; } break;
    case "call_accepted": if (c) c.agent = ev.agent_id; break;
    case "taken_over": if (c) c.agent = ev.by; if (ev.call_id === sb.selected && ev.by === sb.user.username) stepped("take_over"); break;
    case "agent_left": if (c && c.agent === ev.agent_id) c.agent = null; break;
    case "call_ended":
      delete sb.calls[ev.call_id];
      if (ev.call_id === sb.selected) { endMedia(); $("step-status").textContent = `The call ended (${ev.reason}).`; }
      break;
    case "transcript_final": if (ev.call_id === sb.selected) line("Caller", ev.text); break;
    case "agent_transcript": if (ev.call_id === sb.selected) line(ev.agent_id, ev.text); break;
    case "assistant_replied": if (ev.call_id === sb.selected && ev.text) line("Assistant", ev.text); break;
  }
  if (ev.call_id) render();
}

// Angry and rising first, then frustrated, then the longest calls.
const weight = (c) => ({ angry: 3, frustrated: 2, confused: 1 }[c.mood] || 0) + (c.trend > 0.15 ? 0.5 : 0);

function render() {
  const calls = Object.values(sb.calls).sort((a, b) => weight(b) - weight(a) || a.started_at.localeCompare(b.started_at));
  $("count").textContent = `(${calls.length})`;
  const now = Date.now();
  $("wall").innerHTML = calls.map((c) => {
    const secs = Math.max(0, Math.round((now - Date.parse(c.started_at)) / 1000));
    const dur = `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}`;
    const mood = c.mood ? `<span class="mood ${esc(c.mood)}">${esc(c.mood)}${c.trend > 0.15 ? " ↑" : ""}</span>` : "";
    const withWho = c.agent || (c.state === "waiting_for_agent" ? "queue" : "assistant");
    return `<tr tabindex="0" data-id="${esc(c.id)}" class="${c.id === sb.selected ? "selected" : ""}">` +
      `<td>${esc(mask(c.caller))}</td><td>${esc(c.transport)}</td><td>${esc(c.language || "")}</td><td>${mood}</td>` +
      `<td>${esc(withWho)}</td><td>${esc(String(c.state).replace(/_/g, " "))}</td><td>${dur}</td></tr>`;
  }).join("");
}

function select(id) {
  if (sb.selected === id) return;
  if (sb.mode) leave();
  sb.selected = id;
  sb.transcript = [];
  $("transcript").innerHTML = "";
  $("call-id").textContent = id;
  $("call-box").hidden = false;
  api("GET", `/api/calls/${encodeURIComponent(id)}`).then((r) => {
    for (const s of r.transcript || []) line(s.speaker === "caller" ? "Caller" : cap(s.speaker), s.text);
  }).catch(() => {});
  render();
}
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
$("wall").addEventListener("click", (e) => { const tr = e.target.closest("tr"); if (tr) select(tr.dataset.id); });
$("wall").addEventListener("keydown", (e) => { const tr = e.target.closest("tr"); if (tr && e.key === "Enter") select(tr.dataset.id); });

function line(who, text) {
  sb.transcript.push({ who, text });
  const p = document.createElement("p");
  p.innerHTML = `<span class="who">${esc(who)}:</span>${esc(text)}`;
  $("transcript").append(p);
  $("transcript").scrollTop = $("transcript").scrollHeight;
}

// --- stepping in ---------------------------------------------------------------------------

function levelMeter(stream, meterId, alive, onLevel) {
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const tick = () => {
    if (!alive()) { ctx.close(); return; }
    analyser.getFloatTimeDomainData(buf);
    const peak = buf.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    $(meterId).value = peak;
    if (onLevel) onLevel(peak);
    requestAnimationFrame(tick);
  };
  tick();
}

function gathered(peer, ms) {
  if (peer.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((done) => {
    const t = setTimeout(done, ms);
    peer.addEventListener("icegatheringstatechange", () => { if (peer.iceGatheringState === "complete") { clearTimeout(t); done(); } });
  });
}

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

$("listen").addEventListener("click", () => step("listen"));
$("coach").addEventListener("click", () => step("coach"));
$("barge").addEventListener("click", () => step("barge"));
$("take-over").addEventListener("click", () => step("take_over"));
$("leave").addEventListener("click", leave);

api("GET", "/api/me").then(loggedIn).catch(() => {});
