// Switchboard agent desktop: log in, set presence, take offered calls with their case file,
// talk to the caller over WebRTC, follow the live transcript (both sides), the caller's mood
// and the suggested next step, hang up and wrap up. `window.switchboard` exposes the same
// facts for automated tests.
"use strict";

const sb = (window.switchboard = {
  user: null, presence: null, offer: null, callId: null, connected: false, bytesReceived: 0,
  inboundLevel: 0, caseFile: null, transcript: [], ended: null, wrapUp: null, error: null, status: null,
  // A consult: {role: "host" | "guest", call_id, with, state: "requested" | "talking" | "three_way"}.
  consult: null, consultOffer: null,
});

let cfg = { offer_timeout_s: 15, dispositions: [], ice_servers: [] };
let events = null, pc = null, mic = null, statsTimer = null, offerTimer = null;
let offerDeadline = 0;

const show = (id, on) => { $(id).hidden = !on; };
function status(text, isError) {
  sb.status = text;
  $("status").textContent = text;
  $("status").classList.toggle("error", !!isError);
}

// --- logging in and presence -------------------------------------------------------------

async function loggedIn(me) {
  sb.user = me;
  $("who").textContent = `${me.username} (${me.role})`;
  show("login-box", false);
  show("status-box", true);
  show("logout", true);
  if (!me.agent_id) {
    status("This login has no agent profile: it cannot take calls.", true);
    return;
  }
  cfg = await api("GET", "/api/agent/config");
  $("disposition").innerHTML = cfg.dispositions.map((d) => `<option value="${d}">${d.replace(/_/g, " ")}</option>`).join("");
  const agent = await api("GET", "/api/agents/me");
  show("presence", true);
  $("presence").value = ["available", "away", "offline"].includes(agent.presence) ? agent.presence : "available";
  sb.presence = agent.presence;
  status(`You are ${agent.presence.replace("_", " ")}.`);
  connectEvents();
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("login-error").textContent = "";
  try {
    await api("POST", "/api/login", { username: $("username").value, password: $("password").value });
    await loggedIn(await api("GET", "/api/me"));
  } catch (err) {
    $("login-error").textContent = err.message;
  }
});

$("logout").addEventListener("click", async () => {
  try { await api("PUT", "/api/agents/me/presence", { presence: "offline" }); } catch (_) { /* not an agent */ }
  await api("POST", "/api/logout").catch(() => {});
  location.reload();
});

async function setPresence(p) {
  try {
    const a = await api("PUT", "/api/agents/me/presence", { presence: p });
    sb.presence = a.presence;
    status(`You are ${a.presence.replace("_", " ")}.`);
  } catch (err) {
    status(`Could not change presence: ${err.message}`, true);
  }
}
$("presence").addEventListener("change", () => setPresence($("presence").value));

// --- events ------------------------------------------------------------------------------

function connectEvents() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  // This page does not show words as they are spoken: no partials (a call nobody else follows
  // then skips decoding them).
  events = new WebSocket(`${proto}//${location.host}/api/events?partials=false`);
  events.onmessage = (m) => onEvent(JSON.parse(m.data));
  events.onclose = () => { events = null; setTimeout(() => { if (sb.user) connectEvents(); }, 2000); };
}

