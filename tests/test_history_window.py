"""The history window (real Qt, offscreen): sort, filter, open a call in review, delete with its audio,
retention, orphans; the trends tab's dates; the profile picker and the profiles view; the main window's entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QDate, Qt

from poise import paths
from poise.app.settings import SettingsStore
from poise.audio.store import HistoryStore
from poise.audio.types import Baseline
from tests.test_store import CUES, make_result

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc)


def _wav(path: Path) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(16000, np.float32), 16000)
    return path


@pytest.fixture()
def filled() -> dict[str, int]:
    """Nine calls of three agents over nine days, 0-3 cues each; call 'rec' has a recording Poise made."""
    ids: dict[str, int] = {}
    with HistoryStore() as store:
        for i in range(9):
            agent = ("sam", "alex", "dana")[i % 3]
            ids[f"c{i}"] = store.save_call(
                make_result(wpm=140.0 + 5 * i, interruptions=i % 4, cues=CUES[: i % 4]), "live",
                agent=agent, started_at=T0 + timedelta(days=i),
            )
        ids["rec"] = store.save_call(
            make_result(wpm=199.0), "live", agent="sam", started_at=T0 + timedelta(days=20),
            recording=_wav(paths.recordings_dir() / "kept.wav"),
        )
        store.update_profile("sam", Baseline(176.0, -23.0, 4.4, 120.0))
    return ids


def _texts(window, column: int) -> list[str]:
    model = window.model
    return [model.data(model.index(r, column)) for r in range(model.rowCount())]


def test_sort_filter_open_and_delete(qtbot, filled) -> None:
    from poise.desktop.history_window import HistoryWindow

    opened: list[Path] = []
    window = HistoryWindow(opener=lambda path, *_: opened.append(path))
    qtbot.addWidget(window)
    window.show()
    assert window.model.rowCount() == 10 and window.count_label.text() == "10 calls"
    assert _texts(window, 4)[0] == "199"  # newest first

    window.table.sortByColumn(4, Qt.SortOrder.AscendingOrder)  # pace, slowest first (a header click)
    paces = [float(t) for t in _texts(window, 4)]
    assert paces == sorted(paces) and paces[0] == 140.0
    window.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)  # cues, most first
    cues = [int(t) for t in _texts(window, 5)]
    assert cues == sorted(cues, reverse=True) and cues[0] == 4

    window.agent_filter.setCurrentIndex(window.agent_filter.findData("alex"))
    assert set(_texts(window, 1)) == {"alex"} and window.model.rowCount() == 3
    assert window.count_label.text() == "3 of 10 calls"
    window.cue_filter.setValue(2)  # alex's calls have 1, 0 and 3 cues (i = 1, 4, 7)
    assert [int(t) for t in _texts(window, 5)] == [3]
    window.clear_filter()
    local = (T0 + timedelta(days=2)).astimezone().date()
    window.since_edit.setDate(QDate(local.year, local.month, local.day))
    window.until_edit.setDate(QDate(local.year, local.month, local.day).addDays(2))
    assert window.model.rowCount() == 3  # days 2, 3 and 4
    window.clear_filter()
    assert window.model.rowCount() == 10

    # open in review: the call with a recording opens it; one without audio says so
    assert window.open_call(filled["rec"]) and opened == [paths.recordings_dir() / "kept.wav"]
    assert not window.open_call(filled["c0"]) and "not kept" in window.status.text()

    # select a row with the keyboard's model and delete it (the question answered yes)
    window.ask_yes = lambda title, question: True
    row = next(i for i in range(window.model.rowCount()) if window.model.row(i).id == filled["rec"])
    window.table.selectRow(row)
    assert window.selected_ids() == [filled["rec"]] and window.open_button.isEnabled()
    window._delete_selected()
    assert not (paths.recordings_dir() / "kept.wav").exists()
    assert window.model.rowCount() == 9 and "Removed 1 call and 1 recording." in window.status.text()
    with HistoryStore() as store:
        assert filled["rec"] not in [r.id for r in store.list_calls(limit=None)]
    window.close()


def test_opening_a_call_in_the_real_review_window(qtbot, tmp_path) -> None:
    from conftest import speech_path
    from poise.desktop.history_window import HistoryWindow
    from poise.desktop.review_window import ReviewWindow

    audio = speech_path("ps_goforward.wav")
    with HistoryStore() as store:
        call_id = store.save_call(make_result(path=str(audio)), "review", agent="sam", recording=audio)
    window = HistoryWindow()
    qtbot.addWidget(window)
    assert window.open_call(call_id)
    review = window.review_windows[0]
    assert isinstance(review, ReviewWindow) and Path(review.path) == audio
    review.cancel()
    review.wait(60)  # the analysis stops at its next chunk: no worker left running at exit
    review.close()
    window.close()


def test_a_saved_review_reopens_with_the_side_and_caller_file_it_was_analysed_with(qtbot, tmp_path) -> None:
    """A call analysed with the agent on the right (or with a caller file) opened from history as left-is-agent
    swapped the speakers: the transcript's caller lines read "Agent" and the cues were the caller's."""
    from dataclasses import replace

    from poise.audio.sources import load_call
    from poise.desktop.history_window import HistoryWindow

    import soundfile as sf

    tone = 0.1 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32)
    stereo, agent_file, caller_file = tmp_path / "stereo.wav", tmp_path / "agent.wav", tmp_path / "caller.wav"
    sf.write(stereo, np.stack([tone, tone], axis=1), 16000)
    sf.write(agent_file, tone, 16000)
    sf.write(caller_file, tone, 16000)
    with HistoryStore() as store:
        right = replace(make_result(), source=load_call(stereo, agent_channel="right").info)
        pair = replace(make_result(), source=load_call(agent_file, caller_file).info)
        ids = [store.save_call(result, "review", recording=Path(result.source.path)) for result in (right, pair)]
    opened: list = []
    window = HistoryWindow(opener=lambda *args: opened.append(args))
    qtbot.addWidget(window)
    assert all(window.open_call(i) for i in ids)
    assert opened == [(stereo, None, "right"), (agent_file, caller_file, "left")]
    caller_file.unlink()  # half of the call is gone: it cannot be reviewed as it was
    assert not window.open_call(ids[1]) and "not kept" in window.status.text()


def test_retention_and_orphans_in_the_window(qtbot) -> None:
    from poise.desktop.history_window import HistoryWindow

    now = datetime.now(timezone.utc)
    with HistoryStore() as store:
        store.save_call(make_result(), "live", started_at=now - timedelta(days=50))
        recent = store.save_call(make_result(), "live", started_at=now - timedelta(days=1))
    orphan = _wav(paths.recordings_dir() / "nobody.wav")
    window = HistoryWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.retention.text() == "forever" and window.model.rowCount() == 2
    assert window.orphans_button.isVisible() and "1 recording(s)" in window.orphans_label.text()
    window.set_retention(30)
    assert [r.id for r in window.model.rows] == [recent] and window.retention.value() == 30
    window.ask_yes = lambda title, question: True
    window._remove_orphans()
    assert not orphan.exists() and not window.orphans_button.isVisible()
    window.close()
    with HistoryStore() as store:
        from poise.app.forget import retention_days

        assert retention_days(store) == 30


def test_trends_use_real_dates(qtbot, filled) -> None:
    import pyqtgraph as pg

    from poise.desktop.history_window import HistoryWindow

    window = HistoryWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.show_tab("trends")
    tab = window.trends_tab
    tab.set_agent("sam")
    assert isinstance(tab.pace_plot.getAxis("bottom"), pg.DateAxisItem)
    xs, ys = tab.pace_plot.getPlotItem().listDataItems()[0].getData()
    expected = [(T0 + timedelta(days=d)).timestamp() for d in (0, 3, 6, 20)]
    assert list(xs) == pytest.approx(expected) and list(ys) == [140.0, 155.0, 170.0, 199.0]
    _, per10 = tab.cue_plot.getPlotItem().listDataItems()[0].getData()
    assert per10[1] == pytest.approx(3 * 600 / 52.0)  # 3 cues in a 52 s call
    _, interruptions = tab.interrupt_plot.getPlotItem().listDataItems()[0].getData()
    assert list(interruptions) == [0, 3, 2, 1]
    axis = tab.pace_plot.getAxis("bottom")
    tab.grab()  # painted once: the axis has its font and zoom level
    levels = axis.tickValues(expected[0], expected[-1], 800)
    labels = [text for spacing, values in levels for text in axis.tickStrings(values, 1.0, spacing)]
    assert "Oct" in labels or any(label.isdigit() and 1 <= int(label) <= 31 for label in labels), labels  # dates
    assert "4 calls" in tab.summary.text()
    with HistoryStore() as store:  # a 5 s clip Poise could not judge: no cue rate, not a perfect 0
        short = replace(make_result(cues=[]), source=replace(make_result().source, duration_s=5.0))
        store.save_call(short, "review", agent="sam", started_at=T0 + timedelta(days=21))
    tab.set_agent("alex")
    tab.set_agent("sam")
    _, per10 = tab.cue_plot.getPlotItem().listDataItems()[0].getData()
    assert len(per10) == 5 and np.isnan(per10[-1])
    window.close()


def test_profile_picker_and_view(qtbot, filled) -> None:
    from poise.desktop.main_window import MainWindow
    from poise.desktop.profiles import ProfilesView

    main = MainWindow(check_recovery=False)
    qtbot.addWidget(main)
    picker = main.profile_picker
    names = [picker.itemData(i) for i in range(picker.count()) if picker.itemData(i)]
    assert names[:-1] == ["alex", "dana", "default", "sam"] and picker.current() == "default"
    picker.ask_new = lambda parent: "Kim Park"
    picker.setCurrentIndex(picker.count() - 1)
    picker.activated.emit(picker.count() - 1)  # "New agent…"
    assert picker.current() == "Kim Park" and SettingsStore().load().agent == "Kim Park"
    picker.activated.emit(picker.findData("sam"))
    assert SettingsStore().load().agent == "sam"
    from poise.app.spec import CallKind, CallSpec

    assert CallSpec.from_settings(CallKind.LIVE, main.settings.load()).agent == "sam"  # the next call is sam's

    view = ProfilesView()
    qtbot.addWidget(view)
    view.select("sam")
    assert view.values["pitch"].text() == "176 Hz" and view.values["loudness"].text() == "-23 dBFS"
    assert "words per minute" in view.values["pace"].text() and view.values["calls"].text() == "4"
    view.ask_name = lambda title, label, text: "Sam Ortiz"
    view._rename()
    assert SettingsStore().load().agent == "Sam Ortiz" and view.selected().name == "Sam Ortiz"
    view.ask_yes = lambda title, question: True
    view._reset()
    assert view.values["pitch"].text() == "not learnt yet"
    with HistoryStore() as store:
        assert store.load_profile("Sam Ortiz") is None and len(store.list_calls(limit=None, agent="Sam Ortiz")) == 4
    view._delete()
    assert "Sam Ortiz" not in [p.name for p in view.summaries] and SettingsStore().load().agent == "default"
    with HistoryStore() as store:
        assert store.list_calls(limit=None, agent="Sam Ortiz") == []
    picker.refresh()
    assert picker.findData("Sam Ortiz") == -1 and picker.current() == "default"
    main.close()


def test_ctrl_h_opens_the_history_from_the_main_window(qtbot, filled) -> None:
    from poise.desktop.main_window import MainWindow

    main = MainWindow(check_recovery=False)
    qtbot.addWidget(main)
    menus = [a.text() for a in main.menuBar().actions()]
    assert "&History" in menus
    assert main.history_action.shortcut().toString() == "Ctrl+H"
    main.history_action.trigger()
    window = main.history_window
    assert window is not None and window.isVisible() and window.model.rowCount() == 10
    window.close()
    main.close()


def test_the_app_applies_retention_at_start_and_can_forget_everything(qtbot, filled) -> None:
    from poise.app.forget import set_retention
    from poise.desktop.main_window import MainWindow

    with HistoryStore() as store:
        old = store.save_call(make_result(), "live", agent="sam", started_at=datetime.now(timezone.utc) - timedelta(days=400))
        set_retention(store, 365)
    main = MainWindow(check_recovery=False)
    qtbot.addWidget(main)

    def gone() -> bool:
        with HistoryStore() as store:
            return old not in [r.id for r in store.list_calls(limit=None)]

    qtbot.waitUntil(gone, timeout=10_000)
    main.history_action.trigger()
    window = main.history_window
    assert window.model.rowCount() == 10  # the fixture's calls are recent: kept
    window.ask_yes = lambda title, question: True
    window._forget_all()
    assert window.model.rowCount() == 0 and "Removed 10 calls" in window.status.text()
    with HistoryStore() as store:
        assert store.list_agents() == [] and store.load_profile("sam") is None
    assert not (paths.recordings_dir() / "kept.wav").exists()
    window.close()
    main.close()
