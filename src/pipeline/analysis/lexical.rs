//! Lexical cues of a caller's state from the transcript, in the languages the fixtures cover
//! (en, de, es, fr, sv): anger and abuse, asking for a human, not understanding, hesitation,
//! repeating an earlier request, and politeness.

use std::collections::HashSet;

/// Cue counts for one turn.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Cues {
    /// Negative, angry or abusive words and phrases.
    pub negative: u32,
    /// Asks for a person / agent / manager.
    pub escalation: u32,
    /// Says they do not understand.
    pub confusion: u32,
    /// Hesitation markers (um, uh, ...).
    pub hesitation: u32,
    /// Thanks and please.
    pub polite: u32,
    /// Share of this turn's content words already said in an earlier turn (0..1).
    pub repetition: f32,
    /// The phrases that matched, for the evidence shown to agents.
    pub matched: Vec<String>,
}

const NEGATIVE: &[&str] = &[
    // en
    "not working",
    "ridiculous",
    "unacceptable",
    "terrible",
    "useless",
    "stupid",
    "angry",
    "furious",
    "annoyed",
    "fed up",
    "sick of",
    "waste of time",
    "worst",
    "never again",
    "damn",
    "hell",
    "what the",
    "sort it out",
    "this is a joke",
    "not good enough",
    "again and again",
    "still not",
    "complaint",
    // de
    "unverschämt",
    "lächerlich",
    "inakzeptabel",
    "funktioniert nicht",
    "verdammt",
    "schrecklich",
    "beschwerde",
    // es
    "inaceptable",
    "ridículo",
    "no funciona",
    "harto",
    "terrible",
    "queja",
    "vergüenza",
    // fr
    "inacceptable",
    "ridicule",
    "ne marche pas",
    "ne fonctionne pas",
    "marre",
    "nul",
    "plainte",
    "scandaleux",
    // sv
    "oacceptabelt",
    "löjligt",
    "fungerar inte",
    "trött på",
    "klagomål",
    "skandal",
];

const ESCALATION: &[&str] = &[
    "speak to a person",
    "talk to a person",
    "speak to a human",
    "talk to a human",
    "real person",
    "speak to someone",
    "talk to someone",
    "an agent",
    "a manager",
    "your supervisor",
    "operator",
    "mit einem menschen",
    "mit einem mitarbeiter",
    "einen mitarbeiter",
    "hablar con una persona",
    "con un agente",
    "parler à quelqu'un",
    "parler à une personne",
    "un conseiller",
    "prata med en människa",
    "prata med någon",
    "en handläggare",
];

const CONFUSION: &[&str] = &[
    "don't understand",
    "do not understand",
    "didn't understand",
    "what do you mean",
    "i'm confused",
    "i am confused",
    "i don't get it",
    "not sure what",
    "what does that mean",
    "can you repeat",
    "say that again",
    "verstehe nicht",
    "wie bitte",
    "no entiendo",
    "qué quiere decir",
    "je ne comprends pas",
    "comment ça",
    "förstår inte",
    "vad menar du",
];

const HESITATION: &[&str] = &["um", "uh", "er", "erm", "hmm", "äh", "ähm", "eh", "euh", "öh", "eeh"];

const POLITE: &[&str] = &[
    "thank you",
    "thanks",
    "please",
    "danke",
    "bitte",
    "gracias",
    "por favor",
    "merci",
    "s'il vous plaît",
    "tack",
    "snälla",
];

const STOP: &[&str] = &[
    "the", "a", "an", "i", "you", "my", "is", "it", "to", "and", "of", "in", "for", "on", "that", "this", "me", "be",
    "am", "are", "was", "have", "has", "do", "with", "can", "what", "about", "your", "we", "so", "just",
];

fn normalise(text: &str) -> String {
    let lower = text.to_lowercase().replace('’', "'");
    let cleaned: String =
        lower.chars().map(|c| if c.is_alphanumeric() || c == '\'' || c.is_whitespace() { c } else { ' ' }).collect();
    format!(" {} ", cleaned.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn count(text: &str, phrases: &[&str], matched: &mut Vec<String>) -> u32 {
    let mut n = 0;
    for p in phrases {
        let needle = format!(" {p} ");
        let k = text.matches(&needle).count() as u32;
        if k > 0 {
            n += k;
            matched.push((*p).to_string());
        }
    }
    n
}

/// Content words of a text (for repetition).
pub fn content_words(text: &str) -> HashSet<String> {
    normalise(text).split_whitespace().filter(|w| w.len() > 2 && !STOP.contains(w)).map(str::to_string).collect()
}

/// Cues of `text`, with `earlier` the content words of the caller's previous turns.
pub fn cues(text: &str, earlier: &HashSet<String>) -> Cues {
    let t = normalise(text);
    let mut matched = Vec::new();
    let negative = count(&t, NEGATIVE, &mut matched) + t.matches('!').count() as u32;
    let escalation = count(&t, ESCALATION, &mut matched);
    let confusion = count(&t, CONFUSION, &mut matched);
    let hesitation = count(&t, HESITATION, &mut matched);
    let polite = count(&t, POLITE, &mut matched);
    let words = content_words(text);
    let repetition = if words.len() < 3 || earlier.is_empty() {
        0.0
    } else {
        words.iter().filter(|w| earlier.contains(*w)).count() as f32 / words.len() as f32
    };
    Cues { negative, escalation, confusion, hesitation, polite, repetition, matched }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cues_in_several_languages() {
        let none = HashSet::new();
        let c = cues("This is not working. Let me speak to a person right now!", &none);
        assert_eq!((c.negative, c.escalation), (1, 1));
        assert!(c.matched.contains(&"speak to a person".to_string()));
        let c = cues("Um, I don't understand what you mean, sorry.", &none);
        assert_eq!((c.confusion, c.hesitation), (1, 1));
        assert_eq!(cues("Das ist unverschämt, ich verstehe nicht.", &none).negative, 1);
        assert_eq!(cues("Je ne comprends pas.", &none).confusion, 1);
        assert_eq!(cues("No entiendo, quiero hablar con una persona.", &none).escalation, 1);
        assert_eq!(cues("Jag förstår inte.", &none).confusion, 1);
        let c = cues("Thank you, that's all, thanks.", &none);
        assert_eq!((c.polite, c.negative), (2, 0));
        // "hell" inside "hello" is not a match.
        assert_eq!(cues("Hello there", &none).negative, 0);
    }

    #[test]
    fn repetition_of_an_earlier_request() {
        let earlier = content_words("Where is my order four five six seven eight?");
        let c = cues("I asked where my order four five six seven eight is", &earlier);
        assert!(c.repetition > 0.6, "{c:?}");
        assert_eq!(cues("Change my address please", &earlier).repetition, 0.0);
    }
}
