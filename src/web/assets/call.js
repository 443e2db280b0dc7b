// Switchboard caller page: one WebRTC call to the server, microphone level, call state and
// the live transcript. `window.switchboard` exposes the same facts for automated tests.
"use strict";

const $ = (id) => document.getElementById(id);
const button = $("call");
const sb = (window.switchboard = {
  state: "ready", callId: null, bytesReceived: 0, inboundLevel: 0, finals: [], error: null,
  connectMs: null, ended: null,
});

let pc = null, events = null, mic = null, statsTimer = null, hangupToken = null;
let clickedAt = 0, showTranscript = true;

function setState(s, isError) {
  sb.state = s;
  $("state").textContent = s;
  $("state").classList.toggle("error", !!isError);
}

function showEvent(ev) {
  const box = $("transcript");
  let partial = box.querySelector(".partial");
  if (ev.type === "transcript_partial") {
    if (!partial) { partial = document.createElement("p"); partial.className = "partial"; box.appendChild(partial); }
    partial.textContent = ev.text;
  } else if (ev.type === "transcript_final") {
    sb.finals.push(ev.text);
    if (partial) partial.remove();
    const p = document.createElement("p");
    p.className = "final";
    p.textContent = ev.text;
    box.appendChild(p);
  } else if (ev.type === "assistant_replied" && ev.text) {
    sb.assistant = (sb.assistant || []).concat([ev.text]);
    const p = document.createElement("p");
    p.className = "assistant";
    p.lang = ev.language || "en";
    p.textContent = ev.text;
    box.appendChild(p);
  } else if (ev.type === "call_ended") {
    // The last turn's transcript arrives before call_ended, so only now is the record complete.
    sb.ended = ev.reason;
    if (pc) finish("call ended (" + ev.reason + ")");
    if (events) { events.close(); events = null; }
  }
}

async function start() {
  button.disabled = true;
  if (events) { events.close(); events = null; }
  sb.ended = null;
  clickedAt = performance.now();
  setState("asking for the microphone…");
  try {
    const cfg = await (await fetch("/api/webrtc/config")).json();
    showTranscript = cfg.show_transcript;
    $("transcript-box").hidden = !showTranscript;
    mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    pc = new RTCPeerConnection({ iceServers: cfg.ice_servers });
    mic.getAudioTracks().forEach((t) => pc.addTrack(t, mic));
    pc.ontrack = (ev) => {
      const stream = ev.streams[0] || new MediaStream([ev.track]);
      $("remote").srcObject = stream;
      levelMeter(stream, "out-level", () => !!pc, (l) => { sb.inboundLevel = Math.max(sb.inboundLevel, l); });
    };
    pc.onconnectionstatechange = () => {
      const s = pc && pc.connectionState;
      if (s === "connected") {
        sb.connectMs = Math.round(performance.now() - clickedAt);
        setState("connected – speak now");
      } else if (s === "failed") {
        finish("connection failed", true);
      } else if (s === "disconnected") {
        setState("connection interrupted…");
      }
    };
    levelMeter(mic, "mic-level", () => !!pc);
    setState("connecting…");
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 2000);
    const resp = await fetch("/api/webrtc/offer", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sdp: pc.localDescription.sdp, caller: document.getElementById("caller").value }),
    });
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.error || resp.statusText);
    sb.callId = body.call_id;
    hangupToken = body.hangup_token;
    if (showTranscript) {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      events = new WebSocket(`${proto}//${location.host}/api/events?call=${encodeURIComponent(body.call_id)}&token=${encodeURIComponent(body.hangup_token)}`);
      events.onmessage = (m) => showEvent(JSON.parse(m.data));
    }
    await pc.setRemoteDescription({ type: "answer", sdp: body.sdp });
    button.textContent = "Hang up";
    button.setAttribute("aria-pressed", "true");
    button.disabled = false;
    document.getElementById("keypad-box").hidden = false;
    statsTimer = setInterval(async () => {
      if (!pc) return;
      const stats = await pc.getStats();
      stats.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "audio") sb.bytesReceived = r.bytesReceived;
      });
    }, 500);
  } catch (e) {
    sb.error = String(e.message || e);
    finish("could not connect: " + sb.error, true);
  }
}

async function hangUp() {
  button.disabled = true;
  if (sb.callId && hangupToken) {
    try {
      await fetch(`/api/webrtc/${encodeURIComponent(sb.callId)}/hangup`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: hangupToken }),
      });
    } catch (_) { /* the server also notices the connection closing */ }
  }
  finish("call ended");
}

function finish(message, isError) {
  if (statsTimer) clearInterval(statsTimer);
  statsTimer = null;
  if (pc) { pc.close(); pc = null; }
  if (mic) { mic.getTracks().forEach((t) => t.stop()); mic = null; }
  if (events && isError) { events.close(); events = null; }
  hangupToken = null;
  document.getElementById("keypad-box").hidden = true;
  button.textContent = "Call";
  button.setAttribute("aria-pressed", "false");
  button.disabled = false;
  setState(message, isError);
}

button.addEventListener("click", () => (pc ? hangUp() : start()));

// The keypad: each key goes to the call as a key press (as a phone's keypad would send it).
sb.keysSent = 0;
document.getElementById("keypad").addEventListener("click", async (e) => {
  const key = e.target.dataset && e.target.dataset.key;
  if (!key || !sb.callId || !hangupToken) return;
  try {
    const resp = await fetch(`/api/webrtc/${encodeURIComponent(sb.callId)}/keys`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: hangupToken, keys: key }),
    });
    if (resp.ok) sb.keysSent += 1;
  } catch (_) { /* the call may have ended */ }
});
