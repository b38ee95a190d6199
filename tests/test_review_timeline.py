"""The review timeline's heat lane (issue 10, pytest-qt offscreen): the caller's heat as the engine measured
it for the recording, causally (words count from when they would have arrived live), and the agent's phrase
moments marked on it with their words on hover; a click plays from just before one."""

from __future__ import annotations

import numpy as np
import pytest

from poise.audio.session import WORD_DELAY_S, Session
from poise.audio.types import SAMPLE_RATE, Block, Segment
from poise.language.heat import HEATED

SEGMENTS = [
    Segment("caller", 2.0, 3.0, "You're a useless idiot."),  # abuse: heated from its words alone
    Segment("agent", 5.0, 7.0, "I understand how frustrating this is, and I'm sorry."),
    Segment("agent", 8.0, 9.0, "Calm down, please."),
    Segment("agent", 10.0, 12.0, "I'll call you back tomorrow with the refund."),
]


def _replay(segments: list[Segment], seconds: int = 16, has_caller: bool = True):
    """A real Session over a quiet line with this transcript admitted as a recording's is."""
    session = Session(has_caller=has_caller)
    session.admit_transcript(segments)
    rng = np.random.default_rng(1)
    meters = []
    for i in range(seconds):
        noise = (rng.standard_normal(SAMPLE_RATE) * 1e-4).astype(np.float32)
        session.feed(Block(t0=float(i), agent=noise, caller=noise.copy() if has_caller else None))
        meters.append(session.meters())
    return session.finish(segments=segments), meters


def test_the_heat_is_the_engines_causal_series_and_reaches_the_meters() -> None:
    result, meters = _replay(SEGMENTS)
    heat = dict(result.caller_heat)
    arrives = SEGMENTS[0].end + WORD_DELAY_S
    assert result.caller_heat and all(h < HEATED for t, h in heat.items() if t < arrives)  # not before it was heard
    assert any(h >= HEATED for t, h in heat.items() if arrives <= t <= arrives + 3.0)
    assert meters[1].caller_heat == 0.0 and meters[6].caller_heat >= HEATED  # the live indicator's value
    mono, mono_meters = _replay([s for s in SEGMENTS if s.role == "agent"], seconds=4, has_caller=False)
    assert mono.caller_heat == [] and mono_meters[-1].caller_heat is None


def _curves(tl) -> list:
    import pyqtgraph as pg

    return [i for i in tl.plots["heat"].listDataItems() if isinstance(i, pg.PlotDataItem)]


def test_the_heat_lane_marks_what_the_agent_said(qtbot) -> None:
    from poise.desktop.review_timeline import ReviewTimeline

    result, _ = _replay(SEGMENTS)
    tl = ReviewTimeline()
    qtbot.addWidget(tl)
    tl.resize(1000, 400)
    tl.set_duration(result.source.duration_s)
    tl.set_result(result, (125.0, 165.0), 3.0)
    assert [(m.t, m.family) for m in tl.moments] == [(5.0, "acknowledge"), (8.0, "defensive"), (10.0, "next_steps")]
    assert tl.moment_tip(1) == "00:08  You defensive:\n\u201cCalm down, please.\u201d"
    assert tl.moment_tip(0).startswith("00:05  You acknowledged:")
    heat_items = _curves(tl)
    assert len(heat_items) == 2  # the quiet area, and the darker part above "heated"
    ys = heat_items[0].getData()[1]
    assert ys.max() >= HEATED and ys.min() == 0.0
    assert tl.message("heat") == ""

    spot = tl.moment_marks.points()[2]
    with qtbot.waitSignal(tl.seek_requested, timeout=2000) as blocker:
        tl._dot_clicked(tl.moment_marks, [spot])
    assert blocker.args == [pytest.approx(9.0)]  # a second before "I'll call you back tomorrow"
    tl.show()
    assert not tl.grab().isNull()


def test_a_calm_call_has_a_flat_lane_and_a_mono_call_says_why_it_is_empty(qtbot) -> None:
    from poise.desktop.review_timeline import ReviewTimeline

    calm, _ = _replay([Segment("agent", 1.0, 2.0, "Thanks for calling, how can I help?")], seconds=6)
    tl = ReviewTimeline()
    qtbot.addWidget(tl)
    tl.set_result(calm, (125.0, 165.0), 3.0)
    assert len(_curves(tl)) == 1 and tl.moments == []  # no heated part, no marks
    mono, _ = _replay([Segment("agent", 1.0, 2.0, "I'm sorry about that.")], seconds=4, has_caller=False)
    tl2 = ReviewTimeline()
    qtbot.addWidget(tl2)
    tl2.set_result(mono, (125.0, 165.0), 3.0)
    assert tl2.message("heat") == "mono recording: no caller to hear" and len(tl2.moments) == 1


