"""Practice takes in history: saved, listed, deleted; the score trend; the trainer's Takes tab after a real take."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from conftest import speech_path

from poise.app.practice import (
    PracticeScore,
    PracticeScript,
    builtin_scripts,
    compare_takes,
    list_takes,
    pace_band,
    save_take,
    score_trend,
)
from poise.audio.store import HistoryStore
from poise.report.format import fmt_length

READER_CLIPS = [f"ps_librivox_sense_and_sensibility_01_austen_64kb-{n}.wav" for n in ("0870", "0880", "0890", "0920", "0930")]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _score(overall: float | None, in_band: float = 0.5, target: float = 150) -> PracticeScore:
    return PracticeScore(
        target_wpm=target, band=pace_band(target), time_in_band=in_band if overall is not None else None,
        steadiness=0.7 if overall is not None else None, pitch_calm=0.8 if overall is not None else None,
        overall=overall, speech_s=20.0 if overall is not None else 2.0, median_wpm=160.0 if overall is not None else None,
        pitch_median_hz=110.0, t=[0.0, 1.0, 2.0], wpm=[None, 150.0, 170.0], pitch_hz=[110.0, 112.0, None],
        note=None if overall is not None else "Too little speech to score.",
    )


def test_takes_are_saved_listed_newest_first_per_agent_and_deleted(tmp_path):
    script = builtin_scripts()[1]
    own = PracticeScript("own", "Your own text", "Hello there, I hear you.")
    with HistoryStore(tmp_path / "history.db") as store:
        first = save_take(store, "sam", script, _score(55), 31.5, started_at=T0, words_read=40)
        second = save_take(store, "sam", own, _score(72, 0.8), 12.0, started_at=T0 + timedelta(days=1))
        save_take(store, "alex", script, _score(40), 30.0, started_at=T0)
        rows = store.list_practice_takes("sam")
        assert [r.id for r in rows] == [second, first]
        assert rows[1].script == script.id and rows[1].target_wpm == 150 and rows[1].duration_s == 31.5
        assert rows[1].score == 55 and rows[1].started_at == T0
        assert rows[0].detail["script_text"] == own.text and "script_text" not in rows[1].detail
        assert "sam" in [a.name for a in store.list_agents()]  # a trainee with takes is an agent

        takes = list_takes(store, "sam")
        assert takes[1].script_title == script.title and takes[1].words_read == 40
        assert takes[1].words_total == len(script.text.split())
        assert takes[0].score.time_in_band == 0.8 and takes[0].score.wpm == [None, 150.0, 170.0]
        assert store.list_practice_takes("sam", limit=1)[0].id == second

        assert store.delete_practice_take(first) is True
        assert store.delete_practice_take(first) is False
        assert [r.id for r in store.list_practice_takes("sam")] == [second]
        assert len(store.list_practice_takes("alex")) == 1


def test_the_score_trend_compares_the_first_takes_with_the_last():
    script = builtin_scripts()[0]
    with HistoryStore() as store:  # the test's own data folder
        for day, overall in enumerate((40, 50, 45, None, 60, 70, 80)):
            save_take(store, "trainee", script, _score(overall), 30.0, started_at=T0 + timedelta(days=day))
        trend = score_trend(list_takes(store, "trainee"))
    assert trend.scores == [40, 50, 45, 60, 70, 80]  # oldest first, the unscored take left out
    assert trend.times[0] == T0
    assert trend.change == pytest.approx(70 - 45)
    assert "up 25 points" in trend.summary() and "best 80" in trend.summary()
    assert score_trend([]).summary() == "No scored takes yet."


def test_two_takes_compared_measure_by_measure():
    script = builtin_scripts()[0]
    with HistoryStore() as store:
        a = save_take(store, "t", script, _score(50, 0.4), 30.0, started_at=T0)
        b = save_take(store, "t", script, _score(65, 0.7), 30.0, started_at=T0 + timedelta(hours=1))
        second, first = list_takes(store, "t")
    assert (first.id, second.id) == (a, b)
    lines = {line.label: line for line in compare_takes(first, second)}
    assert lines["Score"].change == pytest.approx(15) and lines["Score"].verdict() == "better"
    assert lines["Time on pace"].first == pytest.approx(40) and lines["Time on pace"].second == pytest.approx(70)
    assert lines["Pace steadiness"].verdict() == "same"
    assert lines["Median pace"].verdict() == ""  # faster is not better or worse by itself


@pytest.fixture(scope="module")
def natural_take(tmp_path_factory):
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed")
    path = tmp_path_factory.mktemp("take") / "natural.wav"
    subprocess.run(["sox", *[str(speech_path(n)) for n in READER_CLIPS], str(path)], check=True, capture_output=True)
    return path


def test_a_finished_take_is_scored_saved_for_the_trainee_and_listed(qtbot, natural_take):
    from poise.audio.sources import FileSource, load_call
    from poise.desktop.trainer_window import TrainerWindow

    call = load_call(natural_take)
    with HistoryStore() as store:
        store.add_agent("sam")
    win = TrainerWindow(source_factory=lambda: FileSource(call, realtime=True, speed=6), agent="default")
    qtbot.addWidget(win)
    win.show()
    takes = win.takes_tab
    assert takes.stack.currentWidget() is takes.empty and "No practice takes yet" in takes.empty.text()
    win.trainee.choose("sam")  # as a pick in the trainee list
    assert win.trainee_name() == "sam" and takes.agent() == "sam" and win.trends_tab.agent() == "sam"

    tab = win.read_tab
    tab.choose_script("next_steps")
    tab.target.setValue(155)
    with qtbot.waitSignal(tab.take_saved, timeout=30_000) as saved:
        tab.start()
        assert not tab.target.isEnabled()
    take_id = saved.args[0]
    assert tab.target.isEnabled() and not tab.is_running()
    score = tab.last_score
    assert score is not None and score.overall is not None and 0 < score.overall <= 100
    _, shown = tab.strip.pace_curve.getData()  # what the gauge showed while it was read: the score says the same
    assert score.median_wpm == pytest.approx(float(np.nanmedian(shown)), rel=0.05)
    assert tab.score_line.isVisible() and f"Score {score.overall:.0f}/100" in tab.score_line.text()
    assert "sam" in tab.status.text()

    assert takes.table.rowCount() == 1  # the tab read the history again
    assert takes.takes[0].id == take_id and takes.takes[0].script_id == "next_steps"
    row = [takes.table.item(0, j).text() for j in range(takes.table.columnCount())]
    assert row[1] == "Next steps with a timeline" and row[2] == "155 wpm" and row[3] == f"{score.overall:.0f}"
    assert row[4] == f"{score.time_in_band * 100:.0f} %"
    assert row[-1] == fmt_length(takes.takes[0].duration_s) and ":" in row[-1]  # a recording's length is m:ss, as the player counts
    assert takes.stack.currentIndex() == 1 and "1 take" in takes.summary.text()
    with HistoryStore() as store:
        assert [r.id for r in store.list_practice_takes("sam")] == [take_id]
        assert store.list_practice_takes("default") == []

    recording = takes.takes[0].recording  # Keep audio is on by default: the take's sound is kept
    assert recording is not None and recording.is_file()
    assert load_call(recording).duration_s == pytest.approx(call.duration_s, abs=0.05)

    takes.select([take_id])
    takes.delete_selected()
    assert takes.table.rowCount() == 0 and "Deleted 1 take" in takes.status.text()
    assert not recording.exists()
    win.close()


def test_a_take_without_speech_is_not_saved_and_says_why(qtbot, tmp_path):
    import numpy as np

    import soundfile as sf

    from poise.audio.sources import FileSource
    from poise.audio.types import SAMPLE_RATE
    from poise.desktop.read_along_tab import ReadAtPaceTab

    quiet = tmp_path / "quiet.wav"  # 3 s of room noise: a take where nobody read
    sf.write(quiet, (np.random.default_rng(1).standard_normal(3 * SAMPLE_RATE) * 1e-4).astype(np.float32), SAMPLE_RATE)
    tab = ReadAtPaceTab(lambda: FileSource(quiet, realtime=False), agent="sam")
    qtbot.addWidget(tab)
    tab.start()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=20_000)
    assert tab.last_score is not None and tab.last_score.overall is None and tab.last_take_id is None
    assert tab.status.text().startswith("Not saved: Too little speech") and "\n" not in tab.status.text()
    with HistoryStore() as store:
        assert store.list_practice_takes("sam") == []


def test_with_keep_audio_off_the_take_is_scored_and_saved_without_its_sound(qtbot, natural_take):
    from poise.app.settings import SettingsStore
    from poise.audio.sources import FileSource
    from poise.desktop.read_along_tab import ReadAtPaceTab

    from dataclasses import replace

    settings = SettingsStore()
    settings.save(replace(settings.load(), keep_audio=False))
    tab = ReadAtPaceTab(lambda: FileSource(natural_take, realtime=False), agent="sam")
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.take_saved, timeout=30_000):
        tab.start()
    assert tab.take_audio is None
    with HistoryStore() as store:
        (row,) = store.list_practice_takes("sam")
    assert row.recording is None and row.score == pytest.approx(tab.last_score.overall, abs=0.05)
