"""Device gaps carried past the recording: a recording Poise made with a `.gaps.json` beside it
(written by its `CallRecorder`, as a live call writes it) gives its gaps to the analysis, the
`poise analyze --json` contract, the call saved to history and the review timeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import speech_path
from poise.app.history import History
from poise.app.review import gap_label, review_call
from poise.app.spec import CallKind, CallSpec
from poise.audio.analysis import analyze_file
from poise.audio.recorder import CallRecorder, Gap, finished_gaps, gaps_path
from poise.audio.report import to_json
from poise.audio.store import HistoryStore
from poise.audio.types import SAMPLE_RATE, Block

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO.parent / "shared" / "contracts" / "poise.analysis-1.schema.json"
BOOKING = "call_spokenwoz_agent_left_8k_ulaw.wav"  # the real booking call: agent left, caller right
CALL_S = 40.0  # s of it recorded
GAP = (12.0, 21.0)  # s: the caller's device was lost here (its side is silence)
BLOCK_S = 0.5  # s per recorder block


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    """40 s of the booking call written through `CallRecorder` as a live call would: the caller's
    device drops out at 12 s (its side silence from there), comes back at 21 s; the gap is marked
    open, then closed, exactly as `LiveCall` marks it."""
    from poise.audio.sources import load_call

    call = load_call(speech_path(BOOKING))
    agent, caller = call.agent[: int(CALL_S * SAMPLE_RATE)], call.caller[: int(CALL_S * SAMPLE_RATE)].copy()
    caller[int(GAP[0] * SAMPLE_RATE): int(GAP[1] * SAMPLE_RATE)] = 0.0
    folder = tmp_path_factory.mktemp("rec")
    rec = CallRecorder(folder, name="call-with-gap")
    step = int(BLOCK_S * SAMPLE_RATE)
    for lo in range(0, len(agent), step):
        t0 = lo / SAMPLE_RATE
        if t0 == GAP[0]:
            rec.mark_gap(Gap("caller", GAP[0]))
        if t0 == GAP[1]:
            rec.mark_gap(Gap("caller", GAP[0], GAP[1]))
        rec.write(Block(t0=t0, agent=agent[lo: lo + step], caller=caller[lo: lo + step]))
    wav = rec.close()
    assert gaps_path(wav).is_file()
    return wav


def test_the_label_says_which_device_and_when():
    assert gap_label(Gap("agent", 723.0, 732.4)) == "Microphone silent (device lost) 12:03–12:12"
    assert gap_label(Gap("caller", 5.0, 65.0)) == "Caller audio silent (device lost) 00:05–01:05"
    assert gap_label(Gap("agent", 5.0)) == "Microphone silent (device lost) 00:05–the end"


def test_an_open_gap_ends_with_the_call_and_nothing_lies_outside_it():
    gaps = [Gap("caller", 30.0), Gap("agent", -1.0, 2.0), Gap("agent", 50.0, 60.0), Gap("agent", 3.0, 3.0)]
    assert finished_gaps(gaps, 40.0) == [Gap("agent", 0.0, 2.0), Gap("caller", 30.0, 40.0)]


def test_the_analysis_and_its_json_carry_the_recordings_gaps(recording: Path):
    result = analyze_file(recording, transcribe=False)
    assert result.gaps == [Gap("caller", *GAP)]
    doc = to_json(result)
    assert doc["gaps"] == [{"role": "caller", "start": GAP[0], "end": GAP[1]}]
    jsonschema = pytest.importorskip("jsonschema")
    if SCHEMA_PATH.is_file():  # an addition: the contract accepts new fields
        jsonschema.validate(doc, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_a_lost_device_in_a_silence_is_not_dead_air(tmp_path: Path):
    # both sides silent for 9 s, the caller's device lost meanwhile: without the gap that is dead air
    from poise.audio.sources import load_call

    call = load_call(speech_path(BOOKING))
    agent, caller = call.agent[: int(CALL_S * SAMPLE_RATE)].copy(), call.caller[: int(CALL_S * SAMPLE_RATE)].copy()
    agent[int(GAP[0] * SAMPLE_RATE): int(GAP[1] * SAMPLE_RATE)] *= np.float32(1e-4)  # she waits (her line's hiss)
    caller[int(GAP[0] * SAMPLE_RATE): int(GAP[1] * SAMPLE_RATE)] = 0.0
    rec = CallRecorder(tmp_path, name="silence-with-gap")
    rec.write(Block(t0=0.0, agent=agent, caller=caller))
    wav = rec.close()
    in_gap = lambda result: [c for c in result.cues if c.kind == "dead_air" and GAP[0] <= c.t <= GAP[1]]  # noqa: E731
    assert in_gap(analyze_file(wav, transcribe=False))  # no gap marked: 9 s of mutual silence is dead air
    rec = CallRecorder(tmp_path, name="silence-with-gap-marked")
    rec.mark_gap(Gap("caller", *GAP))
    rec.write(Block(t0=0.0, agent=agent, caller=caller))
    assert in_gap(analyze_file(rec.close(), transcribe=False)) == []


def test_a_recording_without_gaps_says_none(tmp_path: Path):
    audio, rate = sf.read(str(speech_path(BOOKING)), frames=int(20 * 8000), dtype="float32", always_2d=True)
    wav = tmp_path / "plain.wav"
    sf.write(str(wav), audio, rate)
    assert to_json(analyze_file(wav, transcribe=False))["gaps"] == []


def test_the_cli_json_of_the_recording_has_its_gaps(recording: Path, tmp_path: Path):
    out = tmp_path / "call.json"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONWARNINGS")}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run([sys.executable, "-m", "poise.cli", "analyze", str(recording), "--no-transcript",
                           "--quiet", "--json", str(out)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["gaps"] == [{"role": "caller", "start": GAP[0], "end": GAP[1]}]


def test_a_reviewed_recording_is_saved_to_history_with_its_gaps(recording: Path, tmp_path: Path):
    history = History(tmp_path / "history.sqlite")
    spec = CallSpec(kind=CallKind.REVIEW, file=recording, transcribe=False)
    outcome = review_call(spec, history=history)
    assert outcome.error is None and outcome.call_id is not None, outcome
    assert outcome.result.gaps == [Gap("caller", *GAP)]  # what the review window draws
    with HistoryStore(history.path) as store:
        doc = store.load_call(outcome.call_id)
    assert doc["gaps"] == [{"role": "caller", "start": GAP[0], "end": GAP[1]}]


def test_a_live_call_is_saved_with_its_gaps_even_without_a_recording(recording: Path, tmp_path: Path):
    result = analyze_file(recording, transcribe=False)
    result.gaps = []  # as a live session's result comes: the gaps are the source's
    history = History(tmp_path / "history.sqlite")
    saved = history.record(CallKind.LIVE, "default", result, recording=None, gaps=[Gap("agent", 30.0)])
    assert saved.call_id is not None, saved
    with HistoryStore(history.path) as store:
        doc = store.load_call(saved.call_id)
    # the microphone never came back: its gap ends with the call
    assert doc["gaps"] == [{"role": "agent", "start": 30.0, "end": pytest.approx(result.source.duration_s, abs=0.001)}]
    # a kept recording's own marks are used when the call brings none
    saved = history.record(CallKind.LIVE, "default", result, recording=recording)
    with HistoryStore(history.path) as store:
        assert store.load_call(saved.call_id)["gaps"] == [{"role": "caller", "start": GAP[0], "end": GAP[1]}]


def test_the_review_timeline_draws_a_hatched_span_with_its_tooltip(qtbot, recording: Path, tmp_path: Path):
    from PySide6.QtCore import Qt

    from poise.app.review import level_db, load_audio
    from poise.desktop.review_timeline import ReviewTimeline

    result = analyze_file(recording, transcribe=False)
    tl = ReviewTimeline()
    qtbot.addWidget(tl)
    tl.resize(1000, 320)
    call = load_audio(CallSpec(kind=CallKind.REVIEW, file=recording))
    tl.set_duration(result.source.duration_s)
    tl.set_audio(level_db(call.agent), level_db(call.caller), 0.1)
    tl.set_result(result, (120.0, 160.0), 3.0)
    tl.show()
    qtbot.waitExposed(tl)
    assert tl.gap_tips == ["Caller audio silent (device lost) 00:12–00:21"]
    spans = [item for item, _plot in tl.gap_items]
    assert len({id(p) for _i, p in tl.gap_items}) == len(tl.plots)  # on every lane
    assert all(s.getRegion() == pytest.approx(GAP) and s.toolTip() == tl.gap_tips[0] for s in spans)
    assert any(s.brush.style() == Qt.BrushStyle.BDiagPattern for s in spans)  # hatched
    # drawn: the call lane is grey-hatched inside the gap where the caller's envelope was, not outside
    image = tl.grab().toImage()
    mid, after = tl.x_of("call", sum(GAP) / 2), tl.x_of("call", GAP[1] + 8.0)
    y = int(mid.y()) + 12  # below the centre line: the caller's half

    def greys(x: int) -> int:
        px = [image.pixelColor(x + dx, y + dy) for dx in range(-20, 20) for dy in range(-6, 6)]
        return sum(1 for c in px if abs(c.red() - c.blue()) < 12 and abs(c.red() - c.green()) < 12 and c.red() < 235)

    assert greys(int(mid.x())) > 40 > greys(int(after.x())), (greys(int(mid.x())), greys(int(after.x())))
    tl.grab().save(str(tmp_path / "timeline_gap.png"))
