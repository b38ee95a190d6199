"""What a batch has done, kept in its output folder, and the summary table of the whole batch.

The manifest (`poise-batch.jsonl`) gets one line per finished call, appended and flushed
as it finishes, so a batch stopped at any moment (Ctrl+C, a kill, a power cut) loses at
most the calls that were running; a torn last line is ignored. A call is done when its
line says it was analysed with the same settings hash and the same content hash of its
file(s). File hashes are remembered with the file's size and modification time, so a
rerun does not read unchanged files again.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import importlib.util
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import paths
from ..audio.report import write_atomic

MANIFEST_NAME = "poise-batch.jsonl"
SUMMARY_CSV = "summary.csv"
SUMMARY_PARQUET = "summary.parquet"
HASH_CHUNK = 1 << 20  # bytes read at a time when hashing a recording
MANIFEST_VERSION = 1

# The summary's columns, in order; then one `cue_<kind>` column per cue kind.
BASE_COLUMNS = (
    "call", "status", "error", "notes", "duration_s", "agent", "agent_wpm", "agent_talk_s", "agent_words",
    "agent_talk_share", "agent_interruptions", "overlap_s", "dead_air_s", "longest_agent_monologue_s",
    "cues", "cues_per_10min",
)
FILE_COLUMNS = ("agent_file", "caller_file", "agent_channel", "json", "html", "history_id", "analysis_s", "worker_peak_rss_mb")


def file_hash(path: Path) -> str:
    """BLAKE2b of a file's bytes, hex."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def settings_hash(settings: dict[str, Any]) -> str:
    """A stable hash of everything that changes a call's result (JSON with sorted keys)."""
    text = json.dumps(settings, sort_keys=True, default=_plain)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


@dataclass
class Entry:
    """One manifest line: how a call ended, and the summary row it gave."""

    key: str
    settings: str
    content: str
    ok: bool
    row: dict[str, Any]
    saved: bool = False  # in history (written by this batch's one writer)
    final: bool = False  # analysed, or refused as bad input (the same file fails the same way): not run again


class Manifest:
    """The manifest of one output folder; used by the batch's one writer only."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST_NAME
        self.entries: dict[str, Entry] = {}
        self.stats: dict[str, tuple[int, int, str]] = {}  # path -> (size, mtime_ns, hash)
        if self.path.exists():
            self._load()
        self._file: io.TextIOWrapper | None = None

    def _load(self) -> None:
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    obj = json.loads(line)
                except ValueError:  # a line torn by a kill: that call runs again
                    continue
                if not isinstance(obj, dict) or obj.get("v") != MANIFEST_VERSION:
                    continue
                for path, stat in (obj.get("files") or {}).items():
                    self.stats[path] = tuple(stat)  # type: ignore[assignment]
                try:
                    entry = Entry(obj["key"], obj["settings"], obj["content"], bool(obj["ok"]), dict(obj["row"]), bool(obj.get("saved")), bool(obj.get("final", obj["ok"])))
                except (KeyError, TypeError, ValueError):
                    continue
                self.entries[entry.key] = entry

    def content_hash(self, paths: list[Path]) -> str:
        """The hash of a call's file(s), read again only when a file's size or time changed."""
        parts = []
        for path in paths:
            st = path.stat()
            known = self.stats.get(str(path))
            if known is not None and known[0] == st.st_size and known[1] == st.st_mtime_ns:
                parts.append(known[2])
            else:
                digest = file_hash(path)
                self.stats[str(path)] = (st.st_size, st.st_mtime_ns, digest)
                parts.append(digest)
        return "+".join(parts)

    def is_done(self, key: str, settings: str, content: str, need_saved: bool) -> Entry | None:
        """The entry of a call already analysed with these settings and this content, else None."""
        entry = self.entries.get(key)
        if entry is None or not entry.final or entry.settings != settings or entry.content != content:
            return None
        if need_saved and entry.ok and not entry.saved:
            return None
        return entry

    def add(self, entry: Entry, files: list[Path]) -> None:
        """Append one finished call (flushed at once)."""
        self.entries[entry.key] = entry
        if self._file is None:
            existed = self.path.exists()
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
            paths.give_to_user(self.path, existed)  # the user's umask, not the data folder's 077
        line = {
            "v": MANIFEST_VERSION, "key": entry.key, "settings": entry.settings, "content": entry.content,
            "ok": entry.ok, "saved": entry.saved, "final": entry.final, "row": entry.row,
            "files": {str(p): list(self.stats[str(p)]) for p in files if str(p) in self.stats},
        }
        self._file.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def summary_columns(rows: list[dict[str, Any]], cue_kinds: tuple[str, ...]) -> list[str]:
    """The summary's columns: the base ones, a count per cue kind (the catalogue's, then any other), the files."""
    kinds = list(cue_kinds)
    for row in rows:
        for name in row:
            if name.startswith("cue_") and name[4:] not in kinds:
                kinds.append(name[4:])
    return [*BASE_COLUMNS, *(f"cue_{k}" for k in kinds), *FILE_COLUMNS]


def write_summary(out_dir: Path, rows: list[dict[str, Any]], cue_kinds: tuple[str, ...]) -> list[Path]:
    """Write the summary CSV (and Parquet when pyarrow is installed); returns the files written."""
    columns = summary_columns(rows, cue_kinds)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    written = [write_atomic(out_dir / SUMMARY_CSV, buffer.getvalue())]
    if importlib.util.find_spec("pyarrow") is not None:  # optional: never a dependency of its own
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist([{k: row.get(k) for k in columns} for row in rows])
        target = out_dir / SUMMARY_PARQUET
        tmp = target.with_name(f".{target.name}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, target)
        written.append(target)
    return written


__all__ = ["MANIFEST_NAME", "SUMMARY_CSV", "Entry", "Manifest", "file_hash", "settings_hash", "summary_columns", "write_summary"]
