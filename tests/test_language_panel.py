"""The review window's "What was said" pane (pytest-qt, offscreen): summary lines, editable draft
notes, phrase moments that seek when clicked."""

from __future__ import annotations

import numpy as np
import pytest

from poise.audio.session import Session
from poise.audio.types import SAMPLE_RATE, AnalysisResult, Block, Segment


def _result(segments: list[Segment]) -> AnalysisResult:
    """A real Session's result for 20 s of a quiet two-sided line, with this transcript."""
    session = Session(has_caller=True)
    rng = np.random.default_rng(0)
    for i in range(20):
        noise = (rng.standard_normal(SAMPLE_RATE) * 1e-4).astype(np.float32)
        session.feed(Block(t0=float(i), agent=noise, caller=noise.copy()))
    return session.finish(segments=segments)


SEGMENTS = [
    Segment("caller", 1.0, 3.0, "I'm calling because my parcel never arrived."),
    Segment("caller", 3.5, 5.0, "This is ridiculous."),
    Segment("agent", 6.0, 7.5, "As I said, it's out of my hands."),
    Segment("agent", 9.0, 11.0, "I'm so sorry, that must be frustrating."),
    Segment("agent", 12.0, 15.0, "I'll send a replacement by Friday."),
]


def test_the_pane_shows_the_summary_notes_and_moments(qtbot) -> None:
    from poise.desktop.language_panel import LanguagePanel

    panel = LanguagePanel()
    qtbot.addWidget(panel)
    panel.set_result(_result(SEGMENTS))
    lines = panel.lines.text().splitlines()
    assert lines[0] == "Acknowledged within 4 s of the caller's first complaint (0:04)."
    assert lines[1].startswith("Defensive phrases: 1") and lines[2].startswith("Next steps stated: yes")
    notes = panel.notes_text()
    assert "Concern: I'm calling because my parcel never arrived." in notes
    assert "I'll send a replacement by Friday. (by friday)" in notes
    texts = [panel.moments.item(i).text() for i in range(panel.moments.count())]
    assert any("Agent · defensive" in t and "As I said" in t for t in texts)
    assert any("Caller · hostile" in t for t in texts)

    panel.notes.setPlainText("Concern: parcel lost. Follow-up: replacement Friday.")  # the agent edits the draft
    assert panel.notes_text() == "Concern: parcel lost. Follow-up: replacement Friday."

    row = next(i for i, t in enumerate(texts) if "defensive" in t)
    with qtbot.waitSignal(panel.seek_requested, timeout=2000) as blocker:
        panel.moments.itemClicked.emit(panel.moments.item(row))
    assert blocker.args == [pytest.approx(5.0)]  # 1 s before the sentence

    panel.show()
    assert not panel.grab().isNull()


def test_a_call_without_words_says_so(qtbot) -> None:
    from poise.desktop.language_panel import LanguagePanel

    panel = LanguagePanel()
    qtbot.addWidget(panel)
    panel.set_result(_result([]))
    assert panel.lines.text() == "No transcript: nothing to read here." and panel.moments.count() == 0
