//! Small learned classifiers ("probes") on voice embeddings (sans-IO): a multinomial logistic
//! regression over standardised features, with a temperature fitted on held-out speakers so
//! that its probabilities mean what they say, and an "unknown" below a confidence floor.
//!
//! Training is deterministic (zero start, full-batch Adam, a fixed number of steps, no threads),
//! so the same data and settings give the same weights bit for bit. The weights are a small JSON
//! file the project commits (`models/voice/*.json`), written by `switchboard train`.

use serde::{Deserialize, Serialize};

/// How a probe was made: enough to make it again.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Provenance {
    /// The command that wrote the file.
    pub command: String,
    /// Each dataset: its folder name, clips used and a hash of its labels.tsv.
    pub datasets: Vec<String>,
    pub speakers: usize,
    pub samples: usize,
    pub l2: f32,
    pub steps: usize,
    pub seed: u64,
    /// Licences of the data the weights were learned from.
    pub licences: Vec<String>,
    /// The CPU's kind for the int8 encoder (architecture, vendor and the integer dot-product
    /// extensions ONNX Runtime picks kernels by): its embeddings, and so the weights, are
    /// reproduced bit for bit on the same kind of CPU, and differ slightly on another.
    #[serde(default)]
    pub cpu: String,
}

/// This machine's CPU kind (see [`Provenance::cpu`]).
pub fn cpu_kind() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let flags = field("flags");
    let has: Vec<&str> = ["avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8"]
        .into_iter()
        .filter(|f| flags.split_whitespace().any(|x| x == *f))
        .collect();
    let vendor = field("vendor_id");
    format!("{} {} {}", std::env::consts::ARCH, if vendor.is_empty() { "unknown" } else { &vendor }, has.join(" "))
        .trim()
        .to_string()
}

/// A trained probe.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Probe {
    /// What it answers ("emotion", "accent_native", ...).
    pub task: String,
    pub classes: Vec<String>,
    /// The embedding blocks it reads, in order (see `encoder::Embedding::features`).
    pub features: Vec<String>,
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    /// `classes x dim`.
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
    /// Logits are divided by this before the softmax (fitted on held-out speakers).
    pub temperature: f32,
    /// Below this top probability the answer is "unknown".
    pub floor: f32,
    pub provenance: Provenance,
}

/// A probe's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The top class, or "unknown" below the floor.
    pub label: String,
    pub confidence: f32,
    /// Every class with its probability, in the probe's order.
    pub probs: Vec<(String, f32)>,
    /// The probe's floor: below it the answer is "unknown".
    pub floor: f32,
}

impl Prediction {
    pub fn prob(&self, class: &str) -> f32 {
        self.probs.iter().find(|(c, _)| c == class).map(|(_, p)| *p).unwrap_or(0.0)
    }

    pub fn is_known(&self) -> bool {
        self.label != "unknown"
    }
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainSpec {
    /// L2 penalty on the weights (standardised features).
    pub l2: f32,
    pub steps: usize,
    pub learning_rate: f32,
    /// Weigh each class by the inverse of its count (balanced classes).
    pub balanced: bool,
}

impl Default for TrainSpec {
    fn default() -> Self {
        Self { l2: 0.05, steps: 400, learning_rate: 0.02, balanced: true }
    }
}

fn softmax(logits: &mut [f64]) {
    let max = logits.iter().cloned().fold(f64::MIN, f64::max);
    let mut sum = 0.0;
    for l in logits.iter_mut() {
        *l = (*l - max).exp();
        sum += *l;
    }
    for l in logits.iter_mut() {
        *l /= sum;
    }
}

impl Probe {
    /// Raw logits (temperature 1) for one embedding.
    pub fn logits(&self, x: &[f32]) -> Vec<f64> {
        let z: Vec<f64> = x.iter().zip(&self.mean).zip(&self.scale).map(|((v, m), s)| ((v - m) / s) as f64).collect();
        self.weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| *b as f64 + w.iter().zip(&z).map(|(w, z)| *w as f64 * z).sum::<f64>())
            .collect()
    }

    /// Calibrated probabilities for one embedding.
    pub fn predict(&self, x: &[f32]) -> Prediction {
        self.answer(&calibrated(&self.logits(x), self.temperature))
    }

    /// The answer for calibrated class probabilities (the probe's class order).
    pub fn answer(&self, p: &[f64]) -> Prediction {
        let (best, conf) = argmax(p);
        let label = if (conf as f32) < self.floor { "unknown".to_string() } else { self.classes[best].clone() };
        Prediction {
            label,
            confidence: conf as f32,
            probs: self.classes.iter().cloned().zip(p.iter().map(|v| *v as f32)).collect(),
            floor: self.floor,
        }
    }

