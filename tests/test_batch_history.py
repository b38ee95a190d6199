"""Which batch a saved call came from: history's version-4 tables (a v3 file upgrades), and
`poise history --batch NAME_OR_ID` after `poise batch --save` on a real stereo call."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import speech_path
from poise.audio.store import HistoryStore
from poise.audio.store_schema import _MIGRATIONS, SCHEMA_VERSION
from tests.test_store import make_result

REPO = Path(__file__).resolve().parents[1]
CLI_TIMEOUT_S = 120  # s: a 6 s call without Whisper, worker start-up included, on 2 shared cores


def _v3_file(db: Path) -> None:
    """A history file exactly as Poise wrote it at schema 3 (its three steps), with one saved call."""
    conn = sqlite3.connect(db, isolation_level=None)
    for statements in _MIGRATIONS[:3]:
        for sql in statements:
            conn.execute(sql)
    conn.execute(
        "INSERT INTO calls (started_at, kind, source, duration_s, agent, summary, recording, cue_count)"
        " VALUES ('2026-11-30T10:00:00+00:00', 'review', '/calls/a.wav', 60.0, 'sam', '{}', '/calls/a.wav', 2)"
    )
    conn.execute("PRAGMA user_version = 3")
    conn.close()


def test_a_v3_history_upgrades_and_keeps_which_batch_a_call_came_from(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    _v3_file(db)
    with HistoryStore(db) as store:
        assert store.warning is None
        assert [r.id for r in store.list_calls()] == [1]  # the old call is still there
        assert store.list_batches() == []
        new = store.save_call(make_result(), "review", agent="sam")
        assert store.save_batch("0a1b2c3d", "week48", tmp_path / "out", [1, new, 999]) == 2  # 999 is not a call
        assert store.save_batch("0a1b2c3d", "week48", tmp_path / "out", [1]) == 0  # again: nothing new
        assert store.save_batch("99ffee00", "week48", tmp_path / "out2", [new]) == 1  # a call in two batches
        (week,) = [b for b in store.list_batches() if b.id == "0a1b2c3d"]
        assert (week.name, week.calls, week.summary) == ("week48", 2, tmp_path / "out" / "summary.csv")
        assert store.batch_call_ids("0a1b2c3d") == {1, new}
        assert [b.id for b in store.find_batches("0a1b")] == ["0a1b2c3d"]  # an id's first characters
        assert {b.id for b in store.find_batches("WEEK48")} == {"0a1b2c3d", "99ffee00"}  # a name, any case
        assert store.find_batches("nothing") == []
        store.delete_call(new)  # deleting a call drops its links; a batch left without calls is not listed
        assert store.batch_call_ids("0a1b2c3d") == {1}
        assert [b.id for b in store.list_batches()] == ["0a1b2c3d"]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


# ------------------------------------------------------------------------- through the CLI


def _poise(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "poise.cli", *args], cwd=REPO, capture_output=True, text=True,
        timeout=CLI_TIMEOUT_S, env={**os.environ},  # conftest's isolated data and config folders
    )


def _stereo(path: Path) -> Path:
    agent, sr = sf.read(speech_path("ps_goforward.wav"), dtype="float32")
    caller, _ = sf.read(speech_path("ps_librivox_sense_and_sensibility_01_austen_64kb-0930.wav"), dtype="float32")
    x = np.zeros((len(agent) + len(caller), 2), np.float32)
    x[: len(agent), 0], x[len(agent):, 1] = agent, caller
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x, sr)
    return path


def test_history_lists_the_calls_of_one_batch(tmp_path: Path) -> None:
    week = tmp_path / "week"
    _stereo(week / "call1.wav")
    other = _stereo(tmp_path / "elsewhere" / "call9.wav")
    first = _poise("batch", str(week), "--out", str(tmp_path / "out"), "--workers", "1", "--no-transcript",
                   "--save", "--name", "week48")
    assert first.returncode == 0 and "batch “week48”" in first.stdout, first.stdout + first.stderr
    # the same recording in a second batch (history keeps one row per recording: it is linked, not copied),
    # with a call of its own
    second = _poise("batch", str(week), str(other), "--out", str(tmp_path / "out2"), "--workers", "1",
                    "--no-transcript", "--save")
    assert second.returncode == 0, second.stdout + second.stderr

    batches = json.loads(_poise("history", "--batches", "--json").stdout)
    assert sorted((b["name"], b["calls"]) for b in batches) == [("out2", 2), ("week48", 1)]
    listed = _poise("history", "--batch", "week48", "--json")
    assert listed.returncode == 0, listed.stderr
    (call,) = json.loads(listed.stdout)
    assert call["source"].endswith("call1.wav")
    both = {c["source"].rsplit("/", 1)[-1] for c in json.loads(_poise("history", "--batch", "out2", "--json").stdout)}
    assert both == {"call1.wav", "call9.wav"}
    out2 = next(b for b in batches if b["name"] == "out2")
    by_id = json.loads(_poise("history", "--batch", out2["id"], "--json").stdout)
    assert len(by_id) == 2
    table = _poise("history", "--batch", "week48")
    assert "1 call(s) of batch “week48”" in table.stdout
    # the summary says which history call each row is (the one already there, for the linked call)
    with open(tmp_path / "out2" / "summary.csv", newline="") as f:
        ids = {row["call"]: row["history_id"] for row in csv.DictReader(f)}
    assert ids["week/call1"] == str(call["id"]) and ids["elsewhere/call9"]

    missing = _poise("history", "--batch", "no-such-batch")
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "there is no batch “no-such-batch”" in missing.stderr
    assert "Traceback" not in missing.stderr


@pytest.mark.parametrize("args", [["--batches"], ["--batch", "x"]])
def test_without_batches_history_says_so(args: list[str]) -> None:
    done = _poise("history", *args)
    assert "Traceback" not in done.stderr
    assert ("No batches in history yet" in done.stdout) if args == ["--batches"] else (
        done.returncode == 2 and "`poise batch --save` adds one" in done.stderr)
