//! `switchboard eval answers`: what a caller answers when the assistant asks for a date of
//! birth, an order number or a PIN, over the phone (8 kHz G.711 mu-law), in several voices,
//! decoded as the call's final would be: without and with the expectation's prompt
//! ([`crate::assistant::expect`]), on the default English model and on `base`. Each answer is
//! read with the dialogue's own parser and scored against what was said. Then, for the first
//! model decoding as a call does, what reading back answers below a confidence
//! ([`crate::pipeline::asr::confidence`]) would catch and cost, per threshold.
//!
//! The voices are the project's own (Piper's en_US-joe-medium and espeak-ng voices), so the
//! set needs nothing from outside the repository; the texts and their labels are below. A
//! second, held-out set (other words, other voices) was written after the answer forms
//! ([`expect::form_for`]) and never used to shape them.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::assistant::entities;
use crate::assistant::expect::{self, Kind};
use crate::assistant::tts::piper::Piper;
use crate::assistant::tts::Espeak;
use crate::cmd::voice_data::phone_band;
use crate::media::resample::resample_all;
use crate::models::Manifest;
use crate::pipeline::Engine;

const DATES: &[(&str, (i32, u32, u32))] = &[
    ("April twelfth, nineteen eighty-five.", (1985, 4, 12)),
    ("The third of March, nineteen seventy.", (1970, 3, 3)),
    ("July twenty-second, nineteen sixty-nine.", (1969, 7, 22)),
    ("My date of birth is the fifteenth of August, nineteen ninety-two.", (1992, 8, 15)),
    ("December first, two thousand and one.", (2001, 12, 1)),
    ("It's May thirtieth, nineteen seventy-eight.", (1978, 5, 30)),
    ("February ninth, nineteen fifty-seven.", (1957, 2, 9)),
    ("October seventeenth, nineteen eighty-three.", (1983, 10, 17)),
];

const ORDERS: &[(&str, &str)] = &[
    ("Four five six seven eight.", "45678"),
    ("My order number is three nine one two zero.", "39120"),
    ("It's seven seven two zero one.", "77201"),
    ("Eight one six four three.", "81643"),
    ("The order is five zero nine nine two.", "50992"),
    ("Two six eight one four.", "26814"),
];

const PINS: &[(&str, &str)] = &[
    ("One two three four.", "1234"),
    ("Nine nine zero one.", "9901"),
    ("It's four four seven two.", "4472"),
    ("Six zero three eight.", "6038"),
    ("My PIN is two five eight zero.", "2580"),
    ("Seven one one nine.", "7119"),
];

const VOICES: &[&str] =
    &["piper:en_US-joe-medium", "espeak:en-us", "espeak:en-gb", "espeak:en-us+f3", "espeak:en-gb-scotland"];

/// The held-out set: written after the answer forms, other dates and numbers (some with
/// lead-ins the forms do not list: "Hmm", "Let me see"), in voices the first set does not use.
const HELD_OUT_DATES: &[(&str, (i32, u32, u32))] = &[
    ("Hmm, September ninth, nineteen ninety.", (1990, 9, 9)),
    ("Let me see, the twenty-first of June, nineteen eighty.", (1980, 6, 21)),
    ("January second, two thousand and four.", (2004, 1, 2)),
    ("Yeah, March fourteenth, nineteen seventy-six.", (1976, 3, 14)),
];
const HELD_OUT_ORDERS: &[(&str, &str)] =
    &[("Okay so it's six one one four seven.", "61147"), ("Nine nine three zero two one.", "993021")];
const HELD_OUT_PINS: &[(&str, &str)] = &[("Three three one eight.", "3318"), ("Yes, five five two nine.", "5529")];
const HELD_OUT_VOICES: &[&str] = &["espeak:en-us+m3", "espeak:en-gb-x-rp", "espeak:en-029"];

struct Item {
    kind: Kind,
    said: &'static str,
    want: String,
    voice: &'static str,
    audio: Vec<f32>,
}

/// One set of answers: its dates, order numbers, PINs and voices.
struct Set {
    name: &'static str,
    dates: &'static [(&'static str, (i32, u32, u32))],
    orders: &'static [(&'static str, &'static str)],
    pins: &'static [(&'static str, &'static str)],
    voices: &'static [&'static str],
}

const SETS: &[Set] = &[
    Set { name: "the set", dates: DATES, orders: ORDERS, pins: PINS, voices: VOICES },
    Set {
        name: "held out",
        dates: HELD_OUT_DATES,
        orders: HELD_OUT_ORDERS,
        pins: HELD_OUT_PINS,
        voices: HELD_OUT_VOICES,
    },
];