    /// Fit a probe on `x` (rows) with labels `y` (indices into `classes`).
    pub fn train(
        task: &str,
        classes: Vec<String>,
        features: Vec<String>,
        x: &[Vec<f32>],
        y: &[usize],
        spec: TrainSpec,
    ) -> Probe {
        assert_eq!(x.len(), y.len(), "one label per row");
        assert!(!x.is_empty(), "no training rows");
        let d = x[0].len();
        let k = classes.len();
        let n = x.len();
        // Standardise.
        let mut mean = vec![0f64; d];
        for r in x {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += *v as f64 / n as f64;
            }
        }
        let mut var = vec![0f64; d];
        for r in x {
            for ((s, v), m) in var.iter_mut().zip(r).zip(&mean) {
                *s += (*v as f64 - m).powi(2) / n as f64;
            }
        }
        let scale: Vec<f64> = var.iter().map(|v| v.sqrt().max(1e-6)).collect();
        let z: Vec<Vec<f64>> = x
            .iter()
            .map(|r| r.iter().zip(&mean).zip(&scale).map(|((v, m), s)| (*v as f64 - m) / s).collect())
            .collect();
        // Sample weights: balanced classes sum to n.
        let mut counts = vec![0usize; k];
        for &c in y {
            counts[c] += 1;
        }
        let present = counts.iter().filter(|c| **c > 0).count().max(1);
        let sw: Vec<f64> = y
            .iter()
            .map(|&c| if spec.balanced { n as f64 / (present as f64 * counts[c] as f64) } else { 1.0 })
            .collect();
        let total_w: f64 = sw.iter().sum();
        // Full-batch Adam on the mean weighted cross-entropy + l2/2 |W|^2.
        let mut w = vec![vec![0f64; d]; k];
        let mut b = vec![0f64; k];
        let (mut mw, mut vw) = (vec![vec![0f64; d]; k], vec![vec![0f64; d]; k]);
        let (mut mb, mut vb) = (vec![0f64; k], vec![0f64; k]);
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
        let lr = spec.learning_rate as f64;
        let mut p = vec![0f64; k];
        for step in 1..=spec.steps {
            let mut gw = vec![vec![0f64; d]; k];
            let mut gb = vec![0f64; k];
            for ((row, &c), &s) in z.iter().zip(y).zip(&sw) {
                for j in 0..k {
                    p[j] = b[j] + w[j].iter().zip(row).map(|(a, b)| a * b).sum::<f64>();
                }
                softmax(&mut p);
                for j in 0..k {
                    let g = s * (p[j] - if j == c { 1.0 } else { 0.0 }) / total_w;
                    gb[j] += g;
                    for (gv, v) in gw[j].iter_mut().zip(row) {
                        *gv += g * v;
                    }
                }
            }
            let (c1, c2) = (1.0 - b1.powi(step as i32), 1.0 - b2.powi(step as i32));
            for j in 0..k {
                for i in 0..d {
                    let g = gw[j][i] + spec.l2 as f64 * w[j][i];
                    mw[j][i] = b1 * mw[j][i] + (1.0 - b1) * g;
                    vw[j][i] = b2 * vw[j][i] + (1.0 - b2) * g * g;
                    w[j][i] -= lr * (mw[j][i] / c1) / ((vw[j][i] / c2).sqrt() + eps);
                }
                mb[j] = b1 * mb[j] + (1.0 - b1) * gb[j];
                vb[j] = b2 * vb[j] + (1.0 - b2) * gb[j] * gb[j];
                b[j] -= lr * (mb[j] / c1) / ((vb[j] / c2).sqrt() + eps);
            }
        }
        Probe {
            task: task.into(),
            classes,
            features,
            mean: mean.iter().map(|v| *v as f32).collect(),
            scale: scale.iter().map(|v| *v as f32).collect(),
            weights: w.iter().map(|r| r.iter().map(|v| *v as f32).collect()).collect(),
            bias: b.iter().map(|v| *v as f32).collect(),
            temperature: 1.0,
            floor: 0.0,
            provenance: Provenance { l2: spec.l2, steps: spec.steps, samples: n, ..Default::default() },
        }
    }
}

