//! The process's one ONNX Runtime environment, shared by the Piper voice and the voice encoder
//! (ONNX Runtime allows one per process).

use std::path::Path;
use std::sync::OnceLock;

use ort::environment::Environment;

/// ONNX Runtime's manifest entry (its library, loaded at run time).
pub const RUNTIME: &str = "onnxruntime";

/// The environment, made on first use from the library at `lib`.
pub fn environment(lib: &Path) -> Result<Environment, String> {
    static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let builder =
            ort::init_from(lib).map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", lib.display()))?;
        builder.with_name("switchboard").with_telemetry(false).build().map_err(|e| format!("ONNX Runtime: {e}"))
    })
    .clone()
}
