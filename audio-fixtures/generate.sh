#!/usr/bin/env bash
# Generates Switchboard's own speech fixtures with espeak-ng and sox (no third-party recordings).
# Output: <name>.wav at 16 kHz and <name>_8k.wav at 8 kHz (telephone band), mono 16-bit,
# plus labels.tsv (file, language, transcript) in the layout `switchboard eval` reads.
# Usage: audio-fixtures/generate.sh   (idempotent; rewrites the files)
set -euo pipefail
cd "$(dirname "$0")"
command -v espeak-ng >/dev/null || { echo "espeak-ng is missing: apt-get install -y espeak-ng" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox is missing: apt-get install -y sox" >&2; exit 1; }

# name | espeak voice | words per minute | language | text
phrases=$(cat <<'LIST'
order_status|en-us|150|en|Hello, I am calling about my order. The order number is four five six seven eight.
refund|en-us|150|en|I would like to return the shoes and get a refund please.
payment_due|en-gb-x-rp|145|en|When is my next payment due, and how much do I owe?
change_address|en-us|150|en|Can you change the delivery address to twelve Baker Street?
agent_please|en-us|160|en|This is not working. Let me speak to a person right now.
digits|en-us|130|en|My account number is three one four one five nine.
german|de|140|de|Guten Tag, ich möchte wissen, wo meine Bestellung ist.
spanish|es|140|es|Buenos días, quiero saber dónde está mi pedido.
french|fr|140|fr|Bonjour, je voudrais savoir où est ma commande.
swedish|sv|140|sv|Hej, jag vill veta var min beställning är.
LIST
)

printf 'filename\tlanguage\ttranscript\n' > labels.tsv
printf 'filename\tlanguage\ttranscript\n' > labels_8k.tsv
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
while IFS='|' read -r name voice wpm lang text; do
  [ -n "$name" ] || continue
  espeak-ng -v "$voice" -s "$wpm" -w "$tmp/raw.wav" "$text"
  # Half a second of silence around the speech, as a caller pauses before and after.
  sox "$tmp/raw.wav" -r 16000 -c 1 -b 16 "$name.wav" pad 0.5 0.8 norm -3
  sox "$name.wav" -r 8000 -c 1 -b 16 "${name}_8k.wav"
  printf '%s\t%s\t%s\n' "$name.wav" "$lang" "$text" >> labels.tsv
  printf '%s\t%s\t%s\n' "${name}_8k.wav" "$lang" "$text" >> labels_8k.tsv
done <<< "$phrases"

# A two-turn call: order question, pause, then the account number.
sox order_status.wav digits.wav two_turns.wav
sox two_turns.wav -r 8000 two_turns_8k.wav
# The server's built-in greeting (embedded in the binary), 16 kHz.
espeak-ng -v en-us -s 155 -w "$tmp/greet.wav" "Thank you for calling. How can we help you today?"
sox "$tmp/greet.wav" -r 16000 -c 1 -b 16 greeting.wav pad 0.2 0.2 norm -6
# The same complaint said calmly, then angrily (faster, higher, louder), for the caller-state
# analysis; calm_then_angry.wav is a two-turn call of the two.
complaint="I have been waiting for my refund for three weeks and nobody has called me back."
espeak-ng -v en-us -s 140 -p 40 -a 70 -w "$tmp/calm.wav" "$complaint"
espeak-ng -v en-us -s 205 -p 80 -a 200 -w "$tmp/angry.wav" "$complaint"
sox "$tmp/calm.wav" -r 16000 -c 1 -b 16 calm.wav pad 0.5 0.8
sox "$tmp/angry.wav" -r 16000 -c 1 -b 16 angry.wav pad 0.5 0.8
sox calm.wav angry.wav calm_then_angry.wav
# A caller who starts in English and goes on in German for two turns (a language switch).
espeak-ng -v de -s 140 -w "$tmp/de2.wav" "Die Bestellnummer ist vier fünf sechs. Können Sie das bitte prüfen?"
sox "$tmp/de2.wav" -r 16000 -c 1 -b 16 "$tmp/de2_16k.wav" pad 0.5 0.8 norm -3
sox order_status.wav german.wav "$tmp/de2_16k.wav" english_then_german.wav
# Music on the line (a plucked melody, no speech): no confident language or caller state.
notes=(A3 C4 E4 A4 G4 E4 C4 D4 F4 A4 G4 E4)
for i in "${!notes[@]}"; do
  sox -q -n -r 16000 -c 1 -b 16 "$tmp/note_$(printf %02d "$i").wav" synth 0.35 pluck "${notes[$i]}" vol 0.5
done
sox -q "$tmp"/note_*.wav music.wav pad 0.3 0.5
# Noise only (no speech): the pipeline must stay silent.
sox -n -r 16000 -c 1 -b 16 noise.wav synth 3 pinknoise vol 0.05
echo "fixtures written to $(pwd)"
