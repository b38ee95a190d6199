"""The live view's caller-heat indicator (issue 10, pytest-qt offscreen): it draws the engine's
`Meters.caller_heat` and nothing else, eases towards it, says one quiet word, never adds a cue, and is
off on a mono call."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from poise.audio.session import Session
from poise.audio.types import SAMPLE_RATE, Block, Segment
from poise.desktop.heat_indicator import heat_word
from poise.language.heat import HEATED


def _engine_meters(seconds: int = 10):
    """Meters from a real Session whose caller turns abusive at 2-3 s (heard 1.5 s later)."""
    session = Session(has_caller=True)
    session.admit_transcript([Segment("caller", 2.0, 3.0, "Shut up, you useless idiot.")])
    rng = np.random.default_rng(2)
    out = []
    for i in range(seconds):
        noise = (rng.standard_normal(SAMPLE_RATE) * 1e-4).astype(np.float32)
        session.feed(Block(t0=float(i), agent=noise, caller=noise.copy()))
        out.append(session.meters())
    return out


def test_the_indicator_shows_the_engines_heat_quietly(qtbot) -> None:
    from poise.desktop.live_view import LiveView

    view = LiveView()
    qtbot.addWidget(view)
    view.clear()
    view.set_has_caller(True)
    assert view.caller_heat.text() == "Caller: —"  # no call yet: nobody to listen to
    meters = _engine_meters()
    view.on_meters(replace(meters[0], caller_heat=None))  # the call's first meters, before any heat
    assert view.caller_heat.text() == "Caller: listening…"
    view.on_meters(meters[1])
    assert view.caller_heat.heat() == 0.0 and view.caller_heat.text() == "Caller: calm"
    for m in meters[2:]:
        view.on_meters(m)
    assert view.caller_heat.heat() == meters[-1].caller_heat >= HEATED
    assert view.caller_heat.text() == "Caller: upset"
    assert 0.0 < view.caller_heat.shown() <= meters[-1].caller_heat  # eased, not jumped
    for _ in range(20):
        view.on_meters(meters[-1])
    assert abs(view.caller_heat.shown() - meters[-1].caller_heat) < 0.02
    assert view.cue_texts() == []  # heat alone is never a cue
    view.show()
    assert not view.grab().isNull()

    view.clear()
    assert view.caller_heat.heat() is None and view.caller_heat.shown() == 0.0
    view.set_has_caller(False)
    view.on_meters(meters[-1])
    assert view.caller_heat.text() == "Caller: no caller channel" and view.caller_heat.heat() is None


def test_the_word_for_each_heat() -> None:
    assert [heat_word(h) for h in (None, 0.0, 0.24, 0.3, HEATED, 1.0)] == [
        "listening…", "calm", "calm", "a little tense", "upset", "upset"]
