"""How well Poise measures speaking rate and pitch, on real read speech with known transcripts.

Run from the repo root:  .venv/bin/python -m benchmarks.accuracy

- Speaking rate: reference wpm = words of the known transcript / speech span (an energy-and-
  voicing truth independent of the engine, `benchmarks/truth.energy_speech`: first speech frame
  to last, internal silences >= 2 s removed); measured = `analyze_file(...).agent.wpm`.
- Tempo: each clip time-stretched with sox WSOLA (`tempo -s 0.8` / `1.25`); the measured
  wpm and articulation-rate ratios against the clip's own measured values.
- Pitch: `analyze_file(..., transcribe=False).agent.pitch_median_hz` against Praat's
  (parselmouth `to_pitch()` defaults, median over voiced frames), and the measured ratio
  on copies pitch-shifted by ±3 semitones (sox `pitch ±300`).

Writes benchmarks/results/accuracy.json and accuracy.md. These are measurements, not tests.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPEECH_DIR = Path(os.environ.get("POISE_SPEECH_DIR", REPO.parent / "shared" / "speech"))
RESULTS_DIR = REPO / "benchmarks" / "results"

RATE_CLIPS = [
    "ps_librivox_sense_and_sensibility_01_austen_64kb-0870.wav",
    "ps_librivox_sense_and_sensibility_01_austen_64kb-0880.wav",
    "ps_librivox_sense_and_sensibility_01_austen_64kb-0890.wav",
    "ps_librivox_sense_and_sensibility_01_austen_64kb-0920.wav",
    "ps_librivox_sense_and_sensibility_01_austen_64kb-0930.wav",
    "sb_ljspeech_LJ050-0131.wav",
    "fw_jfk.flac",
    "ps_goforward.wav",
]
PITCH_CLIPS = RATE_CLIPS + ["sr_english.wav"]

TURN_GAP_S = 2.0  # s: internal silences this long are not part of the span (as the contract counts wpm)
TEMPOS = (0.8, 1.25)  # sox tempo factors: 20 % slower, 25 % faster (well past the 10-15 % a listener notices)
SEMITONES = (3, -3)  # pitch shifts, st (beyond the 2.5 st "lower your tone" threshold)

TARGET_WPM_REL_ERR = 0.10  # median |measured - reference| / reference
TARGET_TEMPO_RATIO_ERR = 0.05  # median |ratio / tempo - 1|
TARGET_PITCH_REL_ERR = 0.03  # median |ours / Praat - 1|, and |ratio / 2^(st/12) - 1| after shifting


@dataclass
class RateRow:
    clip: str
    words_ref: int
    speech_span_s: float  # truth span (energy and voicing), silences >= 2 s removed
    wpm_ref: float
    words_measured: int | None
    wpm_measured: float | None
    wpm_rel_err: float | None
    articulation_sps: float | None
    talk_s: float  # VAD talk time the articulation rate is counted over


@dataclass
class TempoRow:
    clip: str
    tempo: float
    wpm: float | None
    wpm_ratio: float | None
    wpm_ratio_err: float | None  # ratio / tempo - 1
    articulation_sps: float | None
    articulation_ratio: float | None
    articulation_ratio_err: float | None
    talk_s: float


@dataclass
class PitchRow:
    clip: str
    ours_hz: float | None
    praat_hz: float | None
    rel_err: float | None
    voiced_frames_ours: int
    voiced_frames_praat: int
    frame_ratio_both_voiced: float | None  # median per-frame Poise/Praat F0 where both call the frame voiced


@dataclass
class ShiftRow:
    clip: str
    semitones: int
    expected_ratio: float
    ours_ratio: float | None
    ours_err: float | None  # ours_ratio / expected - 1
    praat_ratio: float | None  # what the shifter actually did, by Praat
    praat_err: float | None


# ----------------------------------------------------------------------------- helpers


def speech_dir_or_exit() -> Path:
    """The real-speech folder, or exit 0 with a message when it is absent."""
    if not SPEECH_DIR.is_dir():
        print(f"Real speech not found at {SPEECH_DIR}: set POISE_SPEECH_DIR to measure; nothing to do.")
        sys.exit(0)
    return SPEECH_DIR


def write_results(name: str, data: dict, markdown: str, indent: int | None = 2) -> None:
    """benchmarks/results/NAME.json and NAME.md (`indent=None`: one line, for results of many calls)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(data, indent=indent) + "\n")
    (RESULTS_DIR / f"{name}.md").write_text(markdown)
    print(f"\nwrote {RESULTS_DIR / (name + '.json')} and {name}.md")


