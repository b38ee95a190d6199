"""Forgetting calls: rows, recordings and profiles removed together, by hand or by the retention setting.

A call's recording is removed with it only when Poise made that file: a live call's
recording, or any file inside Poise's recordings folder. A recording the user opened for
review (their own file, anywhere on disk) is never deleted, only forgotten. A file still
used by another call in history stays until that call goes too.

Recordings in Poise's folder that no call points to ("orphans": a call that could not be
saved, history forgotten by an older Poise) are found by `find_orphans` and removed only
when asked (`remove_orphans`, `forget_all`). Interrupted `.wav.part` recordings are not
orphans: they are offered for recovery at the next start.

Retention (`retention_days`, off by default) is kept in the history file itself, so the app
and the command line share it; `apply_retention` removes calls older than that many days.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .. import paths
from ..audio.store import HistoryStore, RemovedCall, StoreError

log = logging.getLogger(__name__)

RETENTION_KEY = "retention_days"  # meta key in the history file
MAX_RETENTION_DAYS = 3650  # days: ten years; anything longer is "keep forever" (leave it off)
RECORDING_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3")  # what counts as a recording in Poise's folder


@dataclass
class Forgotten:
    """What a forget did: calls removed from history, files removed from disk, and what went wrong."""

    calls: int = 0
    files_removed: list[Path] = field(default_factory=list)
    files_kept: list[Path] = field(default_factory=list)  # the user's own files reviewed: forgotten, not deleted
    agents: int = 0
    problems: list[str] = field(default_factory=list)  # one sentence each (a file that could not be removed)

    def describe(self) -> str:
        """One sentence for the user."""
        parts = [f"{self.calls} call{'s' if self.calls != 1 else ''}"]
        if self.agents:
            parts.append(f"{self.agents} profile{'s' if self.agents != 1 else ''}")
        n = len(self.files_removed)
        parts.append(f"{n} recording{'s' if n != 1 else ''}")
        text = "Removed " + ", ".join(parts[:-1]) + " and " + parts[-1] + "."
        if self.files_kept:
            text += f" {len(self.files_kept)} reviewed file(s) of your own were left where they are."
        if self.problems:
            text += " " + self.problems[0]
        return text


def _recordings_folder() -> Path | None:
    try:
        return paths.recordings_dir().resolve()
    except OSError:
        return None


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        return path.resolve().is_relative_to(folder)
    except OSError:
        return False


def _owned(call: RemovedCall, folder: Path | None) -> bool:
    """Whether Poise made this call's recording (so removing the call removes the file)."""
    return call.recording is not None and (call.kind in ("live", "practice") or _inside(call.recording, folder))


def _remove_file(path: Path, out: Forgotten) -> None:
    """Remove a recording and what Poise keeps beside it (`<name>.<anything>`, e.g. its metadata)."""
    targets = [path]
    try:
        targets += [p for p in path.parent.glob(f"{path.name}.*") if not p.name.endswith(".part")]
    except OSError:
        pass
    for target in targets:
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            out.problems.append(f"Could not remove {target} ({exc.strerror or exc}); remove it by hand.")
            continue
        if target == path:
            out.files_removed.append(path)


def _remove_audio(store: HistoryStore, removed: list[RemovedCall], out: Forgotten) -> None:
    folder = _recordings_folder()
    in_use = store.recordings_in_use() if removed else set()
    seen: set[Path] = set()
    for call in removed:
        rec = call.recording
        if rec is None or rec in seen:
            continue
        seen.add(rec)
        if rec in in_use:
            continue  # another call in history still plays this file
        if _owned(call, folder):
            _remove_file(rec, out)
        else:
            out.files_kept.append(rec)
    out.calls += sum(call.kind != "practice" for call in removed)


def forget_calls(store: HistoryStore, ids: list[int]) -> Forgotten:
    """Delete these calls and the recordings Poise made for them."""
    out = Forgotten()
    removed = store.delete_calls(ids=list(ids))
    missing = set(ids) - {c.id for c in removed}
    if missing and not removed:
        raise StoreError(f"There is no call {min(missing)} in history: `poise history` lists them.")
    _remove_audio(store, removed, out)
    return out


def forget_agent(store: HistoryStore, agent: str) -> Forgotten:
    """Delete an agent: profile, name, every call, and the recordings Poise made for them."""
    if agent not in {a.name for a in store.list_agents()}:
        raise StoreError(f"There is no agent called “{agent}” in history: `poise history` lists the calls.")
    out = Forgotten(agents=1)
    _remove_audio(store, store.delete_agent(agent), out)
    return out


def forget_all(store: HistoryStore) -> Forgotten:
    """Delete every call, profile and agent, every recording Poise made, and its orphaned recordings."""
    out = Forgotten(agents=len(store.list_agents()))
    _remove_audio(store, store.delete_everything(), out)
    for orphan in find_orphans(store):
        _remove_file(orphan, out)
    return out


def find_orphans(store: HistoryStore, folder: Path | None = None) -> list[Path]:
    """Recordings in Poise's folder (default: `paths.recordings_dir()`) that no call in history uses, oldest first."""
    folder = folder if folder is not None else _recordings_folder()
    if folder is None or not folder.is_dir():
        return []
    in_use = {p.resolve() for p in store.recordings_in_use()}
    found = [
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in RECORDING_SUFFIXES and p.resolve() not in in_use
    ]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def remove_orphans(store: HistoryStore, folder: Path | None = None) -> Forgotten:
    """Remove the recordings `find_orphans` lists."""
    out = Forgotten()
    for orphan in find_orphans(store, folder):
        _remove_file(orphan, out)
    return out


def parse_retention(text: str) -> int | None:
    """'30' → 30 days, 'off' (or 0) → None; raises ValueError with one sentence otherwise."""
    text = text.strip().lower()
    if text in ("off", "none", "never", "0", ""):
        return None
    try:
        days = int(text)
    except ValueError:
        raise ValueError(f"“{text}” is not a number of days: give e.g. 30, or off.") from None
    if not 0 < days <= MAX_RETENTION_DAYS:
        raise ValueError(f"Keep calls for 1 to {MAX_RETENTION_DAYS} days, or off.")
    return days


def retention_days(store: HistoryStore) -> int | None:
    """How many days calls are kept (None: forever, the default)."""
    value = store.get_meta(RETENTION_KEY)
    try:
        return parse_retention(value) if value is not None else None
    except ValueError:
        return None


def set_retention(store: HistoryStore, days: int | None) -> None:
    """Keep calls for `days` days (None: forever). Takes effect at the next `apply_retention`."""
    if days is not None and not 0 < days <= MAX_RETENTION_DAYS:
        raise ValueError(f"Keep calls for 1 to {MAX_RETENTION_DAYS} days, or off.")
    store.set_meta(RETENTION_KEY, None if days is None else str(int(days)))


def apply_retention(store: HistoryStore, now: datetime | None = None) -> Forgotten:
    """Delete calls (and Poise's recordings of them) older than the retention setting; nothing when it is off."""
    out = Forgotten()
    days = retention_days(store)
    if days is None:
        return out
    now = now if now is not None else datetime.now(timezone.utc)
    removed = store.delete_calls(before=now - timedelta(days=days))
    _remove_audio(store, removed, out)
    if removed:
        log.info("retention (%d days) removed %d call(s) and %d recording(s)", days, out.calls, len(out.files_removed))
    return out


__all__ = [
    "Forgotten", "apply_retention", "find_orphans", "forget_agent", "forget_all", "forget_calls",
    "parse_retention", "remove_orphans", "retention_days", "set_retention",
]
