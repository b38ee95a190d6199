"""A batch's summary (`summary.csv`, or `summary.parquet`, from `poise batch`) read for a reviewer:
one row per call, the worst first. Qt-free; the desktop only draws it (poise/desktop/batch_window.py).

Every way a summary can be unusable (missing, not a table, damaged, another file's columns, a
Parquet file without pyarrow) is a `SummaryError` whose message is one plain sentence.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUMMARY_NAMES = ("summary.csv", "summary.parquet")  # what `poise batch` writes in its --out folder
REQUIRED_COLUMNS = ("call", "status", "duration_s", "cues_per_10min", "agent_file")  # what no summary lacks
MAX_SUMMARY_BYTES = 512 * 1024 * 1024  # bytes: ~2 million calls' rows; a bigger file is not a summary
SNIFF_BYTES = 4096  # bytes read first to tell a text table from anything else


class SummaryError(ValueError):
    """The summary cannot be shown; the message is one sentence for the user."""


@dataclass(frozen=True)
class SummaryRow:
    """One call of the batch as its summary row gives it (None where the batch measured nothing)."""

    call: str  # its name in the output folder, e.g. "week1/call7"
    status: str  # "ok" or "error"
    error: str | None
    duration_s: float | None
    agent: str
    agent_wpm: float | None
    talk_share: float | None  # 0..1: the agent's share of the talk
    interruptions: int | None
    cues: int | None
    cues_per_10min: float | None
    cue_counts: dict[str, int] = field(default_factory=dict)  # per cue kind
    agent_file: Path | None = None  # the recording (stereo or mono) or the agent's side
    caller_file: Path | None = None
    agent_channel: str = "left"  # which side of a stereo recording is the agent
    report: Path | None = None  # its JSON report, absolute
    history_id: int | None = None  # the call in history (`poise batch --save`)
    notes: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class BatchSummary:
    """A whole batch: its rows (in the file's order) and the cue kinds it counts."""

    path: Path
    rows: list[SummaryRow]
    cue_kinds: tuple[str, ...]

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if not r.ok)

    @property
    def audio_s(self) -> float:
        """Seconds of audio of the calls analysed."""
        return sum(r.duration_s or 0.0 for r in self.rows if r.ok)

    def describe(self) -> str:
        """One line: how many calls, how much audio, how many failed."""
        n, seconds = len(self.rows), self.audio_s
        audio = f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"
        failed = f", {self.failed} not analysed" if self.failed else ""
        return f"{n} call{'s' if n != 1 else ''}, {audio} of audio{failed}"


def find_summary(path: Path) -> Path:
    """The summary file `path` names: the file itself, or the summary in a batch's output folder."""
    path = Path(path).expanduser().absolute()
    if path.is_dir():
        for name in SUMMARY_NAMES:
            if (path / name).is_file():
                return path / name
        raise SummaryError(f"the folder {path} holds no batch summary (summary.csv): choose the --out folder of a `poise batch` run.")
    if not path.exists():
        raise SummaryError(f"there is no batch summary at {path}: it was moved or deleted, or the batch has not run yet.")
    return path


def load_summary(path: Path) -> BatchSummary:
    """Read a batch's summary (a CSV, or Parquet with pyarrow); raises SummaryError (one sentence)."""
    path = find_summary(path)
    try:
        size = path.stat().st_size
        if size > MAX_SUMMARY_BYTES:
            raise SummaryError(f"{path.name} is {size / 1e9:.1f} GB: too big to be a batch summary.")
        if path.suffix.lower() == ".parquet":
            columns, records = _parquet(path)
        else:
            columns, records = _csv(path)
    except OSError as exc:
        from .errors import describe

        raise SummaryError(f"{path.name} could not be read: {describe(exc).rstrip('.')}.") from exc
    _check_columns(path, columns)
    kinds = tuple(c[4:] for c in columns if c.startswith("cue_") and len(c) > 4)
    rows = [_row(path, n, record, kinds) for n, record in enumerate(records, start=2)]
    return BatchSummary(path, rows, kinds)