def machine() -> dict:
    """Date, core count and CPU model, for the README."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": dt.date.today().isoformat(), "cores": os.cpu_count(), "cpu": model, **code_version()}


def header(title: str) -> str:
    """The first line of a results table: what, when, on which machine and code."""
    m = machine()
    dirty = " + uncommitted engine changes" if m["uncommitted_engine_files"] else ""
    return f"# {title} ({m['date']}, {m['cores']} cores, {m['cpu']}, commit {m['commit']}{dirty})"


def code_version() -> dict:
    """The commit measured and the engine files changed since it (read-only git queries)."""
    def git(*args: str) -> str:
        try:
            out = subprocess.run(["git", "--no-optional-locks", *args], cwd=REPO, capture_output=True, text=True, check=False)
            return out.stdout if out.returncode == 0 else ""
        except OSError:
            return ""

    changed = [line[3:] for line in git("status", "--porcelain", "--", "poise/audio", "poise/cli.py").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or None, "uncommitted_engine_files": changed}


def table(headers: list[str], rows: list[list], fmt: str = "md") -> str:
    """A markdown table (also readable in a terminal)."""
    def cell(v: object) -> str:
        if v is None:
            return "—"
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:+.1f} %"


def short(clip: str) -> str:
    """A clip name short enough for a table."""
    return clip.replace("ps_librivox_sense_and_sensibility_01_austen_64kb-", "librivox-")


def apct(x: float | None) -> str:
    """An absolute (unsigned) share as a percentage."""
    return "—" if x is None else f"{100 * x:.1f} %"


def pooled_rate(rates_and_talk: list[tuple[float | None, float]]) -> float | None:
    """All nuclei over all talk time of a set of clips (one short clip's count of 4 cannot dominate)."""
    pairs = [(r, t) for r, t in rates_and_talk if r is not None and t > 0]
    talk = sum(t for _, t in pairs)
    return sum(r * t for r, t in pairs) / talk if talk else None


def median_abs(values: list[float | None]) -> float | None:
    vals = [abs(v) for v in values if v is not None]
    return float(np.median(vals)) if vals else None


def sox(src: Path, dst: Path, *effect: str) -> Path:
    """Run one sox effect chain (time-stretch or pitch-shift) into a float WAV."""
    subprocess.run(["sox", str(src), "-e", "floating-point", str(dst), *effect], check=True, capture_output=True)
    return dst


# ----------------------------------------------------------------------------- speaking rate


def vad_speech_span(path: Path) -> float:
    """Seconds of speech by an energy-and-voicing truth independent of the engine (`truth.energy_speech`:
    speech-band level cores that Praat calls voiced, extended over their consonants): first speech frame
    to last, minus silences >= TURN_GAP_S. (It was the engine's own VAD with its hangover taken off; when
    the VAD's release changed, the reference moved with it.)"""
    from benchmarks import truth as T
    from poise.audio.sources import load_call
    from poise.audio.types import FRAME_HOP_S

    speech = T.energy_speech(load_call(path).agent).speech
    padded = np.concatenate([[False], speech, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    runs = [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2])]
    if not runs:
        return 0.0
    span = runs[-1][1] - runs[0][0]
    gaps = sum(b[0] - a[1] for a, b in itertools.pairwise(runs) if (b[0] - a[1]) * FRAME_HOP_S >= TURN_GAP_S)
    return (span - gaps) * FRAME_HOP_S


def measure_rate(speech: Path) -> tuple[list[RateRow], dict[str, tuple[float | None, float | None]]]:
    from poise.audio.analysis import analyze_file

    rows: list[RateRow] = []
    measured: dict[str, tuple[float | None, float | None]] = {}
    for name in RATE_CLIPS:
        path = speech / name
        words_ref = len(Path(f"{path}.txt").read_text().split())
        span = vad_speech_span(path)
        wpm_ref = words_ref / span * 60.0
        r = analyze_file(path)
        wpm = r.agent.wpm
        err = (wpm - wpm_ref) / wpm_ref if wpm is not None else None
        rows.append(RateRow(name, words_ref, round(span, 2), round(wpm_ref, 1), r.agent.words, wpm,
                            None if err is None else round(err, 4), r.agent.articulation_rate_sps,
                            r.agent.talk_time_s))
        measured[name] = (wpm, r.agent.articulation_rate_sps)
    return rows, measured


def measure_tempo(speech: Path, base: dict[str, tuple[float | None, float | None]], tmp: Path) -> list[TempoRow]:
    from poise.audio.analysis import analyze_file

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    rows: list[TempoRow] = []
    for name in RATE_CLIPS:
        wpm0, sps0 = base[name]
        for factor in TEMPOS:
            out = sox(speech / name, tmp / f"tempo{factor}_{Path(name).stem}.wav", "tempo", "-s", str(factor))
            r = analyze_file(out)
            w_ratio, s_ratio = ratio(r.agent.wpm, wpm0), ratio(r.agent.articulation_rate_sps, sps0)
            rows.append(TempoRow(
                name, factor, r.agent.wpm,
                None if w_ratio is None else round(w_ratio, 4),
                None if w_ratio is None else round(w_ratio / factor - 1, 4),
                r.agent.articulation_rate_sps,
                None if s_ratio is None else round(s_ratio, 4),
                None if s_ratio is None else round(s_ratio / factor - 1, 4),
                r.agent.talk_time_s,
            ))
    return rows


# ----------------------------------------------------------------------------- pitch


def praat_pitch(path: Path):  # -> parselmouth.Pitch
    """Praat's `To Pitch` with its defaults, on the left channel of a stereo file (the agent side)."""
    import parselmouth

    snd = parselmouth.Sound(str(path))
    if snd.n_channels > 1:
        snd = snd.extract_left_channel()
    return snd.to_pitch()


def praat_median_f0(path: Path) -> float | None:
    """Median F0 over Praat's voiced frames."""
    f0 = praat_pitch(path).selected_array["frequency"]
    f0 = f0[f0 > 0]
    return float(np.median(f0)) if len(f0) else None


def frame_agreement(path: Path) -> tuple[int, int, float | None]:
    """Voiced frame counts (Poise, Praat at Poise's frame times) and the median per-frame F0 ratio
    where both call the frame voiced: tells F0 errors apart from different voicing decisions."""
    from poise.audio.prosody import ProsodyTracker, frame_center_time
    from poise.audio.sources import load_call

    ours = ProsodyTracker().process(load_call(path).agent).f0
    pitch = praat_pitch(path)
    times = frame_center_time(np.arange(len(ours)))
    theirs = np.array([pitch.get_value_at_time(float(t)) for t in times])
    both = np.isfinite(ours) & np.isfinite(theirs)
    ratio = float(np.median(ours[both] / theirs[both])) if both.any() else None
    return int(np.isfinite(ours).sum()), int(np.isfinite(theirs).sum()), ratio


def ours_median_f0(path: Path) -> float | None:
    from poise.audio.analysis import analyze_file

    return analyze_file(path, transcribe=False).agent.pitch_median_hz


def measure_pitch(speech: Path, tmp: Path) -> tuple[list[PitchRow], list[ShiftRow]]:
    pitch_rows: list[PitchRow] = []
    shift_rows: list[ShiftRow] = []
    for name in PITCH_CLIPS:
        path = speech / name
        ours, praat = ours_median_f0(path), praat_median_f0(path)
        err = ours / praat - 1 if ours and praat else None
        n_ours, n_praat, frame_ratio = frame_agreement(path)
        pitch_rows.append(PitchRow(name, ours, None if praat is None else round(praat, 1),
                                   None if err is None else round(err, 4), n_ours, n_praat,
                                   None if frame_ratio is None else round(frame_ratio, 4)))
        for st in SEMITONES:
            out = sox(path, tmp / f"pitch{st:+d}_{Path(name).stem}.wav", "pitch", str(100 * st))
            expected = 2.0 ** (st / 12.0)
            o, p = ours_median_f0(out), praat_median_f0(out)
            o_ratio = o / ours if o and ours else None
            p_ratio = p / praat if p and praat else None
            shift_rows.append(ShiftRow(
                name, st, round(expected, 4),
                None if o_ratio is None else round(o_ratio, 4),
                None if o_ratio is None else round(o_ratio / expected - 1, 4),
                None if p_ratio is None else round(p_ratio, 4),
                None if p_ratio is None else round(p_ratio / expected - 1, 4),
            ))
    return pitch_rows, shift_rows


# ----------------------------------------------------------------------------- main


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "no value"
    return "meets target" if value <= target else "MISSES target"


def main() -> None:
    speech = speech_dir_or_exit()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="poise-accuracy-") as tmpdir:
        tmp = Path(tmpdir)
        rate_rows, base = measure_rate(speech)
        tempo_rows = measure_tempo(speech, base, tmp)
        pitch_rows, shift_rows = measure_pitch(speech, tmp)

    wpm_med = median_abs([r.wpm_rel_err for r in rate_rows])
    tempo_summary = {}
    for factor in TEMPOS:
        rows = [r for r in tempo_rows if r.tempo == factor]
        tempo_summary[str(factor)] = {
            "wpm_ratio_median_abs_err": median_abs([r.wpm_ratio_err for r in rows]),
            "articulation_ratio_median_abs_err": median_abs([r.articulation_ratio_err for r in rows]),
        }
    base_pooled = pooled_rate([(r.articulation_sps, r.talk_s) for r in rate_rows])
    for factor in TEMPOS:
        pooled = pooled_rate([(r.articulation_sps, r.talk_s) for r in tempo_rows if r.tempo == factor])
        ratio = pooled / base_pooled if pooled and base_pooled else None
        tempo_summary[str(factor)]["articulation_pooled_ratio"] = None if ratio is None else round(ratio, 4)
        tempo_summary[str(factor)]["articulation_pooled_ratio_err"] = None if ratio is None else round(ratio / factor - 1, 4)
    tempo_wpm_all = median_abs([r.wpm_ratio_err for r in tempo_rows])
    tempo_sps_all = median_abs([r.articulation_ratio_err for r in tempo_rows])
    pitch_med = median_abs([r.rel_err for r in pitch_rows])
    shift_summary = {
        str(st): median_abs([r.ours_err for r in shift_rows if r.semitones == st]) for st in SEMITONES
    }
    shift_all = median_abs([r.ours_err for r in shift_rows])
    shift_praat_all = median_abs([r.praat_err for r in shift_rows])
    elapsed = time.monotonic() - started

    summary = {
        "wpm_median_abs_rel_err": wpm_med,
        "tempo_wpm_ratio_median_abs_err": tempo_wpm_all,
        "tempo_articulation_ratio_median_abs_err": tempo_sps_all,
        "tempo_by_factor": tempo_summary,
        "pitch_median_abs_rel_err_vs_praat": pitch_med,
        "pitch_shift_ratio_median_abs_err": shift_all,
        "pitch_shift_by_semitones": shift_summary,
        "pitch_shift_ratio_median_abs_err_by_praat": shift_praat_all,
        "targets": {
            "wpm_median_abs_rel_err": TARGET_WPM_REL_ERR,
            "tempo_ratio_median_abs_err": TARGET_TEMPO_RATIO_ERR,
            "pitch_median_abs_rel_err": TARGET_PITCH_REL_ERR,
        },
    }

    md = [header("Accuracy"), ""]
    md += ["## Speaking rate (wpm) against the known transcript", ""]
    md.append(table(
        ["clip", "words (ref)", "span s (truth)", "wpm ref", "words (Whisper)", "wpm measured", "error", "artic. syl/s"],
        [[short(r.clip), r.words_ref, r.speech_span_s, r.wpm_ref, r.words_measured, r.wpm_measured, pct(r.wpm_rel_err),
          r.articulation_sps] for r in rate_rows],
    ))
    md += ["", f"Median |error|: **{apct(wpm_med)}** (target ≤ 10 %: {verdict(wpm_med, TARGET_WPM_REL_ERR)}).", ""]
    md += ["## Time-stretched copies (sox WSOLA `tempo -s`)", ""]
    md.append(table(
        ["clip", "tempo", "wpm", "wpm ratio", "error", "artic. syl/s", "artic. ratio", "error"],
        [[short(r.clip), r.tempo, r.wpm, r.wpm_ratio, pct(r.wpm_ratio_err), r.articulation_sps, r.articulation_ratio,
          pct(r.articulation_ratio_err)] for r in tempo_rows],
    ))
    ts = tempo_summary
    md += ["", (f"Median |ratio error|, wpm: **{apct(tempo_wpm_all)}** "
               f"(0.8: {apct(ts['0.8']['wpm_ratio_median_abs_err'])}, "
               f"1.25: {apct(ts['1.25']['wpm_ratio_median_abs_err'])}; target ≤ 5 %: "
               f"{verdict(tempo_wpm_all, TARGET_TEMPO_RATIO_ERR)})."), "",
           (f"Articulation rate: median |ratio error| **{apct(tempo_sps_all)}** "
               f"(0.8: {apct(ts['0.8']['articulation_ratio_median_abs_err'])}, "
               f"1.25: {apct(ts['1.25']['articulation_ratio_median_abs_err'])}; "
               f"{verdict(tempo_sps_all, TARGET_TEMPO_RATIO_ERR)}). Pooled over all clips (all nuclei / all talk "
               f"time): ratio {ts['0.8']['articulation_pooled_ratio']} at 0.8 "
               f"({pct(ts['0.8']['articulation_pooled_ratio_err'])}), {ts['1.25']['articulation_pooled_ratio']} at 1.25 "
               f"({pct(ts['1.25']['articulation_pooled_ratio_err'])})."), ""]
    md += ["## Median pitch against Praat (`to_pitch()` defaults, voiced frames)", ""]
    md.append(table(["clip", "Poise Hz", "Praat Hz", "error", "voiced frames Poise/Praat", "per-frame ratio (both voiced)"],
                    [[short(r.clip), r.ours_hz, r.praat_hz, pct(r.rel_err), f"{r.voiced_frames_ours}/{r.voiced_frames_praat}",
                      r.frame_ratio_both_voiced] for r in pitch_rows]))
    md += ["", f"Median |error|: **{apct(pitch_med)}** (target ≤ 3 %: {verdict(pitch_med, TARGET_PITCH_REL_ERR)}).", ""]
    md += ["## Pitch-shifted copies (sox `pitch ±300` cents)", ""]
    md.append(table(
        ["clip", "st", "expected ratio", "Poise ratio", "error", "Praat ratio", "Praat error"],
        [[short(r.clip), r.semitones, r.expected_ratio, r.ours_ratio, pct(r.ours_err), r.praat_ratio, pct(r.praat_err)]
         for r in shift_rows],
    ))
    md += ["", (f"Median |ratio error|: **{apct(shift_all)}** (+3 st: {apct(shift_summary['3'])}, "
               f"-3 st: {apct(shift_summary['-3'])}; target ≤ 3 %: {verdict(shift_all, TARGET_PITCH_REL_ERR)}); "
               f"Praat on the same copies: {apct(shift_praat_all)}."), "",
           f"Run time {elapsed:.0f} s.", ""]
    markdown = "\n".join(md)
    print(markdown)

    write_results("accuracy", {
        "machine": machine(),
        "elapsed_s": round(elapsed, 1),
        "summary": summary,
        "rate": [asdict(r) for r in rate_rows],
        "tempo": [asdict(r) for r in tempo_rows],
        "pitch": [asdict(r) for r in pitch_rows],
        "pitch_shift": [asdict(r) for r in shift_rows],
    }, markdown)


if __name__ == "__main__":
    main()
