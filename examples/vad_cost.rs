use std::time::Instant;
use switchboard::pipeline::vad::{SileroVadFactory, VadFactory};
fn main() {
    let audio = switchboard::media::decode::read_mono_at(std::env::args().nth(1).unwrap(), 16000).unwrap();
    for (block, ctx) in [(4, 8), (8, 4), (16, 0), (1, 0)] {
        let mut f = SileroVadFactory::new(std::path::Path::new("models/ggml-silero-v6.2.0.bin")).unwrap();
        f.block_chunks = block;
        f.context_chunks = ctx;
        let mut v = f.create().unwrap();
        let t = Instant::now();
        let mut n = 0;
        for c in audio.chunks(320) {
            n += v.push(c).unwrap().len();
        }
        let el = t.elapsed();
        println!(
            "block {block} ctx {ctx}: {n} chunks in {:?} = {:.3} ms per 32ms chunk (audio {:.1}s)",
            el,
            el.as_secs_f64() * 1000.0 / n as f64,
            audio.len() as f64 / 16000.0
        );
    }
    let t = Instant::now();
    let _ = switchboard::media::resample::resample_all(&audio, 16000, 8000).unwrap();
    println!("resample 16k->8k: {:?}", t.elapsed());
}