function onEvent(ev) {
  const mine = ev.call_id && (ev.call_id === sb.callId || (sb.offer && ev.call_id === sb.offer.call_id) ||
    (sb.consultOffer && ev.call_id === sb.consultOffer.call_id));
  switch (ev.type) {
    case "call_routed":
      if (ev.decision.agent_id === sb.user.agent_id) showOffer(ev);
      else if (sb.offer && sb.offer.call_id === ev.call_id) withdrawOffer("The call went to a colleague.");
      break;
    case "case_file_updated":
      if (mine) showCase(ev.case_file);
      break;
    case "transcript_final":
      if (ev.call_id === sb.callId) addLine("caller", "Caller", ev.text, ev.translation);
      break;
    case "agent_transcript":
      if (ev.call_id === sb.callId) addLine("agent", ev.agent_id === sb.user.agent_id ? "You" : ev.agent_id, ev.text);
      break;
    case "consult_transcript":
      if (ev.call_id === sb.callId) addLine("consult", `${ev.agent_id === sb.user.agent_id ? "You" : ev.agent_id} (consult)`, ev.text);
      break;
    case "consult_requested":
      if (ev.colleague === sb.user.agent_id && !sb.callId) showConsultOffer(ev);
      else if (ev.call_id === sb.callId) setConsult({ role: "host", call_id: ev.call_id, with: ev.colleague, state: "requested" });
      break;
    case "consult_started":
      if (ev.call_id === sb.callId && sb.consult) setConsult({ ...sb.consult, state: "talking" });
      break;
    case "consult_ended":
      consultEnded(ev);
      break;
    case "assistant_replied":
      if (ev.call_id === sb.callId && ev.text) addLine("assistant", "Assistant", ev.text);
      break;
    case "caller_state_changed":
      if (ev.call_id === sb.callId) showMood(ev.state, ev.frustration);
      break;
    case "agent_left":
      if (ev.call_id !== sb.callId || ev.agent_id !== sb.user.agent_id) break;
      setConsult(null);
      endMedia();
      resetCall();
      if (ev.reason === "transferred") status("Call transferred, with its case file.");
      else if (ev.reason === "taken_over") status("A supervisor took the call over.");
      else {
        status("Your connection to the call was lost; it went back to the queue. You are offline.", true);
        api("GET", "/api/agents/me").then((a) => { sb.presence = a.presence; $("presence").value = a.presence; }).catch(() => {});
      }
      break;
    case "secure_capture_started":
      if (ev.call_id !== sb.callId) break;
      sb.capture = "started";
      $("secure-capture").disabled = true;
      $("capture-status").textContent = "The caller is keying the card (muted for you, not recorded)…";
      break;
    case "secure_capture_progress":
      if (ev.call_id === sb.callId) $("capture-status").textContent = `Card: ${"•".repeat(ev.digits)} (${ev.digits} digits keyed)`;
      break;
    case "secure_capture_ended":
      if (ev.call_id !== sb.callId) break;
      sb.capture = ev.outcome;
      $("secure-capture").disabled = false;
      $("capture-status").textContent = ev.outcome === "captured"
        ? `Card captured: ${ev.brand} ending in ${ev.last4}.`
        : `No card captured (${ev.outcome}).`;
      break;
    case "call_ended":
      if (sb.offer && ev.call_id === sb.offer.call_id) withdrawOffer("The caller hung up.");
      if (sb.consultOffer && ev.call_id === sb.consultOffer.call_id) withdrawConsultOffer("The caller hung up.");
      if (ev.call_id !== sb.callId) break;
      if (sb.consult && sb.consult.role === "guest") { setConsult(null); endMedia(); resetCall(); status("The call ended."); }
      else { setConsult(null); callEnded(ev.reason); }
      break;
  }
}

// --- offers ------------------------------------------------------------------------------

function showOffer(ev) {
  sb.offer = { call_id: ev.call_id, decision: ev.decision };
  offerDeadline = Date.now() + cfg.offer_timeout_s * 1000;
  $("offer-summary").textContent = `Call ${ev.call_id}, waited ${Math.round(ev.decision.waited_ms / 1000)} s.` +
    (ev.decision.translation ? " The caller speaks a language you do not: use the English translation." : "");
  show("offer", true);
  show("case-box", true);
  $("accept").disabled = false;
  $("decline").disabled = false;
  $("accept").focus();
  const tick = () => {
    const left = Math.max(0, Math.ceil((offerDeadline - Date.now()) / 1000));
    $("countdown").textContent = left;
    if (left === 0) withdrawOffer("The offer timed out and went to the next agent.");
  };
  clearInterval(offerTimer);
  offerTimer = setInterval(tick, 250);
  tick();
  status("A call is waiting for you.");
}

function withdrawOffer(why) {
  clearInterval(offerTimer);
  if (!sb.offer) return;
  sb.offer = null;
  show("offer", false);
  if (!sb.callId) { show("case-box", false); $("case").innerHTML = ""; }
  status(why);
}