/// The temperature that minimises the negative log-likelihood of held-out logits (golden-section
/// search over 0.2..20 on a log scale).
pub fn fit_temperature(logits: &[Vec<f64>], y: &[usize]) -> f32 {
    let nll = |t: f64| -> f64 { logits.iter().zip(y).map(|(l, &c)| -(calibrated(l, t)[c].max(1e-12)).ln()).sum() };
    let (mut a, mut b) = (0.2f64.ln(), 20f64.ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..60 {
        let c = b - g * (b - a);
        let d = a + g * (b - a);
        if nll(c.exp()) < nll(d.exp()) {
            b = d;
        } else {
            a = c;
        }
    }
    ((a + b) / 2.0).exp() as f32
}

/// The index and value of the largest of `p` (the first on ties).
pub fn argmax(p: &[f64]) -> (usize, f64) {
    p.iter().enumerate().fold((0, f64::MIN), |(bi, bp), (i, &v)| if v > bp { (i, v) } else { (bi, bp) })
}

/// Calibrated probabilities of logits at a temperature.
pub fn calibrated(logits: &[f64], temperature: impl Into<f64>) -> Vec<f64> {
    let t = temperature.into();
    let mut p: Vec<f64> = logits.iter().map(|v| v / t).collect();
    softmax(&mut p);
    p
}

/// A reliability table: predictions binned by confidence, with how often they were right.
#[derive(Debug, Default, Clone)]
pub struct Reliability {
    /// Per bin (edges 0, 0.5, 0.6, 0.7, 0.8, 0.9, 1): (predictions, correct, sum of confidence).
    bins: Vec<(usize, usize, f64)>,
}

impl Reliability {
    const EDGES: [f64; 7] = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01];

    pub fn add(&mut self, confidence: f64, correct: bool) {
        if self.bins.is_empty() {
            self.bins = vec![(0, 0, 0.0); Self::EDGES.len() - 1];
        }
        let i = Self::EDGES.windows(2).position(|w| confidence >= w[0] && confidence < w[1]).unwrap_or(0);
        let b = &mut self.bins[i];
        b.0 += 1;
        b.1 += usize::from(correct);
        b.2 += confidence;
    }

    /// Expected calibration error: the prediction-weighted gap between confidence and accuracy.
    pub fn ece(&self) -> f64 {
        let n: usize = self.bins.iter().map(|b| b.0).sum();
        if n == 0 {
            return 0.0;
        }
        self.bins
            .iter()
            .filter(|b| b.0 > 0)
            .map(|b| (b.2 / b.0 as f64 - b.1 as f64 / b.0 as f64).abs() * b.0 as f64)
            .sum::<f64>()
            / n as f64
    }

    /// The table as lines: "0.70-0.80  mean conf 0.75  right 30/40 (0.75)".
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, b) in self.bins.iter().enumerate() {
            if b.0 == 0 {
                continue;
            }
            let hi = Self::EDGES[i + 1].min(1.0);
            out.push(format!(
                "  confidence {:.1}-{:.1}: mean {:.2}, right {}/{} ({:.2})",
                Self::EDGES[i],
                hi,
                b.2 / b.0 as f64,
                b.1,
                b.0,
                b.1 as f64 / b.0 as f64
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two Gaussian blobs in 4-D with a noise dimension, from a fixed linear congruential
    /// generator (no randomness in the test).
    fn blobs(n: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut s = seed;
        let mut r = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) as f64 / (1u64 << 31) as f64 - 0.5) as f32
        };
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let c = i % 3;
            let centre = [[1.0, 0.0], [-1.0, 0.5], [0.0, -1.0]][c];
            x.push(vec![centre[0] + r(), centre[1] + r(), r() * 5.0, 100.0 + r()]);
            y.push(c);
        }
        (x, y)
    }

    #[test]
    fn learns_separable_classes_and_is_deterministic() {
        let (x, y) = blobs(300, 1);
        let classes = vec!["a".to_string(), "b".into(), "c".into()];
        let spec = TrainSpec { l2: 0.01, steps: 300, learning_rate: 0.05, balanced: true };
        let p = Probe::train("t", classes.clone(), vec!["f".into()], &x, &y, spec);
        let again = Probe::train("t", classes, vec!["f".into()], &x, &y, spec);
        assert_eq!(p, again, "same data, same weights, bit for bit");
        let (tx, ty) = blobs(150, 99);
        let right = tx.iter().zip(&ty).filter(|(r, &c)| p.predict(r).label == p.classes[c]).count();
        assert!(right >= 140, "held-out accuracy {right}/150");
        // Probabilities sum to 1 and the noise dimension carries little weight.
        let pr = p.predict(&tx[0]);
        assert!((pr.probs.iter().map(|(_, v)| v).sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(p.weights.iter().all(|w| w[2].abs() < w[0].abs().max(w[1].abs())));
    }

    #[test]
    fn floor_gives_unknown_and_json_round_trips() {
        let (x, y) = blobs(90, 3);
        let mut p = Probe::train("t", vec!["a".into(), "b".into(), "c".into()], vec![], &x, &y, TrainSpec::default());
        // The midpoint between the centres is not confidently anything; a centre is.
        p.floor = 0.6;
        assert_eq!(p.predict(&[0.0, -0.17, 0.0, 100.0]).label, "unknown");
        assert_eq!(p.predict(&[1.0, 0.0, 0.0, 100.0]).label, "a");
        let json = serde_json::to_string(&p).unwrap();
        let back: Probe = serde_json::from_str(&json).unwrap();
        assert_eq!(back.predict(&x[0]), p.predict(&x[0]));
    }

    #[test]
    fn temperature_shrinks_overconfident_logits() {
        // Logits that say 0.99 but are right only 3 times in 4: the fitted temperature > 1.
        let logits: Vec<Vec<f64>> = (0..40).map(|_| vec![5.0, 0.0]).collect();
        let y: Vec<usize> = (0..40).map(|i| usize::from(i % 4 == 0)).collect();
        let t = fit_temperature(&logits, &y);
        let p = calibrated(&logits[0], t)[0];
        assert!((p - 0.75).abs() < 0.02, "calibrated {p} at T {t}");
        let mut r = Reliability::default();
        for (l, &c) in logits.iter().zip(&y) {
            r.add(calibrated(l, t)[0], c == 0);
        }
        assert!(r.ece() < 0.02, "ece {}", r.ece());
        assert_eq!(r.lines().len(), 1);
    }
}
