//! Measuring recognition quality: text normalisation, word error rate, labelled datasets.

pub mod dataset;
pub mod normalize;
pub mod wer;
