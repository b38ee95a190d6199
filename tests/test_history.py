"""History beyond the store's round trip: migration from schema 1, deleting with audio, retention,
`forget`, orphaned recordings, agent profiles, the `history`/`forget` CLI, and the profile mismatch rule."""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from poise import paths
from poise.app import forget, profiles
from poise.app.history import History
from poise.app.settings import SettingsStore
from poise.app.spec import CallKind
from poise.audio.baseline import MISMATCH_ST, hz_to_st
from poise.audio.coach import wpm_from_rate
from poise.audio.store import SCHEMA_VERSION, HistoryStore, StoreError
from poise.audio.types import Baseline, Status
from tests.conftest import SPEECH_DIR, speech_path
from tests.test_store import make_result

REPO = Path(__file__).resolve().parents[1]
V1_DUMP = REPO / "tests" / "fixtures" / "history_v1.sql"  # written by Poise at schema 1 (commit 5b5dd83)
T0 = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)


def _wav(path: Path, seconds: float = 1.0) -> Path:
    """A real (tiny) WAV file standing in for a recording."""
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(int(16000 * seconds), np.float32), 16000)
    return path


# --------------------------------------------------------------------------- migration


def test_a_history_written_at_schema_1_opens_and_upgrades(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(V1_DUMP.read_text(encoding="utf-8"))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()

    with HistoryStore(db) as store:
        assert store.warning is None
        rows = store.list_calls(limit=None)
        assert [(r.id, r.agent, r.kind) for r in rows] == [(3, "alex", "demo"), (2, "sam", "review"), (1, "sam", "live")]
        # the new columns were filled from the old rows: cue counts from the cue table, pace from the JSON
        assert [r.cue_count for r in rows] == [4, 0, 4]
        assert [r.agent_wpm for r in rows] == [140.0, 171.0, 158.3]
        assert [r.interruptions for r in rows] == [None, 1, 1]
        assert store.load_call(1)["segments"][0]["text"].startswith("Thanks for calling")
        agents = {a.name: a for a in store.list_agents()}
        assert set(agents) == {"alex", "sam"}
        assert agents["sam"].profile == Baseline(176.0, -23.0, 4.4, 120.0) and agents["sam"].calls == 2
        assert agents["alex"].profile is None
        new_id = store.save_call(make_result(), "live", agent="sam")
        assert new_id == 4
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        plan = " ".join(r[3] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM calls WHERE agent = ? ORDER BY started_at DESC", ("sam",)))
        assert "calls_by_agent" in plan  # the per-agent list uses its index
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"call_notes", "practice_takes"} <= tables  # version 3
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


# --------------------------------------------------------------------------- deleting


def test_deleting_a_call_removes_its_recording_but_never_a_reviewed_file_of_the_users(tmp_path: Path) -> None:
    rec_dir = paths.recordings_dir()
    own = _wav(rec_dir / "call-1.wav")
    beside = rec_dir / "call-1.wav.json"  # what Poise keeps next to a recording goes with it
    beside.write_text("{}")
    users = _wav(tmp_path / "my calls" / "booking.wav")
    with HistoryStore() as store:
        live = store.save_call(make_result(), "live", agent="sam", recording=own)
        review = store.save_call(make_result(), "review", agent="sam", recording=users)
        keep = store.save_call(make_result(), "live", agent="sam")
        done = forget.forget_calls(store, [live, review])
        assert done.calls == 2 and done.files_removed == [own] and done.files_kept == [users.absolute()]
        assert not own.exists() and not beside.exists() and users.exists()
        assert [r.id for r in store.list_calls()] == [keep]
        with pytest.raises(StoreError, match="no call 999"):
            forget.forget_calls(store, [999])


def test_a_recording_two_calls_share_stays_until_both_are_gone(tmp_path: Path) -> None:
    rec = _wav(paths.recordings_dir() / "shared.wav")
    with HistoryStore() as store:
        a = store.save_call(make_result(), "live", recording=rec)
        b = store.save_call(make_result(), "review", recording=rec)
        assert forget.forget_calls(store, [a]).files_removed == [] and rec.exists()
        assert forget.forget_calls(store, [b]).files_removed == [rec] and not rec.exists()


def test_retention_is_off_by_default_and_removes_what_is_older(tmp_path: Path) -> None:
    rec_dir = paths.recordings_dir()
    now = datetime.now(timezone.utc)
    with HistoryStore() as store:
        assert forget.retention_days(store) is None
        old_rec = _wav(rec_dir / "old.wav")
        new_rec = _wav(rec_dir / "new.wav")
        old = store.save_call(make_result(), "live", started_at=now - timedelta(days=40), recording=old_rec)
        recent = store.save_call(make_result(), "live", started_at=now - timedelta(days=3), recording=new_rec)
        assert forget.apply_retention(store).calls == 0  # off: nothing goes
        forget.set_retention(store, 30)
        assert forget.retention_days(store) == 30
        done = forget.apply_retention(store)
        assert done.calls == 1 and done.files_removed == [old_rec]
        assert [r.id for r in store.list_calls()] == [recent] and new_rec.exists() and not old_rec.exists()
        assert old not in [r.id for r in store.list_calls()]
        with pytest.raises(ValueError):
            forget.set_retention(store, 0)
    assert forget.parse_retention("off") is None and forget.parse_retention("14") == 14
    with pytest.raises(ValueError, match="not a number"):
        forget.parse_retention("two weeks")


def test_every_saved_call_applies_the_retention(tmp_path: Path) -> None:
    with HistoryStore() as store:
        stale = store.save_call(make_result(), "live", started_at=datetime.now(timezone.utc) - timedelta(days=9))
        forget.set_retention(store, 7)
    saved = History().record(CallKind.REVIEW, "sam", make_result(), recording=tmp_path / "x.wav")
    with HistoryStore() as store:
        assert [r.id for r in store.list_calls()] == [saved.call_id] and saved.call_id != stale


def test_forget_agent_and_all_remove_rows_profiles_and_recordings(tmp_path: Path) -> None:
    rec_dir = paths.recordings_dir()
    orphan = _wav(rec_dir / "left-behind.wav")
    part = rec_dir / "interrupted.wav.part"
    part.write_bytes(b"RIFF")
    with HistoryStore() as store:
        sam_rec = _wav(rec_dir / "sam.wav")
        store.save_call(make_result(), "live", agent="sam", recording=sam_rec)
        store.update_profile("sam", Baseline(176.0, -23.0, 4.4, 60.0))
        alex = store.save_call(make_result(), "live", agent="alex")
        store.update_profile("alex", Baseline(110.0, -20.0, 4.0, 60.0))
        take_rec = _wav(paths.data_dir() / "practice" / "sam-take.wav")
        store.save_practice_take("sam", "Acknowledge", 150.0, 30.0, 70.0, {}, recording=take_rec)
        alex_take = _wav(paths.data_dir() / "practice" / "alex-take.wav")
        store.save_practice_take("alex", "Acknowledge", 150.0, 30.0, 60.0, {}, recording=alex_take)
        assert forget.find_orphans(store) == [orphan]

        done = forget.forget_agent(store, "sam")
        assert done.calls == 1 and done.agents == 1 and not sam_rec.exists()
        assert store.list_practice_takes("sam") == [] and not take_rec.exists()  # the trainee's takes go too
        assert store.load_profile("sam") is None and [a.name for a in store.list_agents()] == ["alex"]
        assert [r.id for r in store.list_calls()] == [alex]
        with pytest.raises(StoreError, match="no agent called"):
            forget.forget_agent(store, "sam")

        everything = forget.forget_all(store)
        assert everything.calls == 1 and orphan in everything.files_removed
        assert store.list_calls() == [] and store.list_agents() == [] and store.load_profile("alex") is None
        assert store.list_practice_takes("alex") == [] and not alex_take.exists()
        assert not orphan.exists() and part.exists()  # an interrupted recording is left for recovery


# --------------------------------------------------------------------------- profiles


def test_profiles_add_rename_reset_delete(tmp_path: Path) -> None:
    settings = SettingsStore()
    with HistoryStore() as store:
        store.update_profile("sam", Baseline(176.0, -23.0, 4.4, 90.0))
        store.save_call(make_result(), "live", agent="sam")
        store.save_practice_take("sam", "Acknowledge", 150.0, 30.0, 70.0, {})
        assert profiles.add_profile(store, "  Dana   Lee ") == "Dana Lee"
        with pytest.raises(StoreError, match="already an agent"):
            profiles.add_profile(store, "sam")
        with pytest.raises(ValueError):
            profiles.check_name("   ")
        listed = {p.name: p for p in profiles.list_profiles(store, current="default")}
        assert set(listed) == {"Dana Lee", "default", "sam"}
        sam = listed["sam"]
        assert sam.pitch_hz == 176.0 and sam.loudness_dbfs == -23.0 and sam.calls == 1
        assert sam.pace_wpm == pytest.approx(wpm_from_rate(4.4)) and "176 Hz" in sam.describe()
        assert not listed["Dana Lee"].learnt and "No normal" in listed["Dana Lee"].describe()

        profiles.choose_profile("sam", settings)
        assert settings.load().agent == "sam"
        profiles.rename_profile(store, "sam", "Sam Ortiz", settings)
        assert settings.load().agent == "Sam Ortiz"  # the chosen agent follows the rename
        assert store.load_profile("Sam Ortiz") == Baseline(176.0, -23.0, 4.4, 90.0)
        assert [r.agent for r in store.list_calls()] == ["Sam Ortiz"]
        assert len(store.list_practice_takes("Sam Ortiz")) == 1 and store.list_practice_takes("sam") == []
        with pytest.raises(StoreError, match="already an agent"):
            profiles.rename_profile(store, "Sam Ortiz", "Dana Lee", settings)

        assert profiles.reset_profile(store, "Sam Ortiz") and store.load_profile("Sam Ortiz") is None
        assert [r.agent for r in store.list_calls()] == ["Sam Ortiz"]  # a reset keeps the calls

        profiles.delete_profile(store, "Sam Ortiz", settings)
        assert settings.load().agent == "default" and store.list_calls() == []
        assert [p.name for p in profiles.list_profiles(store)] == ["Dana Lee"]


# --------------------------------------------------------------------------- the command line


def _poise(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "poise.cli", *args], capture_output=True, text=True, input=stdin, timeout=120,
        env={**os.environ}, cwd=REPO,
    )


