"""Language benchmark (issue 10): phrase families on text and spoken, cost per segment, built heated calls.

    .venv/bin/python -m benchmarks.language                  # text P/R (dev and test) and cost
    .venv/bin/python -m benchmarks.language --spoken 60      # + 60 test sentences spoken by espeak-ng, Whisper tiny.en
    .venv/bin/python -m benchmarks.language --spoken 218 --synth flite   # all 218 spoken by flite instead
    .venv/bin/python -m benchmarks.language --calls          # + the built heated calls through analyze_file
    .venv/bin/python -m benchmarks.language --calls --line pcm16k   # ... over a line: leak, noise floor, hum
    .venv/bin/python -m benchmarks.language --by-writer      # + each training writer held out whole (no test sentence)
    .venv/bin/python -m benchmarks.language --json out.json

The labelled set is poise/language/data/phrases.tsv: hand-written, hand-labelled sentences; the
rules were tuned on `dev` only, `test` is reported. Targets: per family P >= 0.9, R >= 0.85 on
text, spoken within 5 points. The spoken part speaks each sentence with espeak-ng (agent and
caller voices differ), transcribes it with the bundled model and classifies Whisper's text.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import soundfile as sf
import soxr

from poise.language.classifier import Example, load_examples
from poise.language.phrases import FAMILIES, classify, normalize

DATA = Path(__file__).resolve().parents[1] / "poise" / "language" / "data" / "phrases.tsv"
SR = 16_000
ESPEAK_SR = 22_050  # espeak-ng writes 22.05 kHz mono
VOICES = {  # espeak-ng voice, words per minute, pitch 0-99, amplitude 0-200
    "agent": ("en-us", 160, 45, 100),
    "caller": ("en-gb+f3", 165, 55, 100),
}
HEATED_VOICE = ("en-gb+f3", 185, 80, 170)  # the caller raised: faster, higher, louder
FLITE_VOICES = {"agent": "slt", "caller": "awb"}  # flite's US female and Scottish male voices: a second synthesiser,
#   closer to a human voice than espeak-ng's formants (Whisper mishears espeak's "calm" as "come")
SPOKEN_WORKERS = 2  # processes speaking and transcribing sentences (one Whisper thread each)
TURN_GAP_S = 0.7  # s of silence between turns (a normal handover)
LEAD_S = 0.5  # s of silence before the first turn


Row = Example  # one labelled sentence (poise/language/classifier.py reads the file for the model too)


def load_rows(path: Path = DATA) -> list[Row]:
    """The labelled sentences (comment lines and the header skipped)."""
    return load_examples(path)


@dataclass
class FamilyScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass
class Scores:
    families: dict[str, FamilyScore] = field(default_factory=lambda: {f: FamilyScore() for f in FAMILIES})
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (FP/FN, family, text)

    def add(self, truth: frozenset[str], got: set[str], text: str) -> None:
        for f in FAMILIES:
            s = self.families[f]
            if f in truth and f in got:
                s.tp += 1
            elif f in got:
                s.fp += 1
                self.errors.append(("FP", f, text))
            elif f in truth:
                s.fn += 1
                self.errors.append(("FN", f, text))

    def table(self) -> dict[str, dict[str, Any]]:
        return {f: {"precision": _r(s.precision), "recall": _r(s.recall), "tp": s.tp, "fp": s.fp, "fn": s.fn}
                for f, s in self.families.items()}


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def score_text(rows: list[Row], use_model: bool = True) -> Scores:
    """Per-family precision and recall of the rules (and the model) on the rows' own text."""
    scores = Scores()
    for row in rows:
        scores.add(row.labels, {m.family for m in classify(row.text, row.role, use_model)}, row.text)
    return scores


def cost_per_segment_ms(rows: list[Row], repeats: int = 3) -> dict[str, float]:
    """Milliseconds to classify one sentence: median and worst over the set, best of `repeats`."""
    per: list[float] = []
    for row in rows:
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            classify(row.text, row.role)
            best = min(best, time.perf_counter() - t0)
        per.append(best * 1000)
    return {"median_ms": round(float(np.median(per)), 3), "max_ms": round(float(np.max(per)), 3), "n": len(per)}


