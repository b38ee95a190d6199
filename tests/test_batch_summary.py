"""A batch's summary read for the reviewer's table (poise/app/batch_summary.py, Qt-free): rows and
numbers from the file `poise batch` writes, the worst calls first, and one sentence for a bad file."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from poise.app.batch_summary import SummaryError, find_summary, load_summary, sort_rows
from poise.audio.coach import CUE_KINDS
from poise.batch.manifest import write_summary


def _row(call: str, cues: int, duration: float = 600.0, **extra) -> dict:
    counts = {f"cue_{k}": 0 for k in CUE_KINDS} | {"cue_slow_down": cues}
    return {
        "call": call, "status": "ok", "duration_s": duration, "agent": "sam", "agent_wpm": 151.2,
        "agent_talk_share": 0.55, "agent_interruptions": 2, "cues": cues,
        "cues_per_10min": round(cues / duration * 600, 2), "agent_file": f"/calls/{call}.wav",
        "json": f"{call}.json", "history_id": None, **counts, **extra,
    }


@pytest.fixture
def summary_dir(tmp_path: Path) -> Path:
    """A summary exactly as `poise batch` writes it (its own writer), with a failed call."""
    rows = [
        _row("week1/calm", 1),
        _row("week1/rushed", 9, duration=300.0, agent_wpm=212.0),
        _row("week1/long", 6, duration=1800.0, caller_file="/calls/long_caller.wav", history_id=12),
        {"call": "broken", "status": "error", "error": "broken.wav is not an audio file Poise can read.",
         "agent": "sam", "agent_file": "/calls/broken.wav", "duration_s": 0.0},
    ]
    write_summary(tmp_path, rows, CUE_KINDS)
    return tmp_path


def test_the_summary_poise_batch_writes_reads_back_worst_first(summary_dir: Path) -> None:
    summary = load_summary(summary_dir)  # the output folder finds its summary.csv
    assert summary.path == summary_dir / "summary.csv" and summary.cue_kinds == CUE_KINDS
    assert summary.failed == 1 and summary.audio_s == pytest.approx(2700.0)
    assert summary.describe() == "4 calls, 45 min of audio, 1 not analysed"
    rows = {r.call: r for r in summary.rows}
    long = rows["week1/long"]
    assert (long.cues, long.cues_per_10min, long.interruptions, long.talk_share) == (6, 2.0, 2, 0.55)
    assert long.caller_file == Path("/calls/long_caller.wav") and long.history_id == 12
    assert long.report == summary_dir / "week1/long.json"  # relative to the summary's folder
    assert long.cue_counts["slow_down"] == 6 and long.cue_counts["dead_air"] == 0
    bad = rows["broken"]
    assert not bad.ok and "not an audio file" in bad.error and bad.cues_per_10min is None
    # the reviewer's order: cue rate, highest first; a call not analysed last
    assert [r.call for r in sort_rows(summary.rows)] == ["week1/rushed", "week1/long", "week1/calm", "broken"]
    assert [r.call for r in sort_rows(summary.rows, "cues_per_10min", descending=False)][-1] == "broken"
    assert [r.call for r in sort_rows(summary.rows, "duration_s", descending=True)][0] == "week1/long"
    assert [r.call for r in sort_rows(summary.rows, "agent_wpm", descending=True)][0] == "week1/rushed"
    assert [r.call for r in sort_rows(summary.rows, "cue_slow_down", descending=True)][:2] == ["week1/rushed", "week1/long"]
    assert [r.call for r in sort_rows(summary.rows, "error", descending=True)][0] == "broken"


def _sentence(path: Path) -> str:
    with pytest.raises(SummaryError) as err:
        load_summary(path)
    text = str(err.value)
    assert "\n" not in text and text.endswith(".") and "Traceback" not in text
    return text


def test_bad_summary_files_get_one_plain_sentence(summary_dir: Path, tmp_path: Path) -> None:
    assert "there is no batch summary" in _sentence(tmp_path / "gone.csv")
    empty_dir = tmp_path / "nothing-here"
    empty_dir.mkdir()
    assert "holds no batch summary" in _sentence(empty_dir)
    (tmp_path / "empty.csv").write_text("")
    assert "is empty" in _sentence(tmp_path / "empty.csv")
    (tmp_path / "audio.csv").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(200))
    assert "not a text table" in _sentence(tmp_path / "audio.csv")
    (tmp_path / "latin.csv").write_bytes("call,status\n".encode() + "caf\xe9".encode("latin-1"))
    assert "not UTF-8" in _sentence(tmp_path / "latin.csv")
    # another program's table: the columns a summary needs are named
    with open(tmp_path / "other.csv", "w", newline="") as f:
        csv.writer(f).writerows([["name", "score"], ["a", "1"]])
    assert "has no 'call', 'status', 'duration_s', 'cues_per_10min', 'agent_file' columns" in _sentence(tmp_path / "other.csv")
    # damaged: a row cut short, an open quote, a word where a number belongs
    text = (summary_dir / "summary.csv").read_text()
    lines = text.splitlines()
    (tmp_path / "cut.csv").write_text("\n".join(lines[:2] + [lines[2][:40]]) + "\n")
    assert "is damaged: line 3 has" in _sentence(tmp_path / "cut.csv")
    (tmp_path / "quote.csv").write_text(lines[0] + '\n"week1/calm,ok' + "\n")
    assert "is damaged" in _sentence(tmp_path / "quote.csv")
    (tmp_path / "word.csv").write_text(text.replace(",600.0,", ",ten minutes,", 1))
    assert "row 2 has 'ten minutes' as duration_s, where a number belongs" in _sentence(tmp_path / "word.csv")
    if importlib.util.find_spec("pyarrow") is None:
        (tmp_path / "summary.parquet").write_bytes(b"PAR1")
        assert "needs pyarrow" in _sentence(tmp_path / "summary.parquet")
    else:
        (tmp_path / "summary.parquet").write_bytes(b"not parquet")
        assert "damaged or not a Parquet file" in _sentence(tmp_path / "summary.parquet")


def test_a_summary_with_only_its_header_is_an_empty_batch(tmp_path: Path) -> None:
    write_summary(tmp_path, [], CUE_KINDS)
    summary = load_summary(find_summary(tmp_path))
    assert summary.rows == [] and summary.describe() == "0 calls, 0 s of audio"