def test_history_and_forget_on_the_command_line(tmp_path: Path) -> None:
    rec = _wav(paths.recordings_dir() / "live-1.wav")
    with HistoryStore() as store:
        first = store.save_call(make_result(wpm=150.0), "live", agent="sam", started_at=T0, recording=rec)
        store.save_call(make_result(wpm=171.0, cues=[]), "review", agent="alex", started_at=T0 + timedelta(days=1))
        store.update_profile("sam", Baseline(176.0, -23.0, 4.4, 60.0))

    listed = _poise("history")
    assert listed.returncode == 0, listed.stderr
    assert "2 call(s)" in listed.stdout and "150 wpm" in listed.stdout and "alex" in listed.stdout
    as_json = json.loads(_poise("history", "--agent", "sam", "--json").stdout)
    assert [c["id"] for c in as_json] == [first] and as_json[0]["cue_count"] == 4
    assert as_json[0]["cues_per_10min"] == pytest.approx(4 * 600 / 52.0, abs=0.01)
    assert as_json[0]["recording"] == str(rec)

    refused = _poise("forget", "--call", str(first), stdin="n\n")
    assert refused.returncode == 2 and "nothing was deleted" in refused.stderr and rec.exists()
    done = _poise("forget", "--call", str(first), stdin="y\n")
    assert done.returncode == 0, done.stderr
    assert "Removed 1 call and 1 recording." in done.stdout and not rec.exists()

    missing = _poise("forget", "--agent", "nobody", "--yes")
    assert missing.returncode == 2 and "no agent called" in missing.stderr and "Traceback" not in missing.stderr

    kept = _poise("history", "--keep-days", "30")
    assert kept.returncode == 0 and "kept for 30 days" in kept.stdout
    bad = _poise("history", "--keep-days", "soon")
    assert bad.returncode == 2 and "not a number of days" in bad.stderr

    orphan = _wav(paths.recordings_dir() / "nobody.wav")
    assert str(orphan) in _poise("history", "--orphans").stdout
    assert _poise("forget", "--orphans", "--yes").returncode == 0 and not orphan.exists()

    everything = _poise("forget", "--all", "--yes")
    assert everything.returncode == 0, everything.stderr
    assert _poise("history", "--json").stdout.strip() == "[]"
    with HistoryStore() as store:
        assert store.list_agents() == [] and store.load_profile("sam") is None


