// Switchboard caller page: one WebRTC call to the server, microphone level, call state and
// the live transcript. `window.switchboard` exposes the same facts for automated tests.
"use strict";

const $ = (id) => document.getElementById(id);
const button = $("call");
const sb = (window.switchboard = {
  state: "ready", callId: null, bytesReceived: 0, inboundLevel: 0, finals: [], error: null,
  connectMs: null, ended: null, bargeIns: 0,
});

let pc = null, events = null, mic = null, statsTimer = null, hangupToken = null;
let clickedAt = 0, showTranscript = true;

// Barge-in from the page. While the call's audio plays, the browser's echo canceller ducks
// the microphone, so a caller who talks over the assistant reaches the server late and faint
// (words lost). The page listens to its own microphone: when the caller starts speaking while
// the assistant's audio plays, it mutes that audio at once (the echo canceller then has
// nothing to cancel and stops ducking) and tells the server, which stops sending it. With a
// person on the call the server says so and the page leaves the audio alone: people talk
// over each other. The audio is unmuted once the server's audio has gone quiet.
const BARGE = {
  everyMs: 20,        // how often the microphone is measured
  speechFrames: 4,    // this many loud measurements in a row are speech (80 ms)
  minLevel: 0.012,    // RMS below this is never speech
  overFloor: 3,       // ... nor anything below this many times the background level
  playingMs: 300,     // the call's audio counts as playing this long after it was audible
  inboundLevel: 0.02, // peak level at which the call's audio is audible
  backAfterMs: 1000,  // the raw microphone is sent this long after the call's audio stopped
};
let inboundLoudAt = 0, bargeTimer = null, bargeOff = false;
// The microphone without echo cancellation, sent instead of the processed one while the
// call's audio is muted after a barge-in: with nothing playing there is no echo, and the
// canceller, still suppressing the audio it just played, would eat the caller's first words.
let rawMic = null, sender = null, quietSince = 0;

function watchForBargeIn(micStream) {
  sbAudioCtx = sbAudioCtx || new AudioContext();
  const an = sbAudioCtx.createAnalyser();
  an.fftSize = 1024;
  sbAudioCtx.createMediaStreamSource(micStream).connect(an);
  const buf = new Float32Array(an.fftSize);
  let floor = 0.004, run = 0;
  const remote = $("remote");
  bargeTimer = setInterval(() => {
    if (!pc) return;
    an.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    const rms = Math.sqrt(sum / buf.length);
    const playing = performance.now() - inboundLoudAt < BARGE.playingMs;
    if (rms > 0.003 && !sb.micOnsetMs) sb.micOnsetMs = Math.round(performance.now() - clickedAt);
    if (rms > Math.max(BARGE.minLevel, floor * BARGE.overFloor)) {
      run += 1;
    } else {
      run = 0;
      floor = 0.95 * floor + 0.05 * rms;
    }
    if (remote.muted && !playing) {
      // The server stopped. Back to the echo-cancelled microphone once its audio has been
      // quiet long enough for the canceller to stop suppressing.
      quietSince = quietSince || performance.now();
      if (performance.now() - quietSince > BARGE.backAfterMs) unmute();
    } else if (remote.muted && playing && quietSince) {
      unmute(); // the next reply: heard, with the echo-cancelled microphone
    } else if (!remote.muted && !bargeOff && playing && run >= BARGE.speechFrames) {
      remote.muted = true;
      quietSince = 0;
      if (sender && rawMic) sender.replaceTrack(rawMic.getAudioTracks()[0]).catch(() => {});
      sb.bargeIns += 1;
      sb.bargeInAtMs = Math.round(performance.now() - clickedAt);
      callerSpeaking();
    }
  }, BARGE.everyMs);
}

function unmute() {
  $("remote").muted = false;
  quietSince = 0;
  if (sender && mic) sender.replaceTrack(mic.getAudioTracks()[0]).catch(() => {});
}

async function callerSpeaking() {
  if (!sb.callId || !hangupToken) return;
  try {
    const resp = await fetch(`/api/webrtc/${encodeURIComponent(sb.callId)}/speaking`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: hangupToken }),
    });
    const body = await resp.json();
    if (resp.ok && body.assistant === false) {
      // A person is on the call: never cut them off.
      bargeOff = true;
      unmute();
    }
  } catch (_) { /* the call may have ended */ }
}

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
    mic.getAudioTracks().forEach((t) => { sender = pc.addTrack(t, mic); });
    try {
      rawMic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: true, autoGainControl: true },
      });
    } catch (_) { rawMic = null; /* barge-in still mutes the call's audio */ }
    pc.ontrack = (ev) => {
      const stream = ev.streams[0] || new MediaStream([ev.track]);
      $("remote").srcObject = stream;
      levelMeter(stream, "out-level", () => !!pc, (l) => {
        sb.inboundLevel = Math.max(sb.inboundLevel, l);
        if (l > BARGE.inboundLevel) inboundLoudAt = performance.now();
      });
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
    bargeOff = false;
    watchForBargeIn(mic);
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
  if (bargeTimer) clearInterval(bargeTimer);
  bargeTimer = null;
  $("remote").muted = false;
  if (pc) { pc.close(); pc = null; }
  if (mic) { mic.getTracks().forEach((t) => t.stop()); mic = null; }
  if (rawMic) { rawMic.getTracks().forEach((t) => t.stop()); rawMic = null; }
  sender = null;
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
