//! Voice analytics per turn (sans-IO): prosody from the audio, lexical cues from the
//! transcript, and their fusion into the caller's state.

pub mod lexical;
pub mod prosody;
pub mod state;
