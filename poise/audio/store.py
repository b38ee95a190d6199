"""Call history in a local SQLite file: calls, their cues and transcript, and agent voice profiles.

Standard-library `sqlite3` in WAL mode (readers never wait for the writer). The schema
version lives in `PRAGMA user_version` and `store_schema.migrate` brings any older file up to date.
Only a file SQLite itself finds damaged (SQLITE_CORRUPT, SQLITE_NOTADB, a failed
`quick_check`) is moved aside and a new one started, with a one-sentence `warning`, so
the app keeps working; a file that merely cannot be opened or written (a full disk, no
permission, busy) is never touched and raises `StoreError` with one plain sentence.

Times stored here are wall-clock: `started_at` is when the call began, as an ISO 8601
string in UTC (so text order is time order); `t`, `start` and `end` are audio time.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

from .. import paths
from .report import to_json
from .store_schema import (
    SCHEMA_VERSION,
    SQLITE_BUSY,
    SQLITE_FULL,
    SQLITE_LOCKED,
    SQLITE_READONLY,
    error_code,
    is_damage,
    migrate,
)
from .types import AnalysisResult, Baseline

CALL_KINDS = ("live", "review", "demo")
TREND_KINDS = ("live", "review")  # the demo call is not the agent's voice: keep it out of their trends
PROFILE_WEIGHT_CAP_S = 600.0  # s: the saved profile never outweighs 10 min of new speech, so it keeps adapting
LOW_DISK_BYTES = 256 * 1024  # bytes free below which a failure to open is put down to a full disk
BUSY_TIMEOUT_S = 10.0  # s: wait this long for another Poise process's write before giving up

# SQLite primary result codes (sqlite3.h), read from exc.sqlite_errorcode & 0xFF.
_DISK_FULL_SAVE = "The disk is full: this call's summary was not saved to history; free some space."

T = TypeVar("T")


class StoreError(Exception):
    """History could not be read or written; the message is one plain sentence for the user."""


class _Damaged(Exception):
    """Internal: the open file is not a usable database (moved aside, then retried)."""


@dataclass
class CallRow:
    """One line of the history list (newest first)."""

    id: int
    started_at: datetime  # timezone-aware, UTC; call `.astimezone()` to show local time
    kind: str  # 'live' | 'review' | 'demo'
    source: str  # the recording or device the call came from
    duration_s: float | None
    agent: str
    agent_wpm: float | None
    cue_count: int
    interruptions: int | None
    recording: Path | None = None  # the saved audio, if any

    @property
    def cues_per_10min(self) -> float | None:
        """Cues per 10 minutes of call (None for a call without a length)."""
        if not self.duration_s:
            return None
        return self.cue_count * 600.0 / self.duration_s


@dataclass(frozen=True)
class AgentInfo:
    """One agent on this machine: their voice profile (if learnt) and how many calls history holds."""

    name: str
    profile: Baseline | None  # the saved normal pitch, loudness and pace; None until calibrated or a live call
    calls: int
    last_call: datetime | None  # UTC
    profile_updated: datetime | None  # UTC


@dataclass(frozen=True)
class PracticeTakeRow:
    """One scored take of the trainer's read-along (the `practice_takes` table)."""

    id: int
    agent: str
    started_at: datetime  # UTC
    script: str  # the built-in script's id, or "own" for the trainer's own text
    target_wpm: float
    duration_s: float
    score: float | None  # 0..100; None when the take was too short to score
    detail: dict[str, Any]  # the score's parts and pace timeline (`poise.app.practice.PracticeScore.to_detail`)
    recording: Path | None = None


@dataclass(frozen=True)
class RemovedCall:
    """A call deleted from history: what is left to remove from disk."""

    id: int
    kind: str
    recording: Path | None


# --------------------------------------------------------------------------- helpers


def _utc_iso(when: datetime | None) -> str:
    """`when` (naive means local time) as an ISO string in UTC, microseconds included."""
    when = datetime.now(timezone.utc) if when is None else when
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _free_name(path: Path, suffix: str) -> Path:
    """`path` + `suffix`, or with a counter before the suffix when that name is taken."""
    candidate = path.with_name(path.name + suffix)
    n = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}-{n}{suffix}")
        n += 1
    return candidate


# --------------------------------------------------------------------------- store


@contextmanager
def borrowed_store(store: HistoryStore | None) -> Iterator[HistoryStore]:
    """`store` when a caller holds one open, else the user's history, opened for the block and closed after it."""
    own = store is None
    held = store if store is not None else HistoryStore()
    try:
        yield held
    finally:
        if own:
            held.close()


