"""The read-along's presentation view: full screen, large high-contrast type, following a real take."""

from __future__ import annotations

from conftest import speech_path
from PySide6.QtCore import Qt

from poise.audio.sources import FileSource, load_call

JFK = "fw_jfk.flac"


def test_every_text_colour_is_high_contrast():
    from poise.desktop import practice_presentation as p

    for color in (p.TEXT, p.CALM, p.DEFENSIVE, p.ON_PACE, p.OFF_PACE, p.HINT):
        assert p.contrast_ratio(color, p.BACKGROUND) >= 7.0, color.name()  # WCAG AAA
    assert p.contrast_ratio(p.NOW_TEXT, p.NOW_BG) >= 7.0
    assert 3.0 < p.contrast_ratio(p.READ, p.BACKGROUND) < 7.0  # read words fade, still legible
    assert p.contrast_ratio(p.TEXT, p.TEXT) == 1.0


def test_the_presentation_follows_a_take_full_screen_in_large_type(qtbot):
    from poise.desktop.trainer_window import TrainerWindow

    call = load_call(speech_path(JFK))
    win = TrainerWindow(source_factory=lambda: FileSource(call, realtime=True, speed=4), agent="default")
    qtbot.addWidget(win)
    win.show()
    tab = win.read_tab
    tab.choose_script("escalate")
    tab.present()
    view = tab.presentation
    qtbot.addWidget(view)
    assert view.isVisible() and view.full_screen
    assert view.geometry() == view.screen().geometry()  # the whole screen
    view.script.ensurePolished()
    assert view.script.font().pointSizeF() >= 36 > tab.script.font().pointSizeF()
    assert view.script.toPlainText() == tab.script.toPlainText()
    assert view.title.text() == "Offer escalation or a supervisor"
    calm = [s for s in view.script.extraSelections() if s.format.fontUnderline()]
    assert len(calm) >= 2  # the calming phrases, marked as in the tab

    qtbot.keyClick(view, Qt.Key.Key_Space)  # Space starts the take
    assert tab.is_running()
    qtbot.waitUntil(lambda: tab.word_index >= 3, timeout=20_000)
    assert view.current_word() == tab.current_word()
    now = view.script.extraSelections()[-1]
    assert now.cursor.selectedText() == tab.current_word()
    qtbot.waitUntil(lambda: view.pace.text()[:1].isdigit(), timeout=20_000)
    assert view.verdict.text() in ("On pace", "Too fast", "Too slow")
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=20_000)  # the recording runs out
    assert view.score.text() == tab.last_score.summary()

    qtbot.keyClick(view, Qt.Key.Key_F11)
    assert not view.full_screen
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert not view.isVisible()
    win.close()


def test_the_highlight_ranges_never_overlap_and_the_word_now_comes_last(qtbot):
    """Qt drops an extra selection listed after one with a background, and overlapping ones (seen under
    Xvfb: the rest of a phrase after the current word lost its colour)."""
    from poise.app.practice import script_words
    from poise.desktop.read_along_tab import ReadAtPaceTab

    tab = ReadAtPaceTab()
    qtbot.addWidget(tab)
    tab.choose_script("boundary")
    tab.words = script_words(tab.script.toPlainText())
    for index in range(len(tab.words)):
        tab.word_index = index
        sels = tab.selections_for(tab.script)
        spans = [(s.cursor.selectionStart(), s.cursor.selectionEnd()) for s in sels]
        ordered = sorted(spans)
        assert all(a[1] <= b[0] for a, b in zip(ordered, ordered[1:])), (index, spans)
        with_background = [i for i, s in enumerate(sels) if s.format.background().style() != Qt.BrushStyle.NoBrush]
        assert with_background == [len(sels) - 1]
        assert sels[-1].cursor.selectedText() == tab.current_word()


def test_the_live_strip_draws_pitch_in_semitones_from_the_take_median(qtbot):
    import numpy as np
    import pytest

    from poise.desktop.practice_strip import LiveStrip

    strip = LiveStrip()
    qtbot.addWidget(strip)
    for i, (wpm, hz) in enumerate([(150, 100.0), (None, None), (160, 200.0), (400, 100.0)]):
        strip.add(i * 0.1, wpm, hz)
    st = strip.pitch_st()
    assert st[0] == pytest.approx(0.0) and np.isnan(st[1]) and st[2] == pytest.approx(12.0)
    _, pace = strip.pace_curve.getData()
    assert pace[3] == 260.0  # clipped to the lane, not off the chart
    strip.set_band(140, 170)
    assert strip.band.getRegion() == pytest.approx((140, 170))
    strip.clear_take()
    assert strip.t == [] and len(strip.pace_curve.getData()[0] or []) == 0
