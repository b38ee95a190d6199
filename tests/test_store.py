"""Call history in a real SQLite file: round trip, profiles, trends, damage, migration, threads, full disk."""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from poise import paths
from poise.audio import report
from poise.audio.store import PROFILE_WEIGHT_CAP_S, SCHEMA_VERSION, HistoryStore, StoreError
from poise.audio.types import (
    AnalysisResult,
    Baseline,
    ConversationStats,
    Cue,
    RoleStats,
    Segment,
    SourceInfo,
    Timeline,
    Word,
)

STEP_S = 0.5  # s: timeline resolution of the synthetic calls

# A short support call: (role, start, end, text). The agent talks over the caller at 41 s.
TURNS = [
    ("agent", 0.8, 4.1, "Thanks for calling Northwind, this is Sam, how can I help?"),
    ("caller", 4.9, 12.2, "My internet has been down since this morning and I work from home."),
    ("agent", 12.8, 17.5, "I'm sorry about that. Let me check the line for you."),
    ("caller", 18.0, 20.0, "Okay, thanks."),
    ("agent", 27.5, 40.0, "I can see an outage in your area, the engineers are on it, it's fixed by three o'clock."),
    ("caller", 40.3, 46.0, "Three? That's the whole working day, I can't"),
    ("agent", 41.0, 48.0, "I know, I know, but there's really nothing I can do about it — \"honestly\"."),
    ("caller", 48.5, 51.0, "Fine. Bye."),
]

CUES = [
    Cue(26.0, "dead_air", "Say what you're doing", {"silence_s": 6.0}),
    Cue(36.2, "slow_down", "Slow down", {"wpm": np.float32(214.5), "baseline_wpm": 150.0}),
    Cue(41.5, "let_caller_finish", "Let the caller finish", {"overlap_s": 0.5, "note": "caller's <turn>"}),
    Cue(44.0, "slow_down", "Slow down", {"wpm": 221.0, "baseline_wpm": float("nan")}),
]


def _words(text: str, start: float, end: float) -> list[Word]:
    tokens = text.split()
    edges = np.linspace(start, end, len(tokens) + 1)
    return [Word(w, float(a), float(b) - 0.02) for w, a, b in zip(tokens, edges[:-1], edges[1:])]


def _timeline(duration: float, seed: int = 3) -> Timeline:
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration, STEP_S)
    share = {"agent": np.zeros_like(t), "caller": np.zeros_like(t)}
    for role, a, b, _ in TURNS:
        overlap = np.clip(np.minimum(t + STEP_S, b) - np.maximum(t, a), 0, None) / STEP_S
        share[role] = np.clip(share[role] + overlap, 0, 1)
    on = share["agent"] > 0.3
    return Timeline(
        step_s=STEP_S,
        t=t.tolist(),
        agent_speaking=share["agent"].tolist(),
        caller_speaking=share["caller"].tolist(),
        agent_rate_sps=[float(v) if m else None for v, m in zip(4.3 + rng.normal(0, 0.3, t.size), on)],
        agent_pitch_hz=[float(v) if m else None for v, m in zip(175 + rng.normal(0, 9, t.size), on)],
        agent_db=[float(v) if m else None for v, m in zip(-23 + rng.normal(0, 1, t.size), on)],
        caller_db=[float(v) if c > 0.3 else None for v, c in zip(-28 + rng.normal(0, 1, t.size), share["caller"])],
    )


def make_result(
    wpm: float = 158.3,
    pitch: float = 176.04,
    db: float = -23.2,
    rate: float = 4.41,
    interruptions: int | None = 1,
    cues: list[Cue] | None = None,
    path: str = "/calls/northwind 0412.wav",
) -> AnalysisResult:
    """A two-channel call as `poise analyze` returns it (NumPy scalars and a NaN included)."""
    duration = 52.0
    return AnalysisResult(
        source=SourceInfo(path=path, duration_s=duration, sample_rate=8000, channels=2),
        agent=RoleStats(29.7, 78, np.float64(wpm), rate, np.float32(pitch), 150.2, 214.9, db),
        caller=RoleStats(17.1, 41, 143.9, None, 203.3, None, None, -28.4),
        conversation=ConversationStats(
            0.634, None if interruptions is None else np.int64(interruptions), 12.5, 7.5, math.nan
        ),
        cues=list(CUES if cues is None else cues),
        segments=[Segment(role, a, b, text, _words(text, a, b)) for role, a, b, text in TURNS],
        timeline=_timeline(duration),
        baseline=Baseline(pitch_hz=174.0, db=-23.5, rate_sps=4.3, speech_s=28.0),
    )