class HistoryStore:
    """The call history on disk. Safe to share between threads; open one per process.

    `warning` holds one sentence for the user when the store had to start a new file
    (the old one was damaged or unreadable); it stays None otherwise.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else paths.history_db_path()
        self.warning: str | None = None
        self._lock = threading.RLock()  # one shared connection; the lock serialises its use across threads
        self._conn: sqlite3.Connection | None = None
        with self._lock:
            self._open()

    # ----------------------------------------------------------------- lifecycle

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )  # autocommit: transactions are explicit below
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            if conn.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
                raise _Damaged()
            if conn.execute("PRAGMA user_version").fetchone()[0] > SCHEMA_VERSION:
                # checked before switching to WAL, which rewrites the header of a file we must leave alone
                raise StoreError(
                    f"The history file {self.path} comes from a newer Poise: update Poise to use your history."
                )
            conn.execute("PRAGMA journal_mode = WAL")  # returns the old mode where WAL is impossible: still works
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a power cut loses at most the last call
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Poise cannot create the folder for its history file {self.path}: check that it is writable."
            ) from exc
        existed = self.path.exists()
        try:
            self._conn = self._connect()
            return
        except _Damaged:
            what = "is damaged"
        except sqlite3.Error as exc:
            if not is_damage(exc):
                # Could not open or write (full disk, no permission, busy): the file may be
                # perfectly healthy, so it is left exactly where it is (an empty one just made goes).
                if not existed:
                    self._remove_if_empty()
                raise self._unopenable(exc) from exc
            what = "is damaged"
        self._start_fresh(what)

    def _remove_if_empty(self) -> None:
        for path in (self.path, self.path.with_name(self.path.name + "-wal"), self.path.with_name(self.path.name + "-shm")):
            try:
                if path.exists() and path.stat().st_size == 0:
                    path.unlink()
            except OSError:
                pass

    def _unopenable(self, exc: sqlite3.Error) -> StoreError:
        """One sentence for a history that could not be opened though nothing says it is damaged."""
        code = error_code(exc)
        try:
            free = shutil.disk_usage(self.path.parent).free
        except OSError:
            free = None
        if code == SQLITE_FULL or "disk is full" in str(exc) or (free is not None and free < LOW_DISK_BYTES):
            return StoreError(
                f"The disk is full: Poise could not open its history file {self.path} "
                "(nothing in it was changed); free some space."
            )
        if code in (SQLITE_BUSY, SQLITE_LOCKED):
            return StoreError(f"The history file {self.path} is busy in another Poise window; try again.")
        return StoreError(
            f"Poise could not open its history file {self.path} ({exc}); nothing in it was changed: "
            "check that it and its folder can be read and written."
        )

    def _start_fresh(self, what: str) -> None:
        """Move the unusable file (and its WAL) aside, open a new one, and say so in `warning`."""
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None
        aside = _free_name(self.path, ".corrupt")
        try:
            os.replace(self.path, aside)
            wal = self.path.with_name(self.path.name + "-wal")
            if wal.exists():
                os.replace(wal, aside.with_name(aside.name + "-wal"))  # kept next to it: sqlite3 reads them together
            shm = self.path.with_name(self.path.name + "-shm")
            if shm.exists():
                shm.unlink()  # only an index of the WAL, rebuilt on open
            self._conn = self._connect()
        except (OSError, sqlite3.Error, _Damaged) as exc:
            raise StoreError(
                f"The history file {self.path} {what} and Poise could not replace it: "
                "check that its folder is writable and restart Poise."
            ) from exc
        self.warning = f"The history file {self.path} {what}: Poise moved it to {aside} and started a new one."

    def close(self) -> None:
        """Close the database; the store cannot be used afterwards."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- running statements

    def _error(self, exc: sqlite3.Error, doing: str, full: str | None = None) -> StoreError:
        """One plain sentence for a failure the user can act on."""
        code = error_code(exc)
        if code == SQLITE_FULL or "disk is full" in str(exc):
            return StoreError(full or f"The disk is full: {doing[0].lower() + doing[1:]} failed; free some space.")
        if code == SQLITE_READONLY:
            return StoreError(f"{doing} failed: Poise may not write {self.path}; check its permissions.")
        if code in (SQLITE_BUSY, SQLITE_LOCKED):
            return StoreError(f"{doing} failed: the history file is busy in another Poise window; try again.")
        return StoreError(f"{doing} failed ({exc}); try again.")

    def _run(
        self, fn: Callable[[sqlite3.Connection], T], doing: str, full: str | None = None, write: bool = False
    ) -> T:
        """Run `fn` under the lock, in one transaction when `write`.

        A file found damaged mid-session is moved aside like at start-up and `fn` runs
        once more on the new one, so a call being saved is not lost.
        """
        with self._lock:
            for attempt in (0, 1):
                if self._conn is None:
                    raise StoreError(f"{doing}: the history is closed; restart Poise.")
                conn = self._conn
                try:
                    if not write:
                        return fn(conn)
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        out = fn(conn)
                        conn.execute("COMMIT")
                        return out
                    except BaseException:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
                except sqlite3.Error as exc:
                    if attempt == 0 and is_damage(exc):
                        self._start_fresh("is damaged")
                        continue
                    raise self._error(exc, doing, full) from exc
        raise AssertionError("unreachable")

    # ----------------------------------------------------------------- calls

    def save_call(
        self,
        result: AnalysisResult,
        kind: str,
        agent: str = "default",
        started_at: datetime | None = None,
        recording: Path | None = None,
    ) -> int:
        """Save a finished call (summary, cues, transcript); returns its id."""
        if kind not in CALL_KINDS:
            raise ValueError(f"kind must be one of {CALL_KINDS}, not {kind!r}")
        doc = to_json(result)  # cleaned and rounded once, exactly as in the JSON report
        cues = doc.pop("cues")
        segments = doc.pop("segments")
        doc.pop("timeline", None)  # per-step series: large, and recomputable from the recording
        doc.pop("language", None)  # the transcript's phrases and notes: recomputed from the segments (poise.language.summary)
        when = _utc_iso(started_at)
        row = (
            when,
            kind,
            doc["source"]["path"],
            doc["source"]["duration_s"],
            agent,
            _json(doc),
            str(Path(recording).absolute()) if recording is not None else None,
            len(cues),
            (doc.get("agent") or {}).get("wpm"),
            (doc.get("conversation") or {}).get("agent_interruptions"),
        )

        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO calls (started_at, kind, source, duration_s, agent, summary, recording,"
                " cue_count, agent_wpm, interruptions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            conn.execute("INSERT OR IGNORE INTO agents (name, created_at) VALUES (?, ?)", (agent, when))
            call_id = int(cur.lastrowid)
            conn.executemany(
                "INSERT INTO cues (call_id, t, kind, message, evidence) VALUES (?, ?, ?, ?, ?)",
                [(call_id, c["t"], c["kind"], c["message"], _json(c["evidence"])) for c in cues],
            )
            conn.executemany(
                'INSERT INTO segments (call_id, role, start, "end", text) VALUES (?, ?, ?, ?, ?)',
                [(call_id, s["role"], s["start"], s["end"], s["text"]) for s in segments],
            )
            return call_id

        return self._run(insert, "Saving the call to history", full=_DISK_FULL_SAVE, write=True)

    def list_calls(self, limit: int | None = 50, agent: str | None = None) -> list[CallRow]:
        """The most recent calls (all of them when `limit` is None), newest first; one agent's when given.

        Reads only the list's own columns (no JSON, no cue rows): 10,000 calls take tens of ms.
        """
        where, params = ("WHERE agent = ?", [agent]) if agent is not None else ("", [])
        sql = (
            "SELECT id, started_at, kind, source, duration_s, agent, agent_wpm, cue_count, interruptions, recording"
            f" FROM calls {where} ORDER BY started_at DESC, id DESC"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))

        def query(conn: sqlite3.Connection) -> list[CallRow]:
            return [
                CallRow(
                    id=id_,
                    started_at=datetime.fromisoformat(started),
                    kind=kind,
                    source=source,
                    duration_s=duration,
                    agent=name,
                    agent_wpm=wpm,
                    cue_count=n_cues,
                    interruptions=interruptions,
                    recording=Path(recording) if recording else None,
                )
                for id_, started, kind, source, duration, name, wpm, n_cues, interruptions, recording
                in conn.execute(sql, params)
            ]

        return self._run(query, "Reading the call history")

    def load_call(self, call_id: int) -> dict[str, Any]:
        """One call: the report document without its timeline, plus `call` (id, started_at, kind, agent, recording).

        `cues` are as in the report; `segments` carry role, start, end and text (no word timings).
        """

        def query(conn: sqlite3.Connection) -> dict[str, Any]:
            row = conn.execute(
                "SELECT id, started_at, kind, source, duration_s, agent, summary, recording FROM calls WHERE id = ?",
                (int(call_id),),
            ).fetchone()
            if row is None:
                raise StoreError(f"Call {call_id} is no longer in the history; refresh the list.")
            doc = json.loads(row[6])
            doc["call"] = {
                "id": row[0],
                "started_at": row[1],
                "kind": row[2],
                "source": row[3],
                "duration_s": row[4],
                "agent": row[5],
                "recording": row[7],
            }
            doc["cues"] = [
                {"t": t, "kind": kind, "message": message, "evidence": json.loads(evidence)}
                for t, kind, message, evidence in conn.execute(
                    "SELECT t, kind, message, evidence FROM cues WHERE call_id = ? ORDER BY t, rowid", (row[0],)
                )
            ]
            doc["segments"] = [
                {"role": role, "start": start, "end": end, "text": text}
                for role, start, end, text in conn.execute(
                    'SELECT role, start, "end", text FROM segments WHERE call_id = ? ORDER BY start, "end", rowid',
                    (row[0],),
                )
            ]
            return doc

        return self._run(query, "Reading the call from history")

    def delete_call(self, call_id: int) -> Path | None:
        """Remove a call with its cues and transcript; returns its recording path (the file is left alone)."""

        def delete(conn: sqlite3.Connection) -> Path | None:
            row = conn.execute("SELECT recording FROM calls WHERE id = ?", (int(call_id),)).fetchone()
            conn.execute("DELETE FROM calls WHERE id = ?", (int(call_id),))
            return Path(row[0]) if row and row[0] else None

        return self._run(delete, "Deleting the call from history", write=True)

    def delete_calls(
        self, *, ids: list[int] | None = None, agent: str | None = None, before: datetime | None = None,
        everything: bool = False,
    ) -> list[RemovedCall]:
        """Remove calls with their cues and transcript, in one transaction; the files are left alone.

        Which calls: those in `ids`, or all of `agent`'s, or all started before `before`, or
        `everything`. Exactly one choice must be given.
        """
        chosen = [ids is not None, agent is not None, before is not None, everything]
        if sum(chosen) != 1:
            raise ValueError("delete_calls needs exactly one of ids, agent, before, everything")
        if ids is not None:
            where, params = f"id IN ({','.join('?' * len(ids))})", [int(i) for i in ids]
        elif agent is not None:
            where, params = "agent = ?", [agent]
        elif before is not None:
            where, params = "started_at < ?", [_utc_iso(before)]
        else:
            where, params = "1", []

        def delete(conn: sqlite3.Connection) -> list[RemovedCall]:
            if ids is not None and not ids:
                return []
            rows = conn.execute(f"SELECT id, kind, recording FROM calls WHERE {where}", params).fetchall()
            conn.execute(f"DELETE FROM calls WHERE {where}", params)
            return [RemovedCall(i, kind, Path(rec) if rec else None) for i, kind, rec in rows]

        return self._run(delete, "Deleting calls from history", write=True)

    def recordings_in_use(self) -> set[Path]:
        """Every audio file a call in history points to."""

        def query(conn: sqlite3.Connection) -> set[Path]:
            return {Path(r[0]) for r in conn.execute("SELECT DISTINCT recording FROM calls WHERE recording IS NOT NULL")}

        return self._run(query, "Reading the call history")

    # ----------------------------------------------------------------- practice takes (the trainer)

    def save_practice_take(
        self,
        agent: str,
        script: str,
        target_wpm: float,
        duration_s: float,
        score: float | None,
        detail: dict[str, Any],
        started_at: datetime | None = None,
        recording: Path | None = None,
    ) -> int:
        """Save one scored read-along take for `agent` (named as an agent if new); returns its id."""
        when = _utc_iso(started_at)
        row = (
            agent, when, script, float(target_wpm), float(duration_s),
            None if score is None else float(score), _json(detail),
            str(Path(recording).absolute()) if recording is not None else None,
        )

        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO practice_takes (agent, started_at, script, target_wpm, duration_s, score, detail, recording)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            conn.execute("INSERT OR IGNORE INTO agents (name, created_at) VALUES (?, ?)", (agent, when))
            return int(cur.lastrowid)

        return self._run(insert, "Saving the practice take", write=True)

    def list_practice_takes(self, agent: str, limit: int | None = None) -> list[PracticeTakeRow]:
        """`agent`'s practice takes, newest first (all of them when `limit` is None)."""
        sql = (
            "SELECT id, agent, started_at, script, target_wpm, duration_s, score, detail, recording"
            " FROM practice_takes WHERE agent = ? ORDER BY started_at DESC, id DESC"
        )
        params: list[Any] = [agent]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))

        def query(conn: sqlite3.Connection) -> list[PracticeTakeRow]:
            return [
                PracticeTakeRow(
                    id=id_, agent=name, started_at=datetime.fromisoformat(started), script=script,
                    target_wpm=target, duration_s=duration, score=score, detail=json.loads(detail),
                    recording=Path(recording) if recording else None,
                )
                for id_, name, started, script, target, duration, score, detail, recording in conn.execute(sql, params)
            ]

        return self._run(query, "Reading the practice takes")

    def delete_practice_take(self, take_id: int) -> bool:
        """Remove one practice take; True if it was there (a recording file is left alone)."""

        def delete(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM practice_takes WHERE id = ?", (int(take_id),)).rowcount > 0

        return self._run(delete, "Deleting the practice take", write=True)

    # ----------------------------------------------------------------- agents

    def list_agents(self) -> list[AgentInfo]:
        """Every agent with a name, a profile or a call here, by name."""

        def query(conn: sqlite3.Connection) -> list[AgentInfo]:
            rows = conn.execute(
                "SELECT a.name, p.pitch_hz, p.db, p.rate_sps, p.speech_s, p.updated_at,"
                " (SELECT count(*) FROM calls c WHERE c.agent = a.name),"
                " (SELECT max(started_at) FROM calls c WHERE c.agent = a.name)"
                " FROM (SELECT name FROM agents UNION SELECT agent FROM profiles) a"
                " LEFT JOIN profiles p ON p.agent = a.name ORDER BY a.name COLLATE NOCASE"
            ).fetchall()
            return [
                AgentInfo(
                    name=name,
                    profile=Baseline(pitch, db, rate, speech) if pitch is not None else None,
                    calls=n,
                    last_call=datetime.fromisoformat(last) if last else None,
                    profile_updated=datetime.fromisoformat(updated) if updated else None,
                )
                for name, pitch, db, rate, speech, updated, n, last in rows
            ]

        return self._run(query, "Reading the agents")

    def add_agent(self, name: str) -> None:
        """Name a new agent (no profile, no calls yet); nothing happens if the name exists."""

        def add(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT OR IGNORE INTO agents (name, created_at) VALUES (?, ?)", (name, _utc_iso(None)))

        self._run(add, "Adding the agent", write=True)

    def rename_agent(self, old: str, new: str) -> None:
        """Give an agent's profile and calls another name; refuses a name already taken."""

        def rename(conn: sqlite3.Connection) -> None:
            taken = conn.execute(
                "SELECT 1 FROM agents WHERE name = ? UNION SELECT 1 FROM profiles WHERE agent = ?"
                " UNION SELECT 1 FROM calls WHERE agent = ? LIMIT 1",
                (new, new, new),
            ).fetchone()
            if taken:
                raise StoreError(f"There is already an agent called “{new}”: choose another name.")
            conn.execute("INSERT OR IGNORE INTO agents (name, created_at) VALUES (?, ?)", (old, _utc_iso(None)))
            conn.execute("UPDATE agents SET name = ? WHERE name = ?", (new, old))
            conn.execute("UPDATE profiles SET agent = ? WHERE agent = ?", (new, old))
            conn.execute("UPDATE calls SET agent = ? WHERE agent = ?", (new, old))
            conn.execute("UPDATE practice_takes SET agent = ? WHERE agent = ?", (new, old))

        self._run(rename, "Renaming the agent", write=True)

    def reset_profile(self, agent: str) -> bool:
        """Forget the agent's learnt normal (their calls stay); True if there was one."""

        def reset(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM profiles WHERE agent = ?", (agent,)).rowcount > 0

        return self._run(reset, "Resetting the voice profile", write=True)

    def delete_agent(self, agent: str) -> list[RemovedCall]:
        """Remove the agent: their profile, their name, all their calls and practice takes (the files are left alone;
        a practice take's recording comes back as a RemovedCall of kind "practice")."""

        def delete(conn: sqlite3.Connection) -> list[RemovedCall]:
            rows = conn.execute("SELECT id, kind, recording FROM calls WHERE agent = ?", (agent,)).fetchall()
            rows += conn.execute(
                "SELECT id, 'practice', recording FROM practice_takes WHERE agent = ? AND recording IS NOT NULL", (agent,)
            ).fetchall()
            conn.execute("DELETE FROM calls WHERE agent = ?", (agent,))
            conn.execute("DELETE FROM practice_takes WHERE agent = ?", (agent,))
            conn.execute("DELETE FROM profiles WHERE agent = ?", (agent,))
            conn.execute("DELETE FROM agents WHERE name = ?", (agent,))
            return [RemovedCall(i, kind, Path(rec) if rec else None) for i, kind, rec in rows]

        return self._run(delete, "Deleting the agent", write=True)

    def delete_everything(self) -> list[RemovedCall]:
        """Remove every call, practice take, profile and agent (history's own settings stay)."""

        def delete(conn: sqlite3.Connection) -> list[RemovedCall]:
            rows = conn.execute("SELECT id, kind, recording FROM calls").fetchall()
            rows += conn.execute("SELECT id, 'practice', recording FROM practice_takes WHERE recording IS NOT NULL").fetchall()
            for table in ("calls", "practice_takes", "batches", "profiles", "agents"):
                conn.execute(f"DELETE FROM {table}")  # cues and segments go with their calls
            return [RemovedCall(i, kind, Path(rec) if rec else None) for i, kind, rec in rows]

        return self._run(delete, "Deleting the history", write=True)

    # ----------------------------------------------------------------- history's own settings

    def get_meta(self, key: str) -> str | None:
        """One of history's own settings (e.g. the retention), or None when unset."""

        def query(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None

        return self._run(query, "Reading the history settings")

    def set_meta(self, key: str, value: str | None) -> None:
        """Set (or with None, clear) one of history's own settings."""

        def put(conn: sqlite3.Connection) -> None:
            if value is None:
                conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

        self._run(put, "Saving the history settings", write=True)

    # ----------------------------------------------------------------- profiles

    def load_profile(self, agent: str) -> Baseline | None:
        """The agent's saved voice profile, or None if none was saved yet."""

        def query(conn: sqlite3.Connection) -> Baseline | None:
            row = conn.execute(
                "SELECT pitch_hz, db, rate_sps, speech_s FROM profiles WHERE agent = ?", (agent,)
            ).fetchone()
            return Baseline(*row) if row else None

        return self._run(query, "Reading the voice profile")

    def update_profile(self, agent: str, baseline: Baseline) -> Baseline | None:
        """Fold a call's calibrated baseline into the agent's profile and return the saved profile.

        Weighted by speech seconds, with the old profile's weight capped at
        `PROFILE_WEIGHT_CAP_S`; `speech_s` keeps the uncapped total. A baseline that is
        not `is_ready()` changes nothing.
        """

        def update(conn: sqlite3.Connection) -> Baseline | None:
            row = conn.execute(
                "SELECT pitch_hz, db, rate_sps, speech_s FROM profiles WHERE agent = ?", (agent,)
            ).fetchone()
            old = Baseline(*row) if row else None
            if not baseline.is_ready():
                return old
            new_s = max(float(baseline.speech_s), 0.0)
            new = Baseline(float(baseline.pitch_hz), float(baseline.db), float(baseline.rate_sps), new_s)
            if old is not None:
                old_w = min(old.speech_s, PROFILE_WEIGHT_CAP_S)
                total = old_w + new_s
                if total > 0:

                    def mix(a: float, b: float) -> float:
                        return (a * old_w + b * new_s) / total

                    new = Baseline(
                        mix(old.pitch_hz, new.pitch_hz), mix(old.db, new.db), mix(old.rate_sps, new.rate_sps),
                        old.speech_s + new_s,
                    )
            conn.execute("INSERT OR IGNORE INTO agents (name, created_at) VALUES (?, ?)", (agent, _utc_iso(None)))
            conn.execute(
                "INSERT INTO profiles (agent, pitch_hz, db, rate_sps, speech_s, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (agent) DO UPDATE SET pitch_hz = excluded.pitch_hz, db = excluded.db,"
                " rate_sps = excluded.rate_sps, speech_s = excluded.speech_s, updated_at = excluded.updated_at",
                (agent, new.pitch_hz, new.db, new.rate_sps, new.speech_s, _utc_iso(None)),
            )
            return new

        return self._run(
            update,
            "Updating the voice profile",
            full="The disk is full: your voice profile was not updated; free some space.",
            write=True,
        )

    # ----------------------------------------------------------------- trends

    def trends(self, agent: str, limit: int = 30) -> list[dict[str, Any]]:
        """The agent's last `limit` live and review calls, oldest first, for trend plots.

        Each: id, started_at (ISO, UTC), duration_s, wpm, articulation_rate_sps,
        pitch_median_hz, volume_median_dbfs, interruptions, cues ({kind: count}), cue_count,
        cues_per_10min.
        """

        def query(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            marks = ",".join("?" * len(TREND_KINDS))
            rows = conn.execute(
                "SELECT id, started_at, duration_s, summary FROM calls"
                f" WHERE agent = ? AND kind IN ({marks}) ORDER BY started_at DESC, id DESC LIMIT ?",
                (agent, *TREND_KINDS, int(limit)),
            ).fetchall()
            rows.reverse()
            counts: dict[int, dict[str, int]] = {r[0]: {} for r in rows}
            if rows:
                ids = ",".join("?" * len(rows))
                for call_id, kind, n in conn.execute(
                    f"SELECT call_id, kind, count(*) FROM cues WHERE call_id IN ({ids})"
                    " GROUP BY call_id, kind",
                    [r[0] for r in rows],
                ):
                    counts[call_id][kind] = n
            out = []
            for call_id, started, duration, summary in rows:
                doc = json.loads(summary)
                role = doc.get("agent") or {}
                out.append(
                    {
                        "id": call_id,
                        "started_at": started,
                        "duration_s": duration,
                        "wpm": role.get("wpm"),
                        "articulation_rate_sps": role.get("articulation_rate_sps"),
                        "pitch_median_hz": role.get("pitch_median_hz"),
                        "volume_median_dbfs": role.get("volume_median_dbfs"),
                        "interruptions": (doc.get("conversation") or {}).get("agent_interruptions"),
                        "cues": counts[call_id],
                        "cue_count": sum(counts[call_id].values()),
                        "cues_per_10min": (
                            sum(counts[call_id].values()) * 600.0 / duration if duration else None
                        ),
                    }
                )
            return out

        return self._run(query, "Reading the trends")

    # ----------------------------------------------------------------- call notes and follow-ups (issue 10)

    def save_notes(self, call_id: int, text: str, follow_up_due: "date | None" = None) -> None:  # noqa: F821 - datetime.date
        """Keep the agent's notes for a call, with the follow-up's due date (None: nothing promised).

        A follow-up marked done stays done while its due date is unchanged; a new date opens it again.
        """
        due = follow_up_due.isoformat() if follow_up_due is not None else None

        def put(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM calls WHERE id = ?", (int(call_id),)).fetchone() is None:
                raise StoreError(f"Call {call_id} is no longer in the history: its notes were not saved.")
            conn.execute(
                "INSERT INTO call_notes (call_id, text, follow_up_due, follow_up_done, updated_at) VALUES (?, ?, ?, 0, ?)"
                " ON CONFLICT (call_id) DO UPDATE SET text = excluded.text, follow_up_due = excluded.follow_up_due,"
                " follow_up_done = CASE WHEN call_notes.follow_up_due IS excluded.follow_up_due"
                " THEN call_notes.follow_up_done ELSE 0 END, updated_at = excluded.updated_at",
                (int(call_id), str(text), due, _utc_iso(None)),
            )

        self._run(put, "Saving the call notes", full="The disk is full: the call notes were not saved; free some space.",
                  write=True)

    def load_notes(self, call_id: int) -> "SavedNotes | None":  # noqa: F821 - poise.language.notes, imported below
        """The call's saved notes, or None when none were saved."""
        from datetime import date  # here, not at the top: these methods are appended whole (issue 10)

        from poise.language.notes import SavedNotes

        def query(conn: sqlite3.Connection) -> SavedNotes | None:
            row = conn.execute(
                "SELECT text, follow_up_due, follow_up_done, updated_at FROM call_notes WHERE call_id = ?", (int(call_id),)
            ).fetchone()
            if row is None:
                return None
            text, due, done, updated = row
            return SavedNotes(int(call_id), text, date.fromisoformat(due) if due else None, bool(done),
                              datetime.fromisoformat(updated))

        return self._run(query, "Reading the call notes")

    def due_follow_ups(self, until: "date | None" = None, include_done: bool = False) -> "list[FollowUpReminder]":  # noqa: F821
        """Promised follow-ups due on or before `until` (None: all), earliest first; open ones only unless `include_done`."""
        from datetime import date

        from poise.language.notes import FollowUpReminder, follow_up_line

        where = ["n.follow_up_due IS NOT NULL"]
        params: list[Any] = []
        if until is not None:
            where.append("n.follow_up_due <= ?")
            params.append(until.isoformat())
        if not include_done:
            where.append("n.follow_up_done = 0")
        sql = (
            "SELECT n.call_id, n.follow_up_due, n.follow_up_done, n.text, c.started_at, c.agent, c.source, c.recording"
            " FROM call_notes n JOIN calls c ON c.id = n.call_id WHERE " + " AND ".join(where)
            + " ORDER BY n.follow_up_due, c.started_at, n.call_id"
        )

        def query(conn: sqlite3.Connection) -> list[FollowUpReminder]:
            return [
                FollowUpReminder(call_id, date.fromisoformat(due), bool(done), follow_up_line(text) or "",
                                 datetime.fromisoformat(started), agent, source, recording)
                for call_id, due, done, text, started, agent, source, recording in conn.execute(sql, params)
            ]

        return self._run(query, "Reading the follow-ups")

    def mark_follow_up_done(self, call_id: int, done: bool = True) -> bool:
        """Mark the call's follow-up done (or open again); False when the call has no saved notes."""

        def put(conn: sqlite3.Connection) -> bool:
            cur = conn.execute("UPDATE call_notes SET follow_up_done = ?, updated_at = ? WHERE call_id = ?",
                               (1 if done else 0, _utc_iso(None), int(call_id)))
            return cur.rowcount > 0

        return self._run(put, "Saving the follow-up", write=True)

    def call_with_recording(self, recording: Path) -> int | None:
        """The newest saved call whose recording is this file (a review of a call already in history), or None."""

        def query(conn: sqlite3.Connection) -> int | None:
            row = conn.execute("SELECT id FROM calls WHERE recording = ? ORDER BY started_at DESC, id DESC LIMIT 1",
                               (str(Path(recording).absolute()),)).fetchone()
            return int(row[0]) if row else None

        return self._run(query, "Reading the call history")

    def call_origin(self, call_id: int) -> tuple[str, dict[str, Any]] | None:
        """(agent, the report's `source` object) of a saved call, without reading its cues and transcript."""

        def query(conn: sqlite3.Connection) -> tuple[str, dict[str, Any]] | None:
            row = conn.execute("SELECT agent, json_extract(summary, '$.source') FROM calls WHERE id = ?",
                               (int(call_id),)).fetchone()
            return None if row is None else (str(row[0]), json.loads(row[1]) if row[1] else {})

        return self._run(query, "Reading the call history")

    def call_started_at(self, call_id: int) -> datetime | None:
        """When the saved call began (UTC), or None when it is not in the history."""

        def query(conn: sqlite3.Connection) -> datetime | None:
            row = conn.execute("SELECT started_at FROM calls WHERE id = ?", (int(call_id),)).fetchone()
            return datetime.fromisoformat(row[0]) if row else None

        return self._run(query, "Reading the call history")

    def segment_texts(self, call_ids: list[int], role: str = "agent") -> dict[int, list[str]]:
        """The stored transcript lines of one role per call (for what was said, in trends), in time order."""
        out: dict[int, list[str]] = {int(i): [] for i in call_ids}
        if not out:
            return out

        def query(conn: sqlite3.Connection) -> dict[int, list[str]]:
            marks = ",".join("?" * len(out))
            for call_id, text in conn.execute(
                f"SELECT call_id, text FROM segments WHERE role = ? AND call_id IN ({marks}) ORDER BY call_id, start, rowid",
                (role, *out),
            ):
                out[int(call_id)].append(text)
            return out

        return self._run(query, "Reading the transcripts")

    # ----------------------------------------------------------------- batches (`poise batch --save`)

    def save_batch(self, batch_id: str, name: str, folder: Path, call_ids: list[int]) -> int:
        """Record a batch (its id, name and output folder) and that these saved calls came from it.

        Idempotent: a call linked before stays linked once; ids no longer in history are passed over.
        Returns how many links were new.
        """
        ids = sorted({int(i) for i in call_ids})

        def put(conn: sqlite3.Connection) -> int:
            conn.execute(
                "INSERT INTO batches (id, name, folder, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
                " SET name = excluded.name, folder = excluded.folder, updated_at = excluded.updated_at",
                (batch_id, name, str(folder), _utc_iso(None)),
            )
            added = 0
            for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit is 999 on old builds
                chunk = ids[start:start + 500]
                added += conn.execute(
                    f"INSERT OR IGNORE INTO batch_calls (batch_id, call_id) SELECT ?, id FROM calls"
                    f" WHERE id IN ({','.join('?' * len(chunk))})", (batch_id, *chunk),
                ).rowcount
            return added

        return self._run(put, "Saving the batch to history", write=True)

    def list_batches(self) -> list[BatchInfo]:
        """The batches that still have calls in history, most recently run first."""

        def query(conn: sqlite3.Connection) -> list[BatchInfo]:
            return [
                BatchInfo(id_, name, Path(folder), datetime.fromisoformat(updated), n)
                for id_, name, folder, updated, n in conn.execute(
                    "SELECT b.id, b.name, b.folder, b.updated_at, count(*) FROM batches b"
                    " JOIN batch_calls c ON c.batch_id = b.id GROUP BY b.id ORDER BY b.updated_at DESC, b.name"
                )
            ]

        return self._run(query, "Reading the batches")

    def find_batches(self, name_or_id: str) -> list[BatchInfo]:
        """The batches `name_or_id` names: its id (or an id's first 4+ characters), else its name (any case)."""
        text = name_or_id.strip()
        batches = self.list_batches()
        by_id = [b for b in batches if b.id == text or (len(text) >= 4 and b.id.startswith(text.lower()))]
        return by_id or [b for b in batches if b.name.casefold() == text.casefold()]

    def batch_call_ids(self, batch_id: str) -> set[int]:
        """The ids of the calls in history that came from this batch."""

        def query(conn: sqlite3.Connection) -> set[int]:
            return {int(r[0]) for r in conn.execute("SELECT call_id FROM batch_calls WHERE batch_id = ?", (batch_id,))}

        return self._run(query, "Reading the batch")


@dataclass(frozen=True)
class BatchInfo:
    """One batch of `poise batch --save`: its id, name, output folder (summary.csv is there) and calls in history."""

    id: str
    name: str
    folder: Path
    updated_at: datetime  # UTC: when it last saved calls
    calls: int

    @property
    def summary(self) -> Path:
        """Where its summary table is."""
        return self.folder / "summary.csv"