$("decline").addEventListener("click", async () => {
  const call = sb.offer && sb.offer.call_id;
  if (!call) return;
  await api("POST", `/api/calls/${encodeURIComponent(call)}/decline`).catch(() => {});
  withdrawOffer("Declined.");
});

$("accept").addEventListener("click", async () => {
  const call = sb.offer && sb.offer.call_id;
  if (!call) return;
  $("accept").disabled = true;
  $("decline").disabled = true;
  try {
    await api("POST", `/api/calls/${encodeURIComponent(call)}/accept`);
  } catch (err) {
    withdrawOffer(`Could not take the call: ${err.message}`);
    return;
  }
  clearInterval(offerTimer);
  sb.offer = null;
  show("offer", false);
  await openCall(call);
});

// The call box for `call`, and this browser's audio on it.
async function openCall(call) {
  sb.callId = call;
  sb.ended = null;
  sb.wrapUp = null;
  sb.transcript = [];
  $("transcript").innerHTML = "";
  show("call-box", true);
  show("wrapup-box", false);
  $("hangup").disabled = false;
  $("secure-capture").disabled = false;
  $("capture-status").textContent = "";
  sb.capture = null;
  // Earlier lines of the conversation, from the case file.
  if (sb.caseFile) for (const l of sb.caseFile.transcript || []) addLine(l.speaker, cap(l.speaker), l.text, l.english);
  loadTransferTargets();
  status("Connecting your audio…");
  try {
    await connectAudio(call);
  } catch (err) {
    sb.error = String(err.message || err);
    status(`Audio failed: ${sb.error}`, true);
  }
}

const cap = (s) => (s === "agent" ? "You" : s.charAt(0).toUpperCase() + s.slice(1));

// --- audio -------------------------------------------------------------------------------


async function connectAudio(call) {
  mic = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
  pc = new RTCPeerConnection({ iceServers: cfg.ice_servers });
  mic.getAudioTracks().forEach((t) => pc.addTrack(t, mic));
  pc.ontrack = (ev) => {
    const stream = ev.streams[0] || new MediaStream([ev.track]);
    $("remote").srcObject = stream;
    levelMeter(stream, "in-level", () => !!pc, (l) => { sb.inboundLevel = Math.max(sb.inboundLevel, l); });
  };
  pc.onconnectionstatechange = () => {
    const s = pc && pc.connectionState;
    if (s === "connected") { sb.connected = true; status("On the call."); $("call-state").textContent = "connected"; }
    else if (s === "disconnected") $("call-state").textContent = "connection interrupted…";
    else if (s === "failed") { $("call-state").textContent = "connection failed"; status("Audio connection failed.", true); }
  };
  levelMeter(mic, "mic-level", () => !!pc);
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, 2000);
  const answer = await api("POST", `/api/calls/${encodeURIComponent(call)}/agent-media`, { sdp: pc.localDescription.sdp });
  await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  statsTimer = setInterval(async () => {
    if (!pc) return;
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "audio") sb.bytesReceived = r.bytesReceived;
    });
  }, 500);
}

function endMedia() {
  clearInterval(statsTimer);
  statsTimer = null;
  if (pc) { pc.close(); pc = null; }
  if (mic) { mic.getTracks().forEach((t) => t.stop()); mic = null; }
  sb.connected = false;
}

function resetCall() {
  sb.callId = null;
  show("transfer-box", true);
  $("hangup").textContent = "Hang up";
  show("call-box", false);
  show("case-box", false);
}

async function loadTransferTargets() {
  const queues = ["orders", "refunds", "payments", "account", "fraud", "complaints", "general"];
  let agents = [];
  try { agents = await api("GET", "/api/agents/directory"); } catch (_) { /* queues only */ }
  const opts = agents
    .filter((a) => a.id !== sb.user.agent_id)
    .map((a) => `<option value="agent:${esc(a.id)}">${esc(a.name)} (${esc(a.presence.replace("_", " "))}; ` +
      `${esc(a.languages.map((l) => l[0]).join(", "))}; ${esc(a.skills.join(", "))})</option>`)
    .concat(queues.map((q) => `<option value="queue:${q}">${q} queue</option>`));
  $("transfer-to").innerHTML = opts.join("");
}