# --------------------------------------------------------------------------- profile mismatch (real voices)


def _voices() -> tuple[np.ndarray, object]:
    """A male reader (LibriVox clips, about 97 Hz) and a female phone agent (SpokenWOZ call, about 213 Hz)."""
    from poise.audio.sources import load_call

    speech_path("call_spokenwoz_agent_left_8k_ulaw.wav")
    clips = sorted(glob.glob(str(SPEECH_DIR / "ps_librivox_*.wav")))
    if len(clips) < 5:
        pytest.skip("the LibriVox clips are not in ../shared/speech")
    male = np.concatenate([load_call(c).agent for c in clips] * 2)  # ~47 s of one man's speech
    return male.astype(np.float32), load_call(SPEECH_DIR / "call_spokenwoz_agent_left_8k_ulaw.wav")


def _run(agent: np.ndarray, caller: np.ndarray | None, prior: Baseline | None):
    from poise.audio.session import Session
    from poise.audio.sources import FileSource, load_call

    template = load_call(SPEECH_DIR / "ps_goforward.wav")
    call = dataclasses.replace(template, agent=agent, caller=caller)
    session = Session(has_caller=caller is not None, baseline=prior)
    statuses: list[Status] = []
    session.subscribe(lambda e: statuses.append(e) if isinstance(e, Status) else None)
    for block in FileSource(call):
        session.feed(block)
    return session.finish(), statuses, session


