//! Live capture from the machine's default microphone (cpal), as a stream of frames.

use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use tokio::sync::mpsc;

use super::{AudioFrame, MediaError};

/// A running capture; dropping it stops the microphone.
pub struct Capture {
    _stream: cpal::Stream,
    /// Sample rate the device delivers.
    pub sample_rate: u32,
}

/// Open the default input device and send its audio (mono f32) into `tx` as frames.
pub fn capture_default(tx: mpsc::Sender<AudioFrame>) -> Result<Capture, MediaError> {
    let host = cpal::default_host();
    let device = host
        .default_input_device()
        .ok_or_else(|| MediaError::Device("no microphone found (is an input device connected?)".into()))?;
    let supported = device.default_input_config().map_err(|e| MediaError::Device(e.to_string()))?;
    if supported.sample_format() != cpal::SampleFormat::F32 {
        return Err(MediaError::Device(format!(
            "the microphone delivers {:?}; only f32 capture is supported",
            supported.sample_format()
        )));
    }
    let config = supported.config();
    let rate = config.sample_rate;
    let channels = config.channels;
    let mut frames_seen: u64 = 0;
    let stream = device
        .build_input_stream::<f32, _, _>(
            config,
            move |data: &[f32], _| {
                let frame = AudioFrame {
                    samples: super::downmix(data, channels),
                    sample_rate: rate,
                    channels: 1,
                    pts: Duration::from_secs_f64(frames_seen as f64 / rate as f64),
                };
                frames_seen += (data.len() / channels.max(1) as usize) as u64;
                // A full queue drops audio rather than blocking the audio thread.
                let _ = tx.try_send(frame);
            },
            |e| tracing::warn!(error = %e, "microphone stream error"),
            None,
        )
        .map_err(|e| MediaError::Device(e.to_string()))?;
    stream.play().map_err(|e| MediaError::Device(e.to_string()))?;
    Ok(Capture { _stream: stream, sample_rate: rate })
}