fn items(manifest: &Manifest, set: &Set) -> anyhow::Result<Vec<Item>> {
    let piper = Piper::from_manifest(manifest, "en_US-joe-medium").map_err(|e| anyhow::anyhow!("{e}"))?;
    let espeak = Espeak::default();
    let mut out = Vec::new();
    let mut texts: Vec<(Kind, &'static str, String)> = Vec::new();
    for (t, (y, m, d)) in set.dates {
        texts.push((Kind::Date, t, NaiveDate::from_ymd_opt(*y, *m, *d).expect("valid").to_string()));
    }
    texts.extend(set.orders.iter().map(|(t, w)| (Kind::OrderNumber, *t, w.to_string())));
    texts.extend(set.pins.iter().map(|(t, w)| (Kind::Pin, *t, w.to_string())));
    for voice in set.voices {
        for (kind, said, want) in &texts {
            let speech = match voice.strip_prefix("piper:") {
                Some(_) => piper.speak_with(said, 1.0, 1.0),
                None => espeak.speak_with(said, voice.trim_start_matches("espeak:")),
            }
            .map_err(|e| anyhow::anyhow!("{voice}: {e}"))?;
            let wide = resample_all(&speech.samples, speech.rate, 16_000)?;
            let mut audio = vec![0.0; 4_800];
            audio.extend(phone_band(&wide)?);
            audio.extend(vec![0.0; 4_800]);
            out.push(Item { kind: *kind, said, want: want.clone(), voice, audio });
        }
    }
    Ok(out)
}

/// What the dialogue reads from the text, as the label's format.
fn read(kind: Kind, text: &str, today: NaiveDate) -> Option<String> {
    match kind {
        Kind::Date => entities::date(text, today).map(|d| d.to_string()),
        Kind::OrderNumber => entities::order_number(text),
        Kind::Pin => entities::pin(text),
    }
}

#[derive(Default, Clone, Copy)]
struct Score {
    right: usize,
    total: usize,
}

fn cell(s: Score) -> String {
    format!("{}/{} {:.0}%", s.right, s.total, 100.0 * s.right as f64 / s.total.max(1) as f64)
}

/// How an answer is decoded: no prompt, the kind's prompt, with the prompts a call uses
/// ([`expect::prompt_for`]), or as a call does (those prompts, and a whole answer re-read held
/// to its form, [`expect::form_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decode {
    Plain,
    Prompt,
    Prompted,
    AsACall,
}

/// One decoded answer: its kind, whether the dialogue read it right, and the recogniser's
/// confidence ([`crate::pipeline::asr::confidence`]).
struct Heard {
    kind: Kind,
    right: bool,
    confidence: f32,
    ms: u64,
}

/// Run the evaluation with the engines given (name, engine) and print the tables, one per set;
/// then, for the first engine decoding as a call does, what reading back answers below a
/// confidence would catch and cost.
pub fn run(engines: Vec<(String, Arc<Engine>)>, manifest: &Manifest, verbose: bool) -> anyhow::Result<()> {
    let today = NaiveDate::from_ymd_opt(2026, 12, 5).expect("valid");
    for set in SETS {
        let items = items(manifest, set)?;
        println!(
            "{}: {} spoken answers ({} voices, 8 kHz mu-law), read with the dialogue's parsers, right / total",
            set.name,
            items.len(),
            set.voices.len()
        );
        println!(
            "{:<34} {:>14} {:>14} {:>14} {:>14} {:>8}",
            "decode", "date of birth", "order number", "PIN", "all", "ms/ans"
        );
        let mut as_deployed: Option<(String, Vec<Heard>)> = None;
        let mut unheld: Option<(String, Vec<Heard>)> = None;
        for (e, (name, engine)) in engines.iter().enumerate() {
            // The decodes a call makes only for the first (the default) model.
            let decodes: &[Decode] = if e == 0 {
                &[Decode::Plain, Decode::Prompt, Decode::Prompted, Decode::AsACall]
            } else {
                &[Decode::Plain, Decode::Prompt]
            };
            for &decode in decodes {
                let heard = decode_all(name, engine, &items, decode, today, verbose)?;
                let score = |of: &dyn Fn(&Heard) -> bool| {
                    let mine: Vec<&Heard> = heard.iter().filter(|h| of(h)).collect();
                    Score { right: mine.iter().filter(|h| h.right).count(), total: mine.len() }
                };
                let label = match decode {
                    Decode::Plain => name.clone(),
                    Decode::Prompt => format!("{name} + prompt"),
                    Decode::Prompted => format!("{name} + a call's prompts"),
                    Decode::AsACall => format!("{name} as a call decodes (+ form)"),
                };
                let ms = heard.iter().map(|h| h.ms).sum::<u64>() / heard.len().max(1) as u64;
                println!(
                    "{label:<34} {:>14} {:>14} {:>14} {:>14} {:>8}",
                    cell(score(&|h| h.kind == Kind::Date)),
                    cell(score(&|h| h.kind == Kind::OrderNumber)),
                    cell(score(&|h| h.kind == Kind::Pin)),
                    cell(score(&|_| true)),
                    ms
                );
                match decode {
                    Decode::AsACall => as_deployed = Some((label, heard)),
                    Decode::Prompted => unheld = Some((label, heard)),
                    _ => {}
                }
            }
        }
        if let Some((label, heard)) = as_deployed {
            read_back_table(&label, &heard);
        }
        // The same check without the re-read held to the form, for comparison.
        if let Some((label, heard)) = unheld {
            let wrong = heard.iter().filter(|h| !h.right).count();
            let caught = heard.iter().filter(|h| !h.right && h.confidence < expect::READ_BACK_BELOW).count();
            let asked = heard.iter().filter(|h| h.right && h.confidence < expect::READ_BACK_BELOW).count();
            println!(
                "  without the form ({label}), at the default: {caught}/{wrong} wrong caught, {asked}/{} right asked again, {}/{} wrong through",
                heard.len() - wrong,
                wrong - caught,
                heard.len()
            );
        }
        println!();
    }
    Ok(())
}