def _synthesise(command: list[str]) -> np.ndarray:
    """Run a synthesiser `command` whose last argument is the WAV it writes; its audio, float32 mono at 16 kHz."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "s.wav"
        subprocess.run([*command, str(out)], check=True, capture_output=True)
        x, sr = sf.read(str(out), dtype="float32")
    return soxr.resample(x, sr, SR).astype(np.float32)


def speak(text: str, voice: tuple[str, int, int, int]) -> np.ndarray:
    """`text` spoken by espeak-ng, float32 mono at 16 kHz."""
    name, wpm, pitch, amplitude = voice
    return _synthesise(["espeak-ng", "-v", name, "-s", str(wpm), "-p", str(pitch), "-a", str(amplitude), text, "-w"])


def speak_flite(text: str, voice: str) -> np.ndarray:
    """`text` spoken by flite with one of its built-in voices, float32 mono at 16 kHz."""
    return _synthesise(["flite", "-voice", voice, "-t", text, "-o"])


def score_spoken(rows: list[Row], synth: str = "espeak", workers: int = SPOKEN_WORKERS) -> tuple[Scores, Scores, list[dict[str, str]]]:
    """The rows spoken (by espeak-ng or flite, the test voices) and transcribed: (scores on Whisper's text, scores
    on the same rows' text, transcripts)."""
    voices = VOICES if synth == "espeak" else FLITE_VOICES
    spoken, text = Scores(), Scores()
    heard = []
    for row, words in zip(rows, hear_all([(row.text, row.role, synth, voices[row.role]) for row in rows], workers)):
        spoken.add(row.labels, {m.family for m in classify(words, row.role)}, f"{row.text} -> {words}")
        text.add(row.labels, {m.family for m in classify(row.text, row.role)}, row.text)
        heard.append({"text": row.text, "heard": words})
    return spoken, text, heard


_HEAR_MODEL: Any = None  # a worker's Whisper model (hear_all)


def _hear_init() -> None:
    global _HEAR_MODEL
    from poise.audio.transcribe import load_model

    _HEAR_MODEL = load_model(None, cpu_threads=1)


def _hear_one(job: tuple[str, str, str, Any]) -> str:
    """What the bundled model heard of (text, role, synthesiser, voice) spoken, as a recording's channel is
    transcribed but in 30 s windows one after the other (`batched=False`)."""
    from poise.audio.transcribe import transcribe_batch

    text, role, synth, voice = job
    spoken = speak(text, voice) if synth == "espeak" else speak_flite(text, voice)
    audio = np.concatenate([np.zeros(SR // 4, np.float32), spoken, np.zeros(SR // 2, np.float32)])
    segments = transcribe_batch(_HEAR_MODEL, audio, role, batched=False)  # type: ignore[arg-type]
    return " ".join(s.text.strip() for s in segments)


def hear_all(jobs: list[tuple[str, str, str, Any]], workers: int = SPOKEN_WORKERS) -> Iterator[str]:
    """What the bundled model heard of each (text, role, synthesiser, voice), in order, on `workers` processes
    with one Whisper thread each."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers, initializer=_hear_init) as pool:
        yield from pool.imap(_hear_one, jobs, chunksize=8)


def _words(text: str) -> list[str]:
    """The normalised words of a sentence, punctuation left out (what the recogniser reads, less its marks)."""
    return re.sub(r"[.,;:!?]", " ", normalize(text)).split()


def explain_spoken(rows: list[Row], heard: list[dict[str, str]]) -> dict[str, Any]:
    """Why spoken scores differ from text: each spoken miss or false find that the text got right, with its cause.

    Causes: "misheard" (Whisper's words differ from the sentence's), "punctuation" (only its marks differ),
    "recogniser" (the same words and marks, yet a different result: cannot happen, the rules are
    deterministic; counted as a check). Also the share of sentences whose words Whisper got exactly.
    """
    misses: list[dict[str, str]] = []
    intact = 0
    for row, h in zip(rows, heard):
        words_same = _words(row.text) == _words(h["heard"])
        intact += words_same
        on_text = {m.family for m in classify(row.text, row.role)}
        on_speech = {m.family for m in classify(h["heard"], row.role)}
        for family in sorted(on_text ^ on_speech):
            text_right = (family in on_text) == (family in row.labels)
            if not text_right:
                continue  # the text was wrong already: not the speech's doing
            cause = "punctuation" if words_same and normalize(row.text) != normalize(h["heard"]) else (
                "recogniser" if words_same else "misheard")
            misses.append({"kind": "FN" if family in row.labels else "FP", "family": family, "cause": cause,
                           "text": row.text, "heard": h["heard"], "blind": row.blind})
    causes = {c: sum(m["cause"] == c for m in misses) for c in ("misheard", "punctuation", "recogniser")}
    return {"sentences": len(rows), "words_intact": intact, "misses": misses, "causes": causes}


# --------------------------------------------------------------------------- built calls

# (role, text, heated): the caller's first turns are calm (their own normal), then they heat up.
OPENING = [
    ("caller", "Hi, I'm calling about my internet connection at home.", False),
    ("agent", "Thank you for calling. Can I take your account number, please?", False),
    ("caller", "Yes, it's four seven two nine one, under the name Patel.", False),
    ("agent", "Thanks. I can see the account here. What seems to be the problem?", False),
    ("caller", "The connection keeps dropping in the evening, every evening this week.", False),
    ("agent", "Okay, let me have a look at the line for you.", False),
]
HEATED = [
    ("caller", "This is ridiculous! I have called five times and it is still not fixed. This is completely unacceptable!", True),
]
SCRIPTS: dict[str, list[tuple[str, str, bool]]] = {
    # the agent answers the heat with "calm down": avoid_defensive, expected after the agent's turn
    "calm_down": OPENING + HEATED + [
        ("agent", "Sir, you need to calm down.", False),
        ("caller", "Don't tell me what to do. I want this fixed today.", True),
        ("agent", "The engineer can look at the line on the system.", False),
    ],
    # the agent never acknowledges: acknowledge, expected after the agent's first turn in the heat
    "no_acknowledgement": OPENING + HEATED + [
        ("agent", "Can you tell me the postcode of the address?", False),
        ("caller", "It's C B two one. Why does nobody ever call me back?", True),
        ("agent", "The engineer can look at the line on the system.", False),
    ],
    # the agent acknowledges and states a next step: no language cue expected
    "acknowledged": OPENING + HEATED + [
        ("agent", "I'm so sorry, that sounds really frustrating.", False),
        ("caller", "It is. I just want it working.", False),
        ("agent", "I'll book an engineer for tomorrow morning, and I'll call you by five to confirm.", False),
    ],
    # the caller turns abusive: set_boundary, expected after the abusive turn; the agent then sets one
    "abusive": OPENING + [
        ("caller", "This is a joke. You are completely incompetent! Shut up and listen to me!", True),  # insults Whisper hears from espeak ("you're an idiot" became "you're ready to eat")
        ("agent", "I'm sorry about the connection. I want to help, and I need us to keep this respectful.", False),
        ("caller", "Fine. Just get it fixed.", False),
        ("agent", "I'll book an engineer for tomorrow morning.", False),
    ],
    # acknowledged, but the call winds down with no step stated: next_steps, expected after the closing turn
    "no_next_step": OPENING + HEATED + [
        ("agent", "I'm so sorry, that sounds really frustrating.", False),
        ("caller", "It is. I just want it working.", False),
        # "Is there anything else I can help you with today?" over the 16 kHz line was heard as "There's nothing else
        #   I can help you with today." (a defensive phrase) and over mu-law as "In the round of being else"
        ("agent", "I understand. Can I help you with anything else today?", False),
    ],
    # short, for the live (real-time) replay: a heated caller, then "calm down"
    "short_calm_down": [
        ("caller", "Hi, I'm calling about my broadband.", False),
        ("caller", "This is ridiculous! It is still not fixed. This is completely unacceptable!", True),
        ("agent", "You need to calm down.", False),  # Whisper hears espeak's "calm" as "come"; "Sir, you need to..." became "come town"
    ],
}
EXPECTED = {"calm_down": "avoid_defensive", "no_acknowledgement": "acknowledge", "acknowledged": None, "short_calm_down": "avoid_defensive",
            "abusive": "set_boundary", "no_next_step": "next_steps"}
EXPECTED_AFTER_TURN = {"calm_down": 7, "no_acknowledgement": 7, "acknowledged": None, "short_calm_down": 2,
                       "abusive": 6, "no_next_step": 9}  # index of the turn whose end starts the clock


@dataclass
class BuiltCall:
    name: str
    path: Path
    turns: list[tuple[str, str, float, float]]  # (role, text, start s, end s)
    expected: str | None
    clock_from: float | None  # s: end of the turn the cue answers
    answer_from: float | None = None  # s: start of that turn (a cue may answer its first sentence before the turn ends)


def build_call(name: str, folder: Path, line: str | None = None) -> BuiltCall:
    """A stereo WAV (agent left) of the script `name`, spoken by espeak-ng: clean 16 kHz PCM, or with
    `line` as a phone line carries it (each side leaking into the other, a noise floor and hum:
    benchmarks/situations.realistic_line), written as `line` ("pcm16k", or "ulaw8k": G.711 at 8 kHz)."""
    script = SCRIPTS[name]
    pieces = {"agent": [], "caller": []}
    t = LEAD_S
    turns = []
    for role, text, heated in script:
        voice = HEATED_VOICE if heated else VOICES[role]
        x = speak(text, voice)
        pieces[role].append((int(t * SR), x))
        turns.append((role, text, round(t, 3), round(t + len(x) / SR, 3)))
        t += len(x) / SR + TURN_GAP_S
    n = int((t + 3.0) * SR)
    stereo = np.zeros((n, 2), np.float32)
    for ch, role in enumerate(("agent", "caller")):
        for start, x in pieces[role]:
            stereo[start : start + len(x), ch] += x * 0.5
    if line:
        from benchmarks.situations import realistic_line, write_call

        agent, caller = realistic_line(stereo[:, 0], stereo[:, 1])
        path = write_call(folder / f"heated_{name}_line_{line}.wav", agent, caller, line)
    else:
        path = folder / f"heated_{name}.wav"
        sf.write(str(path), stereo, SR, subtype="PCM_16")
    after = EXPECTED_AFTER_TURN[name]
    return BuiltCall(name, path, turns, EXPECTED[name], turns[after][3] if after is not None else None,
                     turns[after][2] if after is not None else None)


def judge_call(call: BuiltCall, cues: list[dict[str, Any]]) -> dict[str, Any]:
    """The language cues of a built call against what it should give: kind, and latency from the words' end."""
    language = [c for c in cues if c["kind"] in ("acknowledge", "avoid_defensive", "set_boundary", "next_steps")]
    out: dict[str, Any] = {"call": call.name, "expected": call.expected, "language_cues": language}
    if call.expected is None:
        out["ok"] = not language
        return out
    # a cue answers the turn once that turn has begun: "You're incompetent. Shut up and listen to me!" earns
    # its boundary from the first sentence, before the turn ends (its latency is then negative)
    since = call.answer_from if call.answer_from is not None else (call.clock_from or 0) - 0.5
    hits = [c for c in language if c["kind"] == call.expected and c["t"] >= since]
    out["latency_s"] = round(hits[0]["t"] - call.clock_from, 2) if hits and call.clock_from is not None else None
    out["ok"] = bool(hits) and out["latency_s"] is not None and out["latency_s"] <= 3.0
    return out


# the model alone reports a family only when it is more likely than not: the labelled set is 60 % families, a
#   call's talk mostly none, so a threshold under 0.5 that cross-validation allows here fires on everyday talk
THRESHOLD_GRID = tuple(round(float(x), 2) for x in np.arange(0.5, 0.96, 0.05))
CV_FOLDS = 5
CV_MIN_PRECISION = 0.95  # rules-or-model precision a family's threshold must keep on held-out training folds


def everyday_sentences(speech: Path) -> list[str]:
    """Sentences of the real recordings' transcripts in ../shared/speech (meetings, a phone call, read speech):
    talk with no family in it, none of it from the calls the language cues are judged on."""
    from poise.language.phrases import _split_sentences

    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(speech.glob("*.txt")))
    text = re.sub(r"\[[^\]]*\]", " ", text)  # "[channel 0 / left]"
    return [s for s in _split_sentences(normalize(text)) if len(s.split()) >= 2]


def training_writers(path: Path = DATA) -> list[str]:
    """Per labelled sentence (in load order): the letter of the training batch it belongs to (each written by one
    writer who had read only the guide), or "" for the rest (the team's sentences, the blind batches)."""
    tags, batch = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            m = re.search(r"training batch (\w)\b", line)
            batch = m.group(1) if m else ""
        elif line.strip() and not line.startswith("split\t"):
            tags.append(batch)
    return tags


def score_by_writer(rows: list[Row], tags: list[str]) -> dict[str, Any]:
    """Leave one writer out: for each training batch, `classify` (rules and model, exactly as shipped) with the
    model learned from every other learned sentence, on that batch, summed over batches. Random folds put a
    writer's sentences on both sides; a writer held out whole is what a new caller or agent is. No test
    sentence is used."""
    from poise.language import classifier as C

    learned = [(r, t) for r, t in zip(rows, tags, strict=True) if r.split != "test"]
    scores = Scores()
    bundled = C.model
    try:
        for writer in sorted({t for _, t in learned if t}):
            held_out = C.train([r for r, t in learned if t != writer])
            C.model = lambda held_out=held_out: held_out  # type: ignore[assignment]  # what classify() consults
            for r, t in learned:
                if t == writer:
                    scores.add(r.labels, {m.family for m in classify(r.text, r.role)}, r.text)
    finally:
        C.model = bundled  # type: ignore[assignment]
    return scores.table()


def fit_thresholds(rows: list[Row], folds: int = CV_FOLDS, min_precision: float = CV_MIN_PRECISION,
                   everyday: list[str] | None = None) -> dict[str, Any]:
    """The classifier's per-family thresholds by cross-validation on the sentences it learns from (never `test`):
    each fold is predicted by a model trained on the others (fold = crc32 of the text), and a family's threshold
    is the lowest on THRESHOLD_GRID at which the rules or the model keep `min_precision`, or the rules' own
    precision there where that is lower: the model adds findings, never at the price of precision (none: the
    model is off for that family, 1.01). With `everyday` sentences (said by either role), the threshold is also
    raised past the model's highest probability on any of them: the labelled set is 60 % families, real talk
    mostly none, and a caller's "this is diane in new jersey." read 0.92 hostile at the fitted 0.6."""
    from poise.language.classifier import train
    from poise.language.phrases import ROLE_FAMILIES, families

    learn = [r for r in rows if r.split != "test"]
    fold = [zlib.crc32(r.text.encode()) % folds for r in learn]
    probs: list[dict[str, float]] = [{}] * len(learn)
    for k in range(folds):
        model = train([r for r, f in zip(learn, fold) if f != k])
        for i, r in enumerate(learn):
            if fold[i] == k:
                probs[i] = model.probabilities(r.text, r.role)
    rules = [families(r.text, r.role, use_model=False) for r in learn]
    out: dict[str, Any] = {}
    # the model of all the training sentences, read once on each everyday sentence (with the rules' findings there)
    full = train(learn) if everyday else None
    everyday_read = [(role, full.probabilities(text, role), families(text, role, use_model=False))
                     for text in everyday or () for role in ("agent", "caller")] if full else []
    for family in FAMILIES:
        idx = [i for i, r in enumerate(learn) if family in ROLE_FAMILIES[r.role]]
        by_rules = [i for i in idx if family in rules[i]]
        rules_precision = sum(family in learn[i].labels for i in by_rules) / len(by_rules) if by_rules else 1.0
        bar = min(min_precision, rules_precision)
        chosen, table = 1.01, []
        for th in THRESHOLD_GRID:
            pred = [family in rules[i] or probs[i][family] >= th for i in idx]
            truth = [family in learn[i].labels for i in idx]
            tp = sum(p and t for p, t in zip(pred, truth))
            fp = sum(p and not t for p, t in zip(pred, truth))
            fn = sum(t and not p for p, t in zip(pred, truth))
            precision = tp / (tp + fp) if tp + fp else 1.0
            table.append((th, round(precision, 3), round(tp / max(1, tp + fn), 3)))
            if precision >= bar and chosen > 1.0:
                chosen = th
        everyday_max = max((probs_e[family] for role, probs_e, found in everyday_read
                            if family in ROLE_FAMILIES[role] and family not in found), default=0.0)
        while chosen <= everyday_max and chosen <= 1.0:
            chosen = round(chosen + 0.05, 2)
        out[family] = {"threshold": min(chosen, 1.01), "rules_precision": round(rules_precision, 3),
                       "everyday_max": round(everyday_max, 3), "grid": table}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spoken", type=int, default=0, help="speak this many test sentences (0: text only)")
    ap.add_argument("--offset", type=int, default=0,
                    help="start the spoken subset at this test sentence (1 or 2: the sentences offset 0 never speaks, "
                         "for rules tuned on offset 0's mishearings)")
    ap.add_argument("--synth", choices=("espeak", "flite"), default="espeak", help="the synthesiser that speaks them")
    ap.add_argument("--calls", action="store_true", help="run the built heated calls through analyze_file")
    ap.add_argument("--line", choices=("pcm16k", "ulaw8k"), help="build the calls as a line carries them (leak, floor, hum)")
    ap.add_argument("--fit-thresholds", action="store_true",
                    help="choose the classifier's per-family thresholds by cross-validation (prints THRESHOLDS)")
    ap.add_argument("--by-writer", action="store_true",
                    help="also score each training writer's batch with a model learned without it (no test sentence)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = load_rows()
    if args.fit_thresholds:
        from benchmarks.accuracy import speech_dir_or_exit

        fitted = fit_thresholds(rows, everyday=everyday_sentences(speech_dir_or_exit()))
        for f, v in fitted.items():
            print(f"  {f:12s} threshold {v['threshold']}  (threshold, precision, recall): {v['grid']}")
        print("THRESHOLDS = " + repr({f: v["threshold"] for f, v in fitted.items()}))
        return
    report: dict[str, Any] = {"sentences": len(rows)}
    parts = {"dev": [r for r in rows if r.split == "dev"], "train": [r for r in rows if r.split == "train"],
             "test": [r for r in rows if r.split == "test"]}
    for batch in sorted({r.blind for r in rows if r.blind and r.split == "test"}):
        parts[f"test_blind_{batch}"] = [r for r in rows if r.split == "test" and r.blind == batch]
    for name, part in parts.items():
        for use_model, prefix in ((True, "text"), (False, "rules")):
            s = score_text(part, use_model)
            report[f"{prefix}_{name}"] = s.table()
            print(f"\n{name}: {len(part)} sentences, {'rules and model' if use_model else 'rules alone'}")
            for f, v in s.table().items():
                print(f"  {f:12s} P={v['precision']}  R={v['recall']}  (tp {v['tp']}, fp {v['fp']}, fn {v['fn']})")
    if args.by_writer:
        report["by_writer"] = score_by_writer(rows, training_writers())
        print("\ntraining batches, each judged by a model learned without its writer:")
        for f, v in report["by_writer"].items():
            print(f"  {f:12s} P={v['precision']}  R={v['recall']}  (tp {v['tp']}, fp {v['fp']}, fn {v['fn']})")
    report["cost"] = cost_per_segment_ms(rows)
    print(f"\ncost per segment: {report['cost']}")
    if args.spoken:
        test = [r for r in rows if r.split == "test"]
        step = max(1, len(test) // args.spoken)
        subset = test[args.offset :: step][: args.spoken]
        spoken, text, heard = score_spoken(subset, args.synth)
        report["spoken_subset"] = {"n": len(subset), "offset": args.offset, "synth": args.synth, "spoken": spoken.table(),
                                   "text": text.table(), "heard": [h for r, h in zip(subset, heard) if not r.blind]}
        micro = {k: sum(getattr(s, k) for s in spoken.families.values()) for k in ("tp", "fp", "fn")}
        report["spoken_subset"]["micro"] = {**micro, "recall": _r(micro["tp"] / max(1, micro["tp"] + micro["fn"])),
                                            "precision": _r(micro["tp"] / max(1, micro["tp"] + micro["fp"]))}
        print(f"\nspoken by {args.synth} ({len(subset)} test sentences from {args.offset}): family  text P/R  ->  spoken P/R")
        for f in FAMILIES:
            a, b = text.table()[f], spoken.table()[f]
            print(f"  {f:12s} {a['precision']}/{a['recall']}  ->  {b['precision']}/{b['recall']}")
        print(f"  all families: spoken P={report['spoken_subset']['micro']['precision']} R={report['spoken_subset']['micro']['recall']}")
        why = explain_spoken(subset, heard)
        report["spoken_subset"]["why"] = {**why, "misses": [m for m in why["misses"] if not m["blind"]],
                                          "blind_misses": sum(1 for m in why["misses"] if m["blind"])}  # counted only
        print(f"\nWhisper heard the words of {why['words_intact']} of {why['sentences']} sentences exactly;"
              f" spoken misses the text did not have, by cause: {why['causes']}")
        for m in why["misses"]:  # a blind batch's sentences are scored in aggregate only, never shown one by one
            if not m["blind"]:
                print(f"  {m['kind']} {m['family']} ({m['cause']}): {m['text']!r} -> heard {m['heard']!r}")
        print(f"  ({sum(1 for m in why['misses'] if m['blind'])} misses of blind-batch sentences not shown)")
    if args.calls:
        from poise.audio.analysis import analyze_file
        from poise.audio.report import to_json

        results = []
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("calm_down", "no_acknowledgement", "acknowledged", "abusive", "no_next_step"):
                call = build_call(name, Path(tmp), line=args.line)
                doc = to_json(analyze_file(call.path))
                results.append(judge_call(call, doc["cues"]))
                print(f"\nbuilt call {name}: {results[-1]}")
        report["built_calls"] = results
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
