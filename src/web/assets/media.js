// Shared by the caller page and the agent desktop: audio level meters and waiting for ICE
// gathering (the server takes complete, non-trickle offers).
"use strict";

let sbAudioCtx = null;

// Show a stream's peak level on a <meter> while `live()` holds; `onLevel(peak)` sees each reading.
function levelMeter(stream, meterId, live, onLevel) {
  sbAudioCtx = sbAudioCtx || new AudioContext();
  const src = sbAudioCtx.createMediaStreamSource(stream);
  const an = sbAudioCtx.createAnalyser();
  an.fftSize = 1024;
  src.connect(an);
  const buf = new Float32Array(an.fftSize);
  const meter = document.getElementById(meterId);
  const tick = () => {
    if (!live()) { meter.value = 0; return; }
    an.getFloatTimeDomainData(buf);
    let peak = 0;
    for (const v of buf) peak = Math.max(peak, Math.abs(v));
    meter.value = Math.min(1, peak * 2);
    if (onLevel) onLevel(peak);
    requestAnimationFrame(tick);
  };
  tick();
}

// Resolves when the peer has gathered its candidates, or after `timeoutMs`.
function gathered(peer, timeoutMs) {
  return new Promise((resolve) => {
    if (peer.iceGatheringState === "complete") return resolve();
    peer.addEventListener("icegatheringstatechange", () => { if (peer.iceGatheringState === "complete") resolve(); });
    setTimeout(resolve, timeoutMs);
  });
}