$("transfer").addEventListener("click", async () => {
  if (!sb.callId) return;
  const [kind, target] = $("transfer-to").value.split(":");
  const body = { note: $("transfer-note").value };
  if (kind === "agent") body.to_agent = target; else body.to_queue = target;
  $("transfer").disabled = true;
  try {
    await api("POST", `/api/calls/${encodeURIComponent(sb.callId)}/transfer`, body);
    $("transfer-status").textContent = "Transferring…";
    $("transfer-note").value = "";
  } catch (err) {
    $("transfer-status").textContent = `Not transferred: ${err.message}`;
  }
  $("transfer").disabled = false;
});

// --- consult transfer and three-way calls -------------------------------------------------

function setConsult(c) {
  sb.consult = c;
  show("consult-box", !!c);
  if (!c) return;
  const host = c.role === "host";
  for (const id of ["consult-transfer", "consult-three-way", "consult-cancel"]) show(id, host);
  $("consult-transfer").disabled = c.state === "requested";
  $("consult-three-way").disabled = c.state !== "talking";
  $("consult-cancel").textContent = c.state === "three_way" ? "Drop your colleague" : "Back to the caller";
  $("consult-status").textContent = {
    requested: `Waiting for ${c.with} to join; the caller hears hold music.`,
    talking: `Talking to ${c.with}; the caller hears hold music, not you.`,
    three_way: `Three-way call with the caller and ${c.with}.`,
  }[c.state];
  $("hangup").textContent = host ? "Hang up" : "Leave";
}

function showConsultOffer(ev) {
  sb.consultOffer = { call_id: ev.call_id, from: ev.agent_id };
  $("consult-offer-summary").textContent = `${ev.agent_id} asks you to talk about call ${ev.call_id} before passing it on. ` +
    "The caller is on hold and does not hear you until you are put through.";
  show("consult-offer", true);
  show("case-box", true);
  status("A colleague asks you to consult.");
}

function withdrawConsultOffer(why) {
  if (!sb.consultOffer) return;
  sb.consultOffer = null;
  show("consult-offer", false);
  if (!sb.callId) { show("case-box", false); $("case").innerHTML = ""; }
  status(why);
}

function consultEnded(ev) {
  if (sb.consultOffer && ev.call_id === sb.consultOffer.call_id) withdrawConsultOffer(`The consult ended (${ev.outcome.replace(/_/g, " ")}).`);
  if (ev.call_id !== sb.callId || !sb.consult) return;
  const guest = sb.consult.role === "guest";
  if (ev.outcome === "three_way") { setConsult({ ...sb.consult, state: "three_way" }); return; }
  if (ev.outcome === "transferred") {
    // The host's agent_left resets their desk; the guest has the call now.
    if (guest) { setConsult(null); $("hangup").textContent = "Hang up"; status("The call is yours now."); }
    return;
  }
  setConsult(null);
  if (guest) { endMedia(); resetCall(); status(`The consult ended (${ev.outcome.replace(/_/g, " ")}).`); }
  else status(`The consult ended (${ev.outcome.replace(/_/g, " ")}); you are back with the caller.`);
}

$("consult-join").addEventListener("click", async () => {
  const o = sb.consultOffer;
  if (!o) return;
  sb.consultOffer = null;
  show("consult-offer", false);
  setConsult({ role: "guest", call_id: o.call_id, with: o.from, state: "requested" });
  await openCall(o.call_id);
  show("transfer-box", false);
  $("secure-capture").disabled = true;
});

$("consult-decline").addEventListener("click", async () => {
  const o = sb.consultOffer;
  if (!o) return;
  await api("POST", `/api/calls/${encodeURIComponent(o.call_id)}/consult/cancel`).catch(() => {});
  withdrawConsultOffer("Declined.");
});

