"""The batch summary table (poise/desktop/batch_window.py): worst calls first, sortable, a double-click
opens the call in review, a bad file is one sentence; the menu entry and the history window's batch filter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from poise.audio.coach import CUE_KINDS
from poise.audio.store import HistoryStore
from poise.batch.manifest import write_summary
from tests.test_store import make_result


def _wav(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(8000, np.float32), 16000)
    return path


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    """A batch's output folder with its summary: three analysed calls (one a pair) and a failed one."""
    calls = tmp_path / "calls"
    out = tmp_path / "week48"

    def row(name: str, cues: int, minutes: float, **extra) -> dict:
        return {"call": name, "status": "ok", "duration_s": minutes * 60, "agent": "sam", "agent_wpm": 150.0,
                "agent_talk_share": 0.5, "agent_interruptions": 1, "cues": cues,
                "cues_per_10min": round(cues / minutes * 10, 2), "agent_file": str(_wav(calls / f"{name}.wav")),
                **{f"cue_{k}": 0 for k in CUE_KINDS}, "cue_dead_air": cues, **extra}

    rows = [
        row("calm", 1, 10), row("worst", 8, 5),
        row("pair", 3, 10, agent_file=str(_wav(calls / "pair_agent.wav")), caller_file=str(_wav(calls / "pair_caller.wav"))),
        {"call": "broken", "status": "error", "error": "broken.wav is not an audio file Poise can read.",
         "agent": "sam", "agent_file": str(calls / "broken.wav"), "duration_s": 0.0},
        row("moved", 2, 10),
    ]
    out.mkdir()
    write_summary(out, rows, CUE_KINDS)
    (calls / "moved.wav").unlink()  # its recording was moved after the batch
    return out


def _column(window, key: str) -> list[str]:
    model = window.model
    col = model.column_of(key)
    return [model.data(model.index(r, col)) for r in range(model.rowCount())]


def test_the_table_shows_the_worst_calls_first_and_opens_one_in_review(qtbot, batch: Path) -> None:
    from poise.desktop.batch_window import BatchSummaryWindow

    opened: list[tuple[Path, Path | None]] = []
    window = BatchSummaryWindow(opener=lambda a, c, channel: opened.append((a, c)))
    qtbot.addWidget(window)
    window.load(batch)  # off the UI thread
    qtbot.waitUntil(lambda: window.model.rowCount() == 5, timeout=5000)
    assert _column(window, "call") == ["worst", "pair", "moved", "calm", "broken"]  # cue rate, highest first
    assert _column(window, "cues_per_10min")[:2] == ["16.0", "3.0"] and _column(window, "cues_per_10min")[-1] == "—"
    assert _column(window, "duration_s")[0] == "5:00" and _column(window, "talk_share")[0] == "50 %"
    assert _column(window, "cue_dead_air")[0] == "8" and _column(window, "cue_dead_air")[-1] == "—"
    assert _column(window, "error")[-1].startswith("broken.wav is not an audio file")
    header = window.table.horizontalHeader()
    assert header.sortIndicatorSection() == window.model.column_of("cues_per_10min")
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert "5 calls, 35 min of audio, 1 not analysed" in window.subtitle.text()

    window.table.sortByColumn(window.model.column_of("call"), Qt.SortOrder.AscendingOrder)  # a header click
    assert _column(window, "call") == ["broken", "calm", "moved", "pair", "worst"]
    window.table.sortByColumn(window.model.column_of("cues_per_10min"), Qt.SortOrder.DescendingOrder)

    assert window.open_row(1)  # the pair: both sides go to the review
    assert opened[-1] == (batch.parent / "calls" / "pair_agent.wav", batch.parent / "calls" / "pair_caller.wav")
    window.table.doubleClicked.emit(window.model.index(0, 0))
    assert opened[-1] == (batch.parent / "calls" / "worst.wav", None)
    assert not window.open_row(2) and "moved or deleted" in window.status.text()  # 'moved': its audio is gone
    assert len(opened) == 2


