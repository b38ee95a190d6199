"""`poise` as a user runs it: a subprocess, its exit code, what it prints and what it writes.

Contract: ../shared/design.md ("`poise analyze`") and
../shared/contracts/poise.analysis-1.schema.json. Whisper runs only where words are
checked (the real booking call and the JFK clip); everything else uses --no-transcript.
"""

from __future__ import annotations

import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import soundfile as sf

from conftest import speech_path

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO.parent / "shared" / "contracts" / "poise.analysis-1.schema.json"
REAL_CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"
RUN_TIMEOUT_S = 300  # s: a generous ceiling for one run (Whisper on a 3-min call takes ~30 s here)
NOISE_RMS = 10 ** (-60 / 20)  # -60 dBFS white noise: a quiet line with nobody on it


def run_poise(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m poise.cli ARGS` from this checkout, in a copy of the test environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONWARNINGS")}
    env["PYTHONPATH"] = str(REPO)
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "poise.cli", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


def one_stderr_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The single line poise printed on stderr (fails if there are more, or none)."""
    assert_no_traceback(proc)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{proc.stderr}"
    return lines[0]


def validate(doc: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA_PATH.exists():
        pytest.skip(f"contract schema not available: {SCHEMA_PATH}")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(doc)


def norm_words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


# --------------------------------------------------------------------------- generated audio




def _truncated_wav(tmp: Path, spoken: Path) -> Path:
    """A WAV whose header promises seconds of audio, cut a byte after the header: nothing to decode."""
    data = spoken.read_bytes()
    offset = data.index(b"data") + 8  # RIFF chunk id + size, then the samples
    path = tmp / "truncated.wav"
    path.write_bytes(data[: offset + 1])
    return path


def _truncated_flac(tmp: Path, spoken: Path) -> Path:
    """A FLAC of real speech cut in the middle of its frames (a copy that stopped half-way)."""
    x, sr = sf.read(str(spoken), dtype="float32")
    full = tmp / "full.flac"
    sf.write(str(full), x, sr, subtype="PCM_16")
    data = full.read_bytes()
    path = tmp / "truncated.flac"
    path.write_bytes(data[: len(data) // 2])
    return path


def _text_as_wav(tmp: Path, spoken: Path) -> Path:
    path = tmp / "notes.wav"
    path.write_text("Call notes: customer charged twice, refund promised.\n" * 20, encoding="utf-8")
    return path


def _png_as_mp3(tmp: Path, spoken: Path) -> Path:
    path = tmp / "picture.mp3"
    shutil.copyfile(REPO / "poise" / "assets" / "poise.png", path)
    return path


def _silence(tmp: Path, spoken: Path) -> Path:
    path = tmp / "silence.wav"
    sf.write(str(path), np.zeros(16000 * 5, np.float32), 16000)
    return path


def _low_noise(tmp: Path, spoken: Path) -> Path:
    path = tmp / "noise.wav"
    rng = np.random.default_rng(7)
    sf.write(str(path), (rng.standard_normal(16000 * 5) * NOISE_RMS).astype(np.float32), 16000)
    return path


def _missing(tmp: Path, spoken: Path) -> Path:
    return tmp / "no-such-call.wav"


def _folder(tmp: Path, spoken: Path) -> Path:
    path = tmp / "calls.wav"
    path.mkdir()
    return path


def _empty(tmp: Path, spoken: Path) -> Path:
    path = tmp / "empty.wav"
    path.write_bytes(b"")
    return path


# (maker, a reason the one-line message must give)
BAD_INPUTS: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "missing": (_missing, r"does not exist|not found|no such"),
    "directory": (_folder, r"folder|directory"),
    "empty": (_empty, r"empty|0 bytes"),
    "truncated_wav": (_truncated_wav, r"no audio|no samples|cut short|truncated|incomplete|damaged"),
    "truncated_flac": (_truncated_flac, r"cut short|truncated|incomplete|damaged"),
    "text_as_wav": (_text_as_wav, r"not an audio|not audio|damaged"),
    "png_as_mp3": (_png_as_mp3, r"not an audio|not audio|damaged"),
    "silence": (_silence, r"silence|no speech"),
    "low_noise": (_low_noise, r"no speech"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case: str, tmp_path: Path, spoken_wav: Path) -> None:
    make, reason = BAD_INPUTS[case]
    bad = make(tmp_path, spoken_wav)
    out_json, out_html = tmp_path / "out.json", tmp_path / "out.html"
    proc = run_poise("analyze", bad, "--json", out_json, "--html", out_html, "--no-transcript", cwd=tmp_path)
    line = one_stderr_line(proc)
    assert proc.returncode == 2, f"exit {proc.returncode}: {line}"
    assert str(bad) in line, f"the message does not name the file: {line}"
    assert re.search(reason, line, re.IGNORECASE), f"the message does not say why ({reason}): {line}"
    assert not out_json.exists() and not out_html.exists()


def test_analyze_leaves_no_settings_file_behind(tmp_path: Path, spoken_wav: Path) -> None:
    """A command that only reads settings writes none (nothing older to migrate either)."""
    from poise import paths

    assert not paths.settings_path().exists()
    proc = run_poise("analyze", spoken_wav, "--no-transcript", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not paths.settings_path().exists()


def test_bad_caller_file_is_named(tmp_path: Path, spoken_wav: Path) -> None:
    caller = _text_as_wav(tmp_path, spoken_wav)
    out_json = tmp_path / "out.json"
    proc = run_poise("analyze", spoken_wav, "--caller", caller, "--json", out_json, "--no-transcript", cwd=tmp_path)
    line = one_stderr_line(proc)
    assert proc.returncode == 2, line
    assert str(caller) in line and "caller" in line.lower(), line
    assert not out_json.exists()


def _empty_model(tmp: Path) -> Path:
    path = tmp / "empty-model"
    path.mkdir()
    return path


def _damaged_model(tmp: Path) -> Path:
    """A folder with every file a CTranslate2 Whisper model has, but garbage inside."""
    path = tmp / "damaged-model"
    path.mkdir()
    (path / "model.bin").write_bytes(b"\x00garbage" * 1000)
    (path / "config.json").write_text("{}", encoding="utf-8")
    (path / "tokenizer.json").write_text("{}", encoding="utf-8")
    (path / "vocabulary.txt").write_text("a\nb\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("make", [_empty_model, _damaged_model], ids=["no_model_bin", "damaged_model_bin"])
def test_bad_model_folder_fails_with_one_line(make: Callable[[Path], Path], tmp_path: Path, spoken_wav: Path) -> None:
    model = make(tmp_path)
    out_json = tmp_path / "out.json"
    proc = run_poise("analyze", spoken_wav, "--model", model, "--json", out_json, cwd=tmp_path)
    line = one_stderr_line(proc)
    assert proc.returncode != 0
    assert str(model) in line, line
    assert not out_json.exists()


def test_analyze_uses_the_model_folder_chosen_in_the_app(tmp_path: Path, spoken_wav: Path) -> None:
    from poise.app.settings import SettingsStore

    model = _empty_model(tmp_path)
    SettingsStore().update(model_dir=str(model))  # what the app's Settings dialog writes
    proc = run_poise("analyze", spoken_wav, "--json", tmp_path / "out.json", cwd=tmp_path)
    line = one_stderr_line(proc)
    assert proc.returncode != 0 and str(model) in line, line  # the saved folder was used (and found empty)


# --------------------------------------------------------------------------- good input


@pytest.fixture(scope="module")
def real_call_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], dict, str]:
    """The real booking call analysed with Whisper: (process, JSON, HTML text)."""
    call = speech_path(REAL_CALL)
    out = tmp_path_factory.mktemp("real_call")
    proc = run_poise("analyze", call, "--json", out / "call.json", "--html", out / "call.html", cwd=out)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads((out / "call.json").read_text(encoding="utf-8")), (out / "call.html").read_text(encoding="utf-8")


def test_real_call_json_matches_the_contract(real_call_run) -> None:
    _, doc, _ = real_call_run
    validate(doc)
    assert doc["schema"] == "poise.analysis/1"
    assert doc["source"]["channels"] == 2 and doc["source"]["sample_rate"] == 8000
    assert doc["source"]["duration_s"] == pytest.approx(182.8, abs=0.1)
    assert doc["caller"] is not None
    for role in ("agent", "caller"):
        assert doc[role]["talk_time_s"] > 30, doc[role]  # both sides talk for over a minute in this call
        assert doc[role]["words"] and doc[role]["wpm"], doc[role]
    assert {s["role"] for s in doc["segments"]} == {"agent", "caller"}
    assert all(s["words"] for s in doc["segments"]), "segments without word timings"


def test_real_call_html_has_cues_and_transcript(real_call_run) -> None:
    _, doc, page = real_call_run
    text = " ".join(html.unescape(page).split())
    # the real call earns no cue: every handover comes 0.6-1.7 s after the caller's last sound and the
    # agent never drifts (benchmarks/results/real_calls.md); the report must say so, not show an empty list
    assert doc["cues"] == [], doc["cues"]
    assert "No cues: you stayed close to your own normal throughout." in text
    from poise.audio.types import Segment, Word
    from poise.report.format import transcript_lines

    segments = [Segment(s["role"], s["start"], s["end"], s["text"], [Word(w["word"], w["start"], w["end"]) for w in s["words"]])
                for s in doc["segments"]]
    lines = transcript_lines(segments, at_sentences=False)  # the report's lines: each segment split at its pauses
    assert len(lines) > len(segments)
    for role in ("agent", "caller"):  # every word, once
        assert [w for line in lines if line.role == role for w in line.words] == [
            w for seg in segments if seg.role == role for w in seg.words]
    missing = [line.text for line in lines if " ".join(line.text.split()) not in text]
    assert not missing, f"transcript lines not in the HTML: {missing[:3]}"


def test_real_call_summary_mentions_wpm_and_cues(real_call_run) -> None:
    proc, doc, _ = real_call_run
    out = proc.stdout
    assert f"{doc['agent']['wpm']:.0f} wpm" in out, out
    assert "No cues: you stayed close to your own normal throughout." in out, out


def test_mono_clip_has_no_caller(tmp_path: Path) -> None:
    clip = speech_path("sb_ljspeech_LJ050-0131.wav")
    out = tmp_path / "mono.json"
    proc = run_poise("analyze", clip, "--json", out, "--no-transcript", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc)
    assert proc.stdout.strip() == "", "--quiet printed something"
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate(doc)
    assert doc["caller"] is None
    assert doc["source"]["channels"] == 1 and doc["source"]["sample_rate"] == 22050
    assert doc["agent"]["talk_time_s"] > 4.0  # 7.7 s of read speech
    assert doc["segments"] == []  # --no-transcript


def test_save_says_where_the_call_went_and_a_second_save_says_why_it_was_not_saved(tmp_path: Path) -> None:
    clip = speech_path("sb_ljspeech_LJ050-0131.wav")
    first = run_poise("analyze", clip, "--no-transcript", "--save", "--agent", "Dana", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    saved = re.search(r"Saved to history as call (\d+) \(Dana\)\.", first.stdout)
    assert saved, first.stdout
    again = run_poise("analyze", clip, "--no-transcript", "--save", "--agent", "Sam", cwd=tmp_path)
    assert again.returncode == 0 and "Saved to history" not in again.stdout
    assert f"already in history as call {saved.group(1)} (Dana), so it was not saved again." in again.stderr, again.stderr
    listed = run_poise("history", "--agent", "dana", cwd=tmp_path)
    assert listed.returncode == 0 and "did you mean “Dana”?" in listed.stdout, listed.stdout


def test_a_cut_short_recording_says_so_in_its_reports_too(tmp_path: Path) -> None:
    """The note went to the terminal only: a report read later showed a 1:33 call with nothing to say it was cut."""
    cut = tmp_path / "cut.wav"
    cut.write_bytes(Path(speech_path(REAL_CALL)).read_bytes()[:1_500_000])  # 93.7 s of the 182.8 s its header promises
    proc = run_poise("analyze", cut, "--no-transcript", "--json", tmp_path / "c.json", "--html", tmp_path / "c.html",
                     "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (note,) = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))["source"]["notes"]
    assert "cut short" in note and "182.8 s" in note and note in proc.stderr
    assert html.escape(note) in (tmp_path / "c.html").read_text(encoding="utf-8")


def test_two_file_call(tmp_path: Path) -> None:
    """Agent and caller as separate files of different rates and lengths (a woman and a man)."""
    agent = speech_path("sb_ljspeech_LJ050-0131.wav")  # F, 22.05 kHz, 7.66 s
    caller = speech_path("ps_librivox_sense_and_sensibility_01_austen_64kb-0870.wav")  # M, 16 kHz, 7.10 s
    out = tmp_path / "two.json"
    proc = run_poise("analyze", agent, "--caller", caller, "--json", out, "--no-transcript", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc)
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate(doc)
    assert doc["caller"] is not None
    assert doc["source"]["channels"] == 2
    assert doc["source"]["duration_s"] == pytest.approx(7.66, abs=0.05)
    assert doc["agent"]["pitch_median_hz"] > doc["caller"]["pitch_median_hz"] * 1.3, (doc["agent"], doc["caller"])


def test_agent_channel_right_swaps_roles(tmp_path: Path) -> None:
    call = speech_path(REAL_CALL)
    docs = {}
    for side in ("left", "right"):
        out = tmp_path / f"{side}.json"
        proc = run_poise("analyze", call, "--agent-channel", side, "--json", out, "--no-transcript", "--quiet", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        docs[side] = json.loads(out.read_text(encoding="utf-8"))
    left, right = docs["left"], docs["right"]
    for a, b in ((right["agent"], left["caller"]), (right["caller"], left["agent"])):
        assert a["talk_time_s"] == pytest.approx(b["talk_time_s"], abs=0.011)
        assert a["pitch_median_hz"] == pytest.approx(b["pitch_median_hz"], abs=0.11)
        assert a["volume_median_dbfs"] == pytest.approx(b["volume_median_dbfs"], abs=0.11)
    # the two sides really differ, so the comparison above means something
    assert abs(left["agent"]["volume_median_dbfs"] - left["caller"]["volume_median_dbfs"]) > 3.0
    assert left["conversation"]["agent_talk_share"] + right["conversation"]["agent_talk_share"] == pytest.approx(1.0, abs=0.002)


def test_jfk_transcript(tmp_path: Path) -> None:
    clip = speech_path("fw_jfk.flac")
    out = tmp_path / "jfk.json"
    proc = run_poise("analyze", clip, "--json", out, "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc)
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate(doc)
    agent_text = norm_words(" ".join(s["text"] for s in doc["segments"] if s["role"] == "agent"))
    assert "ask not what your country can do for you" in agent_text, agent_text


def test_devices_lists_inputs_or_says_there_are_none(tmp_path: Path) -> None:
    proc = run_poise("devices", cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    if "No audio input devices found" in out:
        assert len(out.strip().splitlines()) == 1
        return
    lines = out.strip().splitlines()
    assert "input device" in lines[0], out
    rows = [line for line in lines[1:] if re.match(r"^\s*\d+\s+\S", line)]
    assert rows and len(rows) == len(lines) - 1, out


def test_headless_coach_with_unknown_device_fails_with_one_line(tmp_path: Path) -> None:
    proc = run_poise(
        "coach", "--headless", "--agent-device", "no-such-microphone-xyz", "--no-transcript", "--no-audio",
        "--events", tmp_path / "events.jsonl", "--duration", "1", cwd=tmp_path,
    )
    line = one_stderr_line(proc)
    assert proc.returncode == 2, line
    assert "no-such-microphone-xyz" in line, line
    assert not (tmp_path / "events.jsonl").exists()  # a call that never started leaves no empty events file


def test_every_command_explains_itself_with_examples(tmp_path: Path) -> None:
    """`poise CMD --help` says what the command does and shows how it is used, not only its flags."""
    out = run_poise("analyze", "--help", cwd=tmp_path)
    assert out.returncode == 0 and "Nothing leaves the machine." in out.stdout and "\n  poise analyze call.wav\n" in out.stdout
    from poise.cli import build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name, parser in commands.items():
        text = parser.format_help()
        assert parser.description and "examples:" in text, name
        examples = [line for line in text.split("examples:\n", 1)[1].splitlines() if line]
        assert examples and all(line.startswith(f"  poise {name}") for line in examples), name
        for line in examples:  # every example is a valid command line
            build_parser().parse_args(shlex.split(line)[1:])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY and WAYLAND_DISPLAY are how Linux says a window can open")
@pytest.mark.parametrize("args", [(), ("--demo",), ("review", "CALL")])
def test_no_display_gets_one_sentence_not_a_qt_abort(args: tuple[str, ...], tmp_path: Path) -> None:
    """Without a display Qt aborts (exit 134) advising a reinstall; Poise says what is missing and what works."""
    call = tmp_path / "call.wav"
    sf.write(str(call), np.zeros(8000, np.float32), 8000)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(PYTHONPATH=str(REPO), NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-m", "poise.cli", *(str(call) if a == "CALL" else a for a in args)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert proc.returncode == 2
    line = one_stderr_line(proc)
    assert line.startswith("No display found") and "poise analyze" in line


def test_json_to_standard_output_is_the_whole_output(tmp_path: Path) -> None:
    """`--json -` prints the analysis (and nothing else) instead of writing a file called '-'."""
    proc = run_poise("analyze", REPO / "poise" / "assets" / "demo_call.ogg", "--no-transcript", "--json", "-", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["schema"] == "poise.analysis/1"
    assert not (tmp_path / "-").exists()
    both = run_poise("analyze", REPO / "poise" / "assets" / "demo_call.ogg", "--json", "-", "--html", "-", cwd=tmp_path)
    assert both.returncode == 2 and "only one of --json and --html" in one_stderr_line(both)