/// Decode every answer one way and score it.
fn decode_all(
    name: &str,
    engine: &Engine,
    items: &[Item],
    decode: Decode,
    today: NaiveDate,
    verbose: bool,
) -> anyhow::Result<Vec<Heard>> {
    let mut heard = Vec::new();
    for item in items {
        let prompt = match decode {
            Decode::Plain => "",
            Decode::Prompt => expect::prompt(item.kind),
            Decode::Prompted | Decode::AsACall => expect::prompt_for(item.kind).unwrap_or(""),
        };
        let form = if decode == Decode::AsACall { expect::form_for(item.kind, today) } else { None };
        let hyp = engine.decode_answer(item.audio.clone(), prompt, form, 0)?;
        let got = read(item.kind, &hyp.text, today);
        let right = got.as_deref() == Some(item.want.as_str());
        let confidence = hyp.confidence().unwrap_or(0.0);
        if verbose && (!right || hyp.held.as_ref().is_some_and(|h| !h.agreed)) {
            let held = match &hyp.held {
                Some(h) => {
                    format!(" (free decode {:?}, {})", h.free_text, if h.agreed { "agreed" } else { "disagreed" })
                }
                None => String::new(),
            };
            eprintln!(
                "  {name} {decode:?} {} {:?}: heard {:?}{held} (confidence {confidence:.2}) -> {got:?}{}",
                item.voice,
                item.said,
                hyp.text,
                if right { " right" } else { "" }
            );
        }
        heard.push(Heard { kind: item.kind, right, confidence, ms: hyp.decode_ms });
    }
    Ok(heard)
}

/// What checking answers below a confidence with the caller would do: wrong answers caught
/// (read back, or a PIN keyed instead) and right answers asked about needlessly, per threshold.
fn read_back_table(label: &str, heard: &[Heard]) {
    println!();
    println!("Checking an answer with the caller when the recogniser's confidence is below a threshold ({label}):");
    println!(
        "{:<10} {:>22} {:>22} {:>22}",
        "below", "wrong answers caught", "right answers asked", "wrong answers through"
    );
    for threshold in [0.0f32, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] {
        let wrong = heard.iter().filter(|h| !h.right).count();
        let right = heard.len() - wrong;
        let caught = heard.iter().filter(|h| !h.right && h.confidence < threshold).count();
        let asked = heard.iter().filter(|h| h.right && h.confidence < threshold).count();
        let marker = if (threshold - expect::READ_BACK_BELOW).abs() < 1e-6 { " (default)" } else { "" };
        println!(
            "{:<10} {:>22} {:>22} {:>22}",
            format!("{threshold:.1}{marker}"),
            format!("{caught}/{wrong}"),
            format!("{asked}/{right}"),
            format!("{}/{}", wrong - caught, heard.len())
        );
    }
    for kind in [Kind::Date, Kind::Pin] {
        let of: Vec<&Heard> = heard.iter().filter(|h| h.kind == kind).collect();
        let wrong = of.iter().filter(|h| !h.right).count();
        let caught = of.iter().filter(|h| !h.right && h.confidence < expect::READ_BACK_BELOW).count();
        let asked = of.iter().filter(|h| h.right && h.confidence < expect::READ_BACK_BELOW).count();
        println!(
            "  {:<14} at the default: {caught}/{wrong} wrong caught, {asked}/{} right asked again",
            format!("{kind:?}:"),
            of.len() - wrong
        );
    }
}