def test_a_bad_summary_is_one_sentence_in_the_window(qtbot, tmp_path: Path) -> None:
    from poise.desktop.batch_window import BatchSummaryWindow

    (tmp_path / "summary.csv").write_text("name,score\na,1\n")
    window = BatchSummaryWindow(tmp_path / "summary.csv")
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.error is not None, timeout=5000)
    assert window.subtitle.text() == "This summary cannot be shown: summary.csv is not a summary of `poise batch`: " \
                                     "it has no 'call', 'status', 'duration_s', 'cues_per_10min', 'agent_file' columns."
    assert window.model.rowCount() == 0 and window.title.text() == "No batch summary"
    window.load(tmp_path / "gone", background=False)
    assert "cannot be shown: there is no batch summary at" in window.subtitle.text() and "\n" not in window.error


def test_the_menu_entry_sits_after_open_recording(qtbot) -> None:
    from PySide6.QtGui import QAction

    from poise.desktop.batch_window import install_batch_menu

    window = QMainWindow()
    qtbot.addWidget(window)
    window.open_action = QAction("Open recording…", window)
    menu = window.menuBar().addMenu("&Call")
    menu.addAction(window.open_action)
    menu.addAction(QAction("Quit", window))
    action = install_batch_menu(window)
    assert [a.text() for a in menu.actions()] == ["Open recording…", "Open batch summary…", "Quit"]
    assert action.shortcut().toString() == "Ctrl+Shift+O"


def test_the_history_window_filters_one_batch_and_opens_its_summary(qtbot, batch: Path) -> None:
    from poise.desktop.history_window import HistoryWindow

    with HistoryStore() as store:
        ids = [store.save_call(make_result(), "review", agent="sam") for _ in range(3)]
        store.save_batch("5eed0001", "week48", batch, ids[:2])
    window = HistoryWindow(opener=lambda *_: None)
    qtbot.addWidget(window)
    window.show()
    assert window.model.rowCount() == 3 and window.batch_filter.isVisible()
    assert window.show_batch("5eed0001")
    assert sorted(r.id for r in window.model.rows) == ids[:2] and window.count_label.text() == "2 of 3 calls"
    summary = window.open_batch_summary()
    qtbot.addWidget(summary)
    qtbot.waitUntil(lambda: summary.model.rowCount() == 5, timeout=5000)
    window.clear_filter()
    assert window.model.rowCount() == 3 and window.batch_filter.currentIndex() == 0


def test_without_batches_the_history_window_shows_no_batch_filter(qtbot) -> None:
    from poise.desktop.history_window import HistoryWindow

    with HistoryStore() as store:
        store.save_call(make_result(), "review")
    window = HistoryWindow(opener=lambda *_: None)
    qtbot.addWidget(window)
    window.show()
    assert not window.batch_filter.isVisible() and window.model.rowCount() == 1


def test_a_right_channel_call_opens_with_the_agent_on_the_right(qtbot, tmp_path: Path) -> None:
    """A batch run with --agent-channel right reviews its calls with the agent on the right: through the app's
    opener, or in a review window of the batch window's own."""
    from poise.desktop.batch_window import BatchSummaryWindow

    from conftest import speech_path

    voice, sr = sf.read(speech_path("ps_goforward.wav"), dtype="float32")
    x = np.zeros((len(voice), 2), np.float32)
    x[:, 1] = voice  # the agent on the right
    sf.write(tmp_path / "stereo.wav", x, sr)
    write_summary(tmp_path, [{"call": "stereo", "status": "ok", "duration_s": 0.5, "agent": "sam", "cues": 0,
                              "cues_per_10min": 0.0, "agent_file": str(tmp_path / "stereo.wav"), "agent_channel": "right"}],
                  CUE_KINDS)
    opened: list = []
    with_opener = BatchSummaryWindow(opener=lambda a, c, channel: opened.append((a, c, channel)))
    qtbot.addWidget(with_opener)
    with_opener.load(tmp_path, background=False)
    assert with_opener.open_row(0) and opened == [(tmp_path / "stereo.wav", None, "right")]
    window = BatchSummaryWindow()
    qtbot.addWidget(window)
    window.load(tmp_path, background=False)
    assert window.model.row(0).agent_channel == "right"
    assert window.open_row(0)
    (review,) = window.review_windows
    assert review.spec.agent_channel == "right" and review.spec.file == tmp_path / "stereo.wav"
    from poise.desktop.review_window import wait_for_reviews

    # the review runs to its end before the test leaves (CTranslate2 aborts a process exiting under it)
    qtbot.waitUntil(lambda: review.result is not None or review.error is not None, timeout=120_000)
    assert review.error is None, review.error
    review.close()
    wait_for_reviews(60)
