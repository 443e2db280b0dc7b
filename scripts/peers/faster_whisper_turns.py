"""Transcribe the turns `switchboard bench peers --export DIR` wrote with faster-whisper (int8,
greedy, one CPU thread, no VAD, no context: what the project's Whisper decode does) and print
one JSON line per turn: file, text, cpu_s (process CPU time, all threads), wall_s.

Usage: python faster_whisper_turns.py MODEL_DIR TURNS_DIR > results.jsonl
"""

import csv
import json
import sys
import time

from faster_whisper import WhisperModel


def main() -> None:
    model_dir, turns_dir = sys.argv[1], sys.argv[2]
    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=1, num_workers=1)
    with open(f"{turns_dir}/turns.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        sys.exit(f"no turns in {turns_dir}/turns.tsv")
    options = dict(
        language="en",
        beam_size=1,
        temperature=0.0,
        condition_on_previous_text=False,
        without_timestamps=True,
        vad_filter=False,
    )

    def transcribe(path: str) -> str:
        segments, _ = model.transcribe(path, **options)
        return " ".join(s.text.strip() for s in segments)  # the generator does the work

    transcribe(f"{turns_dir}/{rows[0]['file']}")  # warm-up, not counted
    for i, row in enumerate(rows):
        path = f"{turns_dir}/{row['file']}"
        cpu0, wall0 = time.process_time(), time.perf_counter()
        text = transcribe(path)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        print(json.dumps({"file": row["file"], "text": text, "cpu_s": cpu, "wall_s": wall}), flush=True)
        print(f"  faster-whisper {i + 1}/{len(rows)}: {cpu * 1000:.0f} ms CPU", file=sys.stderr)


if __name__ == "__main__":
    main()