def _check_columns(path: Path, columns: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise SummaryError(
            f"{path.name} is not a summary of `poise batch`: it has no {', '.join(repr(m) for m in missing)} "
            f"column{'s' if len(missing) > 1 else ''}."
        )


def _csv(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    data = path.read_bytes()
    head = data[:SNIFF_BYTES]
    if b"\0" in head:
        raise SummaryError(f"{path.name} is not a batch summary (it is not a text table): choose the summary.csv `poise batch` wrote.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SummaryError(f"{path.name} is damaged: it is not UTF-8 text from byte {exc.start} on.") from exc
    if not text.strip():
        raise SummaryError(f"{path.name} is empty: the batch wrote no rows; run it again.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
        _check_columns(path, header)
        records = []
        for values in reader:
            if not values:
                continue
            if len(values) != len(header):
                raise SummaryError(
                    f"{path.name} is damaged: line {reader.line_num} has {len(values)} fields where the header has {len(header)}."
                )
            records.append(dict(zip(header, values)))
    except csv.Error as exc:
        raise SummaryError(f"{path.name} is damaged near line {reader.line_num}: {str(exc).rstrip('.')}.") from exc
    return header, records


def _parquet(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    if importlib.util.find_spec("pyarrow") is None:
        raise SummaryError(f"reading {path.name} needs pyarrow, which is not installed: open summary.csv beside it instead.")
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow's errors for a bad file are many
        raise SummaryError(f"{path.name} is damaged or not a Parquet file: open summary.csv beside it instead.") from exc
    return list(table.column_names), table.to_pylist()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, float) and math.isnan(value))


def _number(path: Path, line: int, record: dict[str, Any], key: str, kind: Callable[[str], Any] = float) -> Any:
    value = record.get(key)
    if _blank(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SummaryError(f"{path.name} is damaged: row {line} has {str(value)[:30]!r} as {key}, where a number belongs.") from None
    if not math.isfinite(number):
        return None
    return int(round(number)) if kind is int else number


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    return None if _blank(value) else str(value).strip()


def _file(folder: Path, value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else folder / path


def _row(path: Path, line: int, record: dict[str, Any], kinds: Iterable[str]) -> SummaryRow:
    call = _text(record, "call")
    if call is None:
        raise SummaryError(f"{path.name} is damaged: row {line} has no call name.")
    status = (_text(record, "status") or "error").lower()
    return SummaryRow(
        call=call,
        status=status,
        error=_text(record, "error") or (None if status == "ok" else "not analysed (no reason given)."),
        duration_s=_number(path, line, record, "duration_s"),
        agent=_text(record, "agent") or "",
        agent_wpm=_number(path, line, record, "agent_wpm"),
        talk_share=_number(path, line, record, "agent_talk_share"),
        interruptions=_number(path, line, record, "agent_interruptions", int),
        cues=_number(path, line, record, "cues", int),
        cues_per_10min=_number(path, line, record, "cues_per_10min"),
        cue_counts={k: n for k in kinds if (n := _number(path, line, record, f"cue_{k}", int)) is not None},
        agent_file=_file(path.parent, _text(record, "agent_file")),
        caller_file=_file(path.parent, _text(record, "caller_file")),
        agent_channel="right" if (_text(record, "agent_channel") or "").lower() == "right" else "left",
        report=_file(path.parent, _text(record, "json")),
        history_id=_number(path, line, record, "history_id", int),
        notes=_text(record, "notes"),
    )


# --- sorting: what the table's columns sort by -------------------------------------------------

SORT_KEYS: dict[str, Callable[[SummaryRow], Any]] = {
    "call": lambda r: r.call.lower(),
    "agent": lambda r: r.agent.lower(),
    "duration_s": lambda r: r.duration_s,
    "agent_wpm": lambda r: r.agent_wpm,
    "talk_share": lambda r: r.talk_share,
    "interruptions": lambda r: r.interruptions,
    "cues": lambda r: r.cues,
    "cues_per_10min": lambda r: r.cues_per_10min,
    "error": lambda r: (r.error or "").lower() or None,
}
DEFAULT_SORT = ("cues_per_10min", True)  # the worst calls first: a reviewer starts there


def sort_key(column: str) -> Callable[[SummaryRow], Any]:
    """What `column` sorts by: a field above, or `cue_<kind>` for one cue kind's count."""
    if column.startswith("cue_"):
        kind = column[4:]
        return lambda r: r.cue_counts.get(kind)
    return SORT_KEYS[column]


def sort_rows(rows: list[SummaryRow], column: str = DEFAULT_SORT[0], descending: bool = DEFAULT_SORT[1]) -> list[SummaryRow]:
    """The rows sorted by `column`; rows without a value (calls not analysed) last in either order,
    ties by call name."""
    key = sort_key(column)
    valued = sorted((r for r in rows if key(r) is not None), key=lambda r: r.call.lower())
    valued.sort(key=key, reverse=descending)
    return valued + sorted((r for r in rows if key(r) is None), key=lambda r: r.call.lower())


__all__ = [
    "DEFAULT_SORT", "REQUIRED_COLUMNS", "BatchSummary", "SummaryError", "SummaryRow",
    "find_summary", "load_summary", "sort_key", "sort_rows",
]
