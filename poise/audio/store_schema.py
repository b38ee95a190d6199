"""The history file's schema, its versioned migrations, and how SQLite reports damage.

The schema version lives in `PRAGMA user_version`; `migrate` brings any older file up to
date, one all-or-nothing step per version.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 4  # bump with a new step in _MIGRATIONS

# SQLite primary result codes (sqlite3.h), as `sqlite3.Error.sqlite_errorcode & 0xFF`
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_NOTADB = 26

_V1 = (
    """CREATE TABLE calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('live', 'review', 'demo')),
        source TEXT NOT NULL,
        duration_s REAL,
        agent TEXT NOT NULL,
        summary TEXT NOT NULL,
        recording TEXT
    )""",
    "CREATE INDEX calls_by_time ON calls (started_at)",
    "CREATE INDEX calls_by_agent ON calls (agent, started_at)",
    """CREATE TABLE cues (
        call_id INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        t REAL NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        evidence TEXT NOT NULL
    )""",
    "CREATE INDEX cues_by_call ON cues (call_id, t)",
    """CREATE TABLE segments (
        call_id INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        start REAL NOT NULL,
        "end" REAL NOT NULL,
        text TEXT NOT NULL
    )""",
    "CREATE INDEX segments_by_call ON segments (call_id, start)",
    """CREATE TABLE profiles (
        agent TEXT PRIMARY KEY,
        pitch_hz REAL NOT NULL,
        db REAL NOT NULL,
        rate_sps REAL NOT NULL,
        speech_s REAL NOT NULL,
        updated_at TEXT NOT NULL
    )""",
)

# Version 2: the history list's numbers as columns (10,000 calls list and sort without parsing
# their JSON), an index for each way the window sorts and filters, named agents that need no
# call or calibration yet, and a key/value table for history's own settings (retention).
_V2 = (
    "ALTER TABLE calls ADD COLUMN cue_count INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE calls ADD COLUMN agent_wpm REAL",
    "ALTER TABLE calls ADD COLUMN interruptions INTEGER",
    """UPDATE calls SET
        cue_count = (SELECT count(*) FROM cues WHERE cues.call_id = calls.id),
        agent_wpm = json_extract(summary, '$.agent.wpm'),
        interruptions = json_extract(summary, '$.conversation.agent_interruptions')""",
    "CREATE INDEX calls_by_cues ON calls (cue_count, started_at)",
    "CREATE INDEX calls_by_recording ON calls (recording)",
    """CREATE TABLE agents (
        name TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
    )""",
    "INSERT OR IGNORE INTO agents (name, created_at) SELECT agent, min(started_at) FROM calls GROUP BY agent",
    "INSERT OR IGNORE INTO agents (name, created_at) SELECT agent, updated_at FROM profiles",
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
)

# Version 3: what the agent writes after a call (the notes drafted from the transcript, edited, with the
# follow-up they promise and whether it was done), and the trainer's scored practice takes.
_V3 = (
    """CREATE TABLE call_notes (
        call_id INTEGER PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        follow_up_due TEXT,
        follow_up_done INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX notes_by_follow_up ON call_notes (follow_up_done, follow_up_due)",
    """CREATE TABLE practice_takes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        agent TEXT NOT NULL,
        started_at TEXT NOT NULL,
        script TEXT NOT NULL,
        target_wpm REAL NOT NULL,
        duration_s REAL NOT NULL,
        score REAL,
        detail TEXT NOT NULL,
        recording TEXT
    )""",
    "CREATE INDEX practice_by_agent ON practice_takes (agent, started_at)",
)
# Version 4: the batches `poise batch --save` ran (one per output folder) and which saved calls came from
# each; a call reviewed again by another batch belongs to both. Deleting a call drops its links.
_V4 = (
    """CREATE TABLE batches (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        folder TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE batch_calls (
        batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
        call_id INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        PRIMARY KEY (batch_id, call_id)
    )""",
    "CREATE INDEX batch_calls_by_call ON batch_calls (call_id)",
)
_MIGRATIONS: list[tuple[str, ...]] = [_V1, _V2, _V3, _V4]  # step i takes the file from version i to i + 1
assert len(_MIGRATIONS) == SCHEMA_VERSION


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema from its `user_version` up to `SCHEMA_VERSION`, each step all-or-nothing."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for step, statements in enumerate(_MIGRATIONS[version:], start=version):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # read again under the write lock: another process may have migrated meanwhile
            if conn.execute("PRAGMA user_version").fetchone()[0] == step:
                for sql in statements:
                    conn.execute(sql)
                conn.execute(f"PRAGMA user_version = {step + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def error_code(exc: sqlite3.Error) -> int:
    return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def is_damage(exc: sqlite3.Error) -> bool:
    return error_code(exc) in (SQLITE_CORRUPT, SQLITE_NOTADB) or "malformed" in str(exc) or "not a database" in str(exc)