def _one_sentence(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message and message.endswith(".")


# --------------------------------------------------------------------------- round trip


def test_call_round_trips_through_a_reopened_file(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    result = make_result()
    when = datetime(2024, 4, 12, 9, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    with HistoryStore(db) as store:
        call_id = store.save_call(result, "review", agent="sam", started_at=when, recording=tmp_path / "rec.wav")
        assert store.warning is None

    with HistoryStore(db) as store:  # a new process would see the same
        journal = store._conn.execute("PRAGMA journal_mode").fetchone()[0]
        loaded = store.load_call(call_id)
        rows = store.list_calls()

    assert journal == "wal"
    expected = report.to_json(result)
    for key in ("schema", "source", "agent", "caller", "conversation", "baseline", "cues"):
        assert loaded[key] == expected[key], key
    assert loaded["conversation"]["overlap_s"] is None  # NaN stored as null, never as invalid JSON
    assert [c["kind"] for c in loaded["cues"]] == ["dead_air", "slow_down", "let_caller_finish", "slow_down"]
    assert loaded["cues"][2]["evidence"]["note"] == "caller's <turn>"
    assert loaded["segments"] == [{k: s[k] for k in ("role", "start", "end", "text")} for s in expected["segments"]]
    assert "timeline" not in loaded
    assert loaded["call"] == {
        "id": call_id,
        "started_at": "2024-04-12T07:30:05.000000+00:00",
        "kind": "review",
        "source": "/calls/northwind 0412.wav",
        "duration_s": 52.0,
        "agent": "sam",
        "recording": str(tmp_path / "rec.wav"),
    }

    (row,) = rows
    assert row.id == call_id and row.kind == "review" and row.agent == "sam"
    assert row.started_at == when
    assert row.source == "/calls/northwind 0412.wav" and row.duration_s == 52.0
    assert row.agent_wpm == 158.3 and row.cue_count == 4 and row.interruptions == 1
    assert row.recording == tmp_path / "rec.wav"


def test_summary_stays_small_and_the_default_path_is_the_data_dir() -> None:
    with HistoryStore() as store:
        assert store.path == paths.history_db_path()
        call_id = store.save_call(make_result(), "live")
        (summary,) = store._conn.execute("SELECT summary FROM calls WHERE id = ?", (call_id,)).fetchone()
    doc = json.loads(summary)
    assert set(doc) == {"schema", "source", "agent", "caller", "conversation", "baseline", "gaps"}  # gaps: issue 9
    assert "Northwind" not in summary  # the transcript lives in its own table
    assert len(summary) < 2000  # bytes: numbers only
    assert paths.history_db_path().exists()


def test_list_delete_and_bad_kind(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite")
    t0 = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    ids = [
        store.save_call(make_result(), "live", started_at=t0 + timedelta(minutes=i), recording=tmp_path / f"{i}.wav")
        for i in range(5)
    ]
    assert [r.id for r in store.list_calls()] == ids[::-1]  # newest first
    assert [r.id for r in store.list_calls(limit=2)] == [ids[4], ids[3]]

    assert store.delete_call(ids[2]) == tmp_path / "2.wav"
    assert [r.id for r in store.list_calls()] == [ids[4], ids[3], ids[1], ids[0]]
    with pytest.raises(StoreError) as err:
        store.load_call(ids[2])
    _one_sentence(str(err.value))
    leftovers = [
        store._conn.execute(f"SELECT count(*) FROM {t} WHERE call_id = ?", (ids[2],)).fetchone()[0]
        for t in ("cues", "segments")
    ]
    assert leftovers == [0, 0]  # cues and transcript go with the call
    assert store.load_call(ids[3])["cues"]  # the others keep theirs

    with pytest.raises(ValueError):
        store.save_call(make_result(), "phone")
    store.close()


# --------------------------------------------------------------------------- profiles


def test_profile_refinement_is_weighted_by_speech_and_capped(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    store = HistoryStore(db)
    assert store.load_profile("sam") is None

    first = store.update_profile("sam", Baseline(pitch_hz=180.0, db=-20.0, rate_sps=4.0, speech_s=100.0))
    assert first == Baseline(180.0, -20.0, 4.0, 100.0)

    # 100 s at 180 Hz + 300 s at 200 Hz → 195 Hz
    second = store.update_profile("sam", Baseline(pitch_hz=200.0, db=-24.0, rate_sps=5.0, speech_s=300.0))
    assert second.pitch_hz == pytest.approx(195.0)
    assert second.db == pytest.approx(-23.0)
    assert second.rate_sps == pytest.approx(4.75)
    assert second.speech_s == pytest.approx(400.0)

    # now 1000 s heard in total, but the old profile weighs only PROFILE_WEIGHT_CAP_S against 100 s of new speech
    store.update_profile("sam", Baseline(pitch_hz=195.0, db=-23.0, rate_sps=4.75, speech_s=600.0))
    capped = store.update_profile("sam", Baseline(pitch_hz=150.0, db=-30.0, rate_sps=3.0, speech_s=100.0))
    w_old, w_new = PROFILE_WEIGHT_CAP_S, 100.0
    assert capped.pitch_hz == pytest.approx((195.0 * w_old + 150.0 * w_new) / (w_old + w_new))
    assert capped.rate_sps == pytest.approx((4.75 * w_old + 3.0 * w_new) / (w_old + w_new))
    assert capped.speech_s == pytest.approx(1100.0)

    # a baseline that never finished calibrating changes nothing
    unchanged = store.update_profile("sam", Baseline(pitch_hz=300.0, db=None, rate_sps=6.0, speech_s=50.0))
    assert unchanged == capped
    assert store.update_profile("nobody", Baseline()) is None and store.load_profile("nobody") is None

    store.update_profile("alex", Baseline(pitch_hz=110.0, db=-18.0, rate_sps=4.5, speech_s=40.0))
    store.close()

    with HistoryStore(db) as again:
        saved = again.load_profile("sam")
        assert saved.pitch_hz == pytest.approx(capped.pitch_hz) and saved.is_ready()
        assert again.load_profile("alex") == Baseline(110.0, -18.0, 4.5, 40.0)


# --------------------------------------------------------------------------- trends


def test_trends_are_per_agent_oldest_first_and_count_cues_by_kind(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite")
    day = datetime(2024, 6, 3, 9, 0, tzinfo=timezone.utc)
    # saved out of order, in different time zones: order must follow the real instant
    plan = [
        (3, 171.0, [Cue(5.0, "slow_down", "Slow down")]),
        (0, 150.0, []),
        (2, 165.0, [Cue(5.0, "slow_down", "Slow down"), Cue(30.0, "slow_down", "Slow down"),
                    Cue(9.0, "lower_tone", "Lower your tone")]),
        (1, 158.0, [Cue(12.0, "let_caller_finish", "Let the caller finish")]),
    ]
    for day_n, wpm, cues in plan:
        when = (day + timedelta(days=day_n)).astimezone(timezone(timedelta(hours=-5 + day_n)))
        store.save_call(make_result(wpm=wpm, cues=cues, interruptions=day_n), "live", agent="sam", started_at=when)
    store.save_call(make_result(wpm=300.0), "demo", agent="sam", started_at=day + timedelta(days=9))  # not their voice
    store.save_call(make_result(wpm=120.0), "review", agent="alex", started_at=day + timedelta(days=9))

    trend = store.trends("sam")
    assert [p["wpm"] for p in trend] == [150.0, 158.0, 165.0, 171.0]
    assert [p["interruptions"] for p in trend] == [0, 1, 2, 3]
    assert [p["cues"] for p in trend] == [
        {}, {"let_caller_finish": 1}, {"slow_down": 2, "lower_tone": 1}, {"slow_down": 1}
    ]
    assert [p["cue_count"] for p in trend] == [0, 1, 3, 1]
    assert trend[0]["started_at"] == "2024-06-03T09:00:00.000000+00:00"
    assert all(p["articulation_rate_sps"] == 4.41 for p in trend)
    assert all(p["pitch_median_hz"] == 176.0 and p["volume_median_dbfs"] == -23.2 for p in trend)

    assert [p["wpm"] for p in store.trends("sam", limit=2)] == [165.0, 171.0]  # the latest two, still oldest first
    assert [p["wpm"] for p in store.trends("alex")] == [120.0]
    assert store.trends("nobody") == []
    store.close()


# --------------------------------------------------------------------------- damage, migration


def test_garbage_file_is_moved_aside_and_a_new_history_starts(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    garbage = np.random.default_rng(0).integers(0, 256, 40_000, dtype=np.uint8).tobytes()
    db.write_bytes(garbage)

    store = HistoryStore(db)
    aside = tmp_path / "history.sqlite.corrupt"
    assert store.warning == f"The history file {db} is damaged: Poise moved it to {aside} and started a new one."
    assert aside.read_bytes() == garbage  # the user's bytes are kept, not overwritten
    assert store.list_calls() == []
    call_id = store.save_call(make_result(), "live")
    assert store.load_call(call_id)["agent"]["wpm"] == 158.3
    store.close()

    db.write_bytes(b"not sqlite at all" * 100)  # damaged again: the first copy must survive
    with HistoryStore(db) as again:
        assert again.warning is not None and "history.sqlite-2.corrupt" in again.warning
    assert aside.read_bytes() == garbage and (tmp_path / "history.sqlite-2.corrupt").exists()


def test_damaged_pages_inside_a_real_history_are_detected(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    with HistoryStore(db) as store:
        for _ in range(30):
            store.save_call(make_result(), "review")
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    assert len(data) > 8 * 4096
    data[3 * 4096: 6 * 4096] = np.random.default_rng(1).integers(0, 256, 3 * 4096, dtype=np.uint8).tobytes()
    db.write_bytes(bytes(data))

    with HistoryStore(db) as store:
        assert store.warning is not None and "is damaged" in store.warning
        _one_sentence(store.warning)
        assert store.list_calls() == []
        assert store.save_call(make_result(), "live") >= 1
    assert (tmp_path / "history.sqlite.corrupt").read_bytes() == bytes(data)


def test_empty_file_is_migrated_to_the_current_schema(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    db.touch()
    with HistoryStore(db) as store:
        assert store.warning is None
        call_id = store.save_call(make_result(), "live")
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"calls", "cues", "segments", "profiles"} <= tables
        assert conn.execute("SELECT count(*) FROM cues WHERE call_id = ?", (call_id,)).fetchone()[0] == 4
    finally:
        conn.close()
    with HistoryStore(db) as store:  # reopening an up-to-date file changes nothing
        assert [r.id for r in store.list_calls()] == [call_id]


def test_file_from_a_newer_poise_is_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, future TEXT)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreError) as err:
        HistoryStore(db)
    assert "newer Poise" in str(err.value)
    _one_sentence(str(err.value))
    assert db.read_bytes() == before and not (tmp_path / "history.sqlite.corrupt").exists()


def test_unusable_folder_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as err:
        HistoryStore(blocker / "history.sqlite")
    _one_sentence(str(err.value))


# --------------------------------------------------------------------------- threads, full disk


def test_two_threads_save_concurrently(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    shared = HistoryStore(db)
    other = HistoryStore(db)  # a second connection to the same file, as a second window would have
    per_thread = 15
    ids: dict[str, list[int]] = {"a": [], "b": [], "c": []}
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def work(name: str, store: HistoryStore, wpm: float) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                ids[name].append(store.save_call(make_result(wpm=wpm), "live", agent=name))
                store.list_calls(limit=5)
                if i % 5 == 0:
                    store.update_profile("team", Baseline(180.0, -22.0, 4.2, 10.0))
        except BaseException as exc:  # reported below: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=work, args=a) for a in
               (("a", shared, 140.0), ("b", shared, 160.0), ("c", other, 180.0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    all_ids = ids["a"] + ids["b"] + ids["c"]
    assert len(all_ids) == 3 * per_thread == len(set(all_ids))
    assert len(shared.list_calls(limit=1000)) == 3 * per_thread
    for name, wpm in (("a", 140.0), ("b", 160.0), ("c", 180.0)):
        trend = shared.trends(name, limit=100)
        assert len(trend) == per_thread and {p["wpm"] for p in trend} == {wpm}
        assert all(p["cue_count"] == 4 for p in trend)  # no call got another's cues
    assert all(len(shared.load_call(i)["segments"]) == len(TURNS) for i in all_ids)
    assert shared.load_profile("team").speech_s == pytest.approx(3 * 3 * 10.0)  # no lost update
    shared.close()
    other.close()


def test_full_disk_is_a_plain_sentence_and_keeps_earlier_calls(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite")
    first = store.save_call(make_result(), "live")
    # A real SQLITE_FULL: cap the file at its current size, as a full disk would.
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    big = make_result(cues=[Cue(float(i), "slow_down", "Slow down", {"pad": "x" * 500}) for i in range(200)])
    with pytest.raises(StoreError) as err:
        store.save_call(big, "live")
    assert str(err.value) == "The disk is full: this call's summary was not saved to history; free some space."
    assert [r.id for r in store.list_calls()] == [first]  # nothing half-saved
    assert store._conn.execute("SELECT count(*) FROM cues").fetchone()[0] == 4

    store._conn.execute("PRAGMA max_page_count = 1073741823")  # space freed
    second = store.save_call(big, "live")
    assert store.load_call(second)["cues"][199]["evidence"]["pad"] == "x" * 500
    store.close()