def test_a_scroll_or_a_zoom_is_painted_once_and_every_lane_follows(qtbot) -> None:
    """pyqtgraph moved the lanes' content inside the paint, which then asked for a second paint of every lane:
    the timeline settles a range change before the paint (set_view, the wheel)."""
    from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
    from PySide6.QtGui import QMouseEvent, QWheelEvent
    from PySide6.QtWidgets import QApplication

    from poise.desktop.review_timeline import ReviewTimeline

    result, _ = _replay(SEGMENTS)
    tl = ReviewTimeline()
    qtbot.addWidget(tl)
    tl.resize(1000, 400)
    tl.show()
    qtbot.waitExposed(tl)
    rng = np.random.default_rng(2)
    level = rng.uniform(-60.0, -10.0, 16 * 10)  # 16 s of a level lane at 0.1 s a point
    tl.set_duration(result.source.duration_s)
    tl.set_audio(level, level.copy(), 0.1)
    tl.set_result(result, (125.0, 165.0), 3.0)
    for _ in range(3):
        QApplication.processEvents()
    paints = []

    class Count(QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: ANN001, N802
            if event.type() == QEvent.Type.Paint:
                paints.append(1)
            return False

    counter = Count()
    tl.viewport().installEventFilter(counter)

    def painted_after(change) -> int:  # noqa: ANN001
        paints.clear()
        change()
        qtbot.waitUntil(lambda: len(paints) > 0, timeout=5000)  # the first paint, however busy the machine is
        qtbot.wait(150)  # a second paint would be asked for during the first: it comes right after
        return len(paints)

    for x0 in (2.0, 5.0, 8.0):
        assert painted_after(lambda: tl.set_view(x0, x0 + 4.0)) == 1
        for key, plot in tl.plots.items():
            (a, b), _ = plot.viewRange()
            assert (round(a, 6), round(b, 6)) == (x0, x0 + 4.0), key
    pos = QPointF(500, 30)
    wheel = QWheelEvent(pos, tl.viewport().mapToGlobal(pos), QPoint(0, 0), QPoint(0, -120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    assert painted_after(lambda: QApplication.sendEvent(tl.viewport(), wheel)) == 1
    (a, b), _ = tl.plots["loudness"].viewRange()
    assert b - a > 4.0 + 1e-6  # it zoomed out, on every lane

    def mouse(kind: QEvent.Type, x: float, buttons: Qt.MouseButton) -> QMouseEvent:
        p = QPointF(x, 200)
        button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
        return QMouseEvent(kind, p, tl.viewport().mapToGlobal(p), button, buttons, Qt.KeyboardModifier.NoModifier)

    left = Qt.MouseButton.LeftButton
    QApplication.sendEvent(tl.viewport(), mouse(QEvent.Type.MouseButtonPress, 600, left))
    QApplication.processEvents()
    for i in range(1, 4):  # a drag pans: each move painted once
        assert painted_after(lambda: QApplication.sendEvent(tl.viewport(), mouse(QEvent.Type.MouseMove, 600 - 20 * i, left))) == 1
    QApplication.sendEvent(tl.viewport(), mouse(QEvent.Type.MouseButtonRelease, 540, Qt.MouseButton.NoButton))
    (a2, b2), _ = tl.plots["pitch"].viewRange()
    assert a2 > a + 1e-6 and abs((b2 - a2) - (b - a)) < 1e-6  # panned later in the call, the same zoom


def test_playback_pages_a_view_that_shows_it_and_leaves_one_the_user_scrolled_away(qtbot) -> None:
    from poise.desktop.review_timeline import ReviewTimeline

    result, _ = _replay(SEGMENTS)
    tl = ReviewTimeline()
    qtbot.addWidget(tl)
    tl.resize(1000, 400)
    tl.set_duration(result.source.duration_s)  # 16 s
    tl.set_view(0.0, 4.0)

    def view() -> tuple[float, float]:
        (a, b), _ = tl.plots["call"].viewRange()
        return round(a, 3), round(b, 3)

    tl.set_position(1.0, follow=True, walking=True)
    assert view() == (0.0, 4.0)
    tl.set_position(3.9, follow=True, walking=True)  # playing on past the edge: the view pages along
    assert view()[0] > 3.0 and view()[0] <= 3.9 <= view()[1]
    tl.set_view(10.0, 14.0)  # the user scrolls ahead while listening
    for t in (4.0, 4.03, 4.06):
        tl.set_position(t, follow=True, walking=True)
    assert view() == (10.0, 14.0)  # not pulled back on every frame
    tl.set_position(5.0, follow=True)  # a seek (a click on a cue, ←/→) brings the playhead into view
    assert view()[0] <= 5.0 <= view()[1]


def test_every_lane_name_explains_its_lane(qtbot) -> None:
    """Hovering a lane's name says what it draws in plain words, the heat lane's marks included."""
    from poise.desktop.review_timeline import LANE_TIPS, ReviewTimeline

    timeline = ReviewTimeline()
    qtbot.addWidget(timeline)
    assert set(timeline.lane_labels) == set(LANE_TIPS)
    for key, label in timeline.lane_labels.items():
        assert label.toolTip() == LANE_TIPS[key] and len(label.toolTip()) > 40
    assert "defensive" in timeline.lane_labels["heat"].toolTip()