$("consult").addEventListener("click", async () => {
  if (!sb.callId) return;
  const [kind, target] = $("transfer-to").value.split(":");
  if (kind !== "agent") { $("transfer-status").textContent = "Choose a colleague to consult, not a queue."; return; }
  try {
    await api("POST", `/api/calls/${encodeURIComponent(sb.callId)}/consult`, { to_agent: target });
    $("transfer-status").textContent = "";
    $("transfer-box").open = false;
  } catch (err) {
    $("transfer-status").textContent = `Cannot consult: ${err.message}`;
  }
});

for (const [id, path] of [["consult-transfer", "transfer"], ["consult-three-way", "three-way"], ["consult-cancel", "cancel"]]) {
  $(id).addEventListener("click", async () => {
    if (!sb.callId) return;
    try { await api("POST", `/api/calls/${encodeURIComponent(sb.callId)}/consult/${path}`); }
    catch (err) { $("consult-status").textContent = `Not done: ${err.message}`; }
  });
}

$("secure-capture").addEventListener("click", async () => {
  if (!sb.callId) return;
  $("secure-capture").disabled = true;
  try { await api("POST", `/api/calls/${encodeURIComponent(sb.callId)}/secure-capture`); }
  catch (err) { $("capture-status").textContent = `Could not start: ${err.message}`; $("secure-capture").disabled = false; }
});

$("hangup").addEventListener("click", async () => {
  if (!sb.callId) return;
  $("hangup").disabled = true;
  try { await api("POST", `/api/calls/${encodeURIComponent(sb.callId)}/hangup`); }
  catch (err) { status(`Could not hang up: ${err.message}`, true); $("hangup").disabled = false; }
});

function callEnded(reason) {
  sb.ended = reason;
  endMedia();
  $("call-state").textContent = `ended (${reason.replace(/_/g, " ")})`;
  $("hangup").disabled = true;
  $("secure-capture").disabled = true;
  show("wrapup-box", true);
  $("disposition").focus();
  status("Call ended: please wrap up.");
  // The assistant's decisions before the hand-over, to mark right or wrong (review.js).
  const call = sb.callId;
  $("review").innerHTML = '<p class="muted">Loading…</p>';
  showReview(call, $("review")).catch((err) => {
    $("review").innerHTML = `<p class="muted">No review: ${esc(err.message)}</p>`;
  });
}

$("wrapup").addEventListener("submit", async (e) => {
  e.preventDefault();
  const call = sb.callId;
  try {
    await api("POST", `/api/calls/${encodeURIComponent(call)}/wrap-up`, {
      disposition: $("disposition").value, notes: $("notes").value,
    });
    sb.wrapUp = { call_id: call, disposition: $("disposition").value };
    $("wrapup-status").textContent = "Saved.";
    $("notes").value = "";
    show("wrapup-box", false);
    resetCall();
    status(`Wrap-up saved. You are ${sb.presence || "available"}.`);
  } catch (err) {
    $("wrapup-status").textContent = `Not saved: ${err.message}`;
  }
});

// --- case file and transcript ------------------------------------------------------------


function showMood(state, frustration) {
  const m = $("mood");
  m.className = state || "";
  m.textContent = state ? `${state}${frustration != null ? ` (frustration ${Math.round(frustration * 100)}%)` : ""}` : "–";
}

function showCase(c) {
  sb.caseFile = c;
  show("case-box", true);
  const rows = caseRows(c);
  $("case").innerHTML = rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("");
  $("next-step").textContent = c.next_step || "";
  if (c.mood) showMood(c.mood.state, c.mood.frustration);
}

function addLine(kind, who, text, english) {
  sb.transcript.push({ speaker: kind, text });
  const p = document.createElement("p");
  p.className = kind;
  p.innerHTML = `<span class="who">${esc(who)}:</span>${esc(text)}` + (english ? ` <span class="muted">[${esc(english)}]</span>` : "");
  $("transcript").appendChild(p);
  $("transcript").scrollTop = $("transcript").scrollHeight;
}

// Already logged in (cookie)?
// `sessionChecked`: the answer is in (tests wait for it before choosing to log in).
api("GET", "/api/me").then(loggedIn).catch(() => { $("username").focus(); })
  .finally(() => { sb.sessionChecked = true; });
