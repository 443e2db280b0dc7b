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
# Noise only (no speech): the pipeline must stay silent.
sox -n -r 16000 -c 1 -b 16 noise.wav synth 3 pinknoise vol 0.05
echo "fixtures written to $(pwd)"