def test_a_profile_calibrated_on_another_voice_is_dropped_and_the_voice_learnt_afresh() -> None:
    male, woman = _voices()
    calibrated, _, _ = _run(male, None, None)
    profile = calibrated.baseline
    assert profile.is_ready() and 85 < profile.pitch_hz < 115

    result, statuses, session = _run(woman.agent, woman.caller, profile)
    warnings = [s for s in statuses if s.level == "warning" and "does not match the saved profile" in s.message]
    assert len(warnings) == 1, [s.message for s in statuses]
    mismatch = session.baseline_tracker.mismatch
    assert mismatch is not None and mismatch.semitones >= MISMATCH_ST
    assert 10.0 <= mismatch.speech_s <= 20.0  # decided within the first 10-20 s of her speech
    assert result.baseline.pitch_hz > 180  # her own normal, learnt afresh, not the man's 97 Hz
    # no pitch cue from comparing her with his normal ("Lower your tone" at 22 s was the bug)
    assert not [c for c in result.cues if "pitch" in c.kind or "tone" in c.message.lower()]

    # A live call by another voice leaves the profile as it was; the agent's own voice refines it.
    History().record(CallKind.CALIBRATION, "sam", baseline=profile)
    History().record(CallKind.LIVE, "sam", result)
    with HistoryStore() as store:
        assert store.load_profile("sam").pitch_hz == pytest.approx(profile.pitch_hz)


def test_the_same_voice_keeps_its_profile() -> None:
    _, woman = _voices()
    half = len(woman.agent) // 2
    first, _, _ = _run(woman.agent[:half], woman.caller[:half], None)
    assert first.baseline.is_ready()
    _, statuses, session = _run(woman.agent[half:], woman.caller[half:], first.baseline)
    assert session.baseline_tracker.mismatch is None and not statuses
    assert abs(float(hz_to_st(first.baseline.pitch_hz)) - float(hz_to_st(213.0))) < 1.0
