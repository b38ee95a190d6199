"""A batch run: find the calls, skip what is done, analyse the rest, and write every result
from this one process (reports, manifest, summary, history): the batch's one writer.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import paths
from ..app.spec import CallKind, CallSpec
from .discover import CallFiles, PairRule, discover
from .fingerprint import batch_settings
from .manifest import Entry, Manifest, settings_hash, write_summary
from .pool import BatchInterrupted, ProcessPoolRunner, WorkerSetupError, default_workers
from .work import CallDone, CallTask, WorkerSetup, _audio_seconds

NOT_SAVED = "not saved"


@dataclass(frozen=True)
class BatchOptions:
    """A batch as the user asked for it."""

    inputs: list[str]  # folders, files, globs
    out_dir: Path
    spec: CallSpec  # the review spec from settings and flags (file unset)
    workers: int = 0  # 0: all cores (local) / one per CPU of the cluster (Ray)
    save: bool = False  # results to history
    html: bool = False
    pair_rule: PairRule | None = None
    ray: str | None = None  # "local" or a cluster address: run on Ray actors
    keep_numbers: bool | None = None  # None: the setting (default: reports and history redacted)
    name: str | None = None  # what history calls the batch (None: the output folder's name)

    @property
    def batch_id(self) -> str:
        """The batch's id in history: from its output folder, so every rerun into it is the same batch."""
        return batch_id(self.out_dir)

    @property
    def batch_name(self) -> str:
        return (self.name or "").strip() or self.out_dir.resolve().name or str(self.out_dir.resolve())


def batch_id(out_dir: Path) -> str:
    """8 hex digits of the output folder's absolute path (a user's batches do not collide in 4 billion)."""
    return hashlib.blake2b(str(out_dir.resolve()).encode("utf-8"), digest_size=4).hexdigest()


@dataclass
class BatchProgress:
    """Where a running batch is, for a progress bar."""

    calls_total: int
    audio_total_s: float
    calls_done: int = 0  # analysed now, failed or skipped
    audio_done_s: float = 0.0  # audio of the calls analysed (or failed) in this run
    audio_skipped_s: float = 0.0  # audio of the calls done before: out of the bar's total and of the rate
    skipped: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)
    last: str = ""  # the name of the call that just finished
    last_error: str | None = None


@dataclass
class BatchReport:
    """How a batch ended."""

    calls: int = 0
    analysed: int = 0
    skipped: int = 0  # done before with the same settings and content
    failed: int = 0
    failed_before: int = 0  # of `failed`: refused as bad input in an earlier run, not tried again
    saved: int = 0
    interrupted: bool = False
    audio_s: float = 0.0  # audio analysed in this run (skipped calls excluded)
    elapsed_s: float = 0.0
    runner: str = ""
    workers: int = 0
    ran: bool = False  # some call was given to a worker in this run
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary_files: list[Path] = field(default_factory=list)
    history_warning: str | None = None
    batch_id: str | None = None  # with --save: the batch in history (`poise history --batch ID`)
    batch_name: str | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)  # (call, sentence)


class _Writer:
    """The one writer: per-call reports, the manifest line, history; builds the summary rows."""

    def __init__(self, options: BatchOptions, manifest: Manifest, settings: str, progress: BatchProgress,
                 on_progress: Callable[[BatchProgress], None], report: BatchReport) -> None:
        self.options, self.manifest, self.settings = options, manifest, settings
        self.progress, self.on_progress, self.report = progress, on_progress, report
        self.calls: dict[str, CallFiles] = {}
        self.contents: dict[str, str] = {}
        self.rows: dict[str, dict[str, Any]] = {}
        self.history: Any = None
        self.saved_keys: set[str] = set()  # calls in history, from this run or an earlier one
        if options.save:
            from ..app.history import History

            self.history = History()

    def _files(self, call: CallFiles) -> list[Path]:
        return [call.agent, *([call.caller] if call.caller else [])]

    def row_base(self, call: CallFiles) -> dict[str, Any]:
        return {
            "call": call.name, "agent_file": str(call.agent), "caller_file": str(call.caller) if call.caller else None,
            "agent_channel": None if call.caller else self.options.spec.agent_channel,  # for its review in the app
        }

    def skipped(self, call: CallFiles, entry: Entry) -> None:
        self.rows[call.key] = dict(entry.row)
        if entry.saved and entry.ok:
            self.saved_keys.add(call.key)
        if entry.ok:
            self.report.skipped += 1
            self.progress.skipped += 1
        else:  # refused before as bad input: still a failed call of this batch (the bar says "failed", not "done")
            self.progress.failed += 1
            self.report.failed += 1
            self.report.failed_before += 1
            self.report.failures.append((call.name, str(entry.row.get("error"))))
        self.progress.audio_skipped_s += float(entry.row.get("duration_s") or 0.0)
        self._advance(call, 0.0)

    def failed_early(self, call: CallFiles, sentence: str) -> None:
        row = {**self.row_base(call), "status": "error", "error": sentence, "agent": self.options.spec.agent}
        self._finish(call, row, ok=False, saved=False)

    def done(self, done: CallDone) -> None:
        call = self.calls[done.key]
        out = self.options.out_dir
        row = {**self.row_base(call), "agent": self.options.spec.agent}
        notes = ([call.note] if call.note else []) + list(done.notes)
        saved = False
        if done.ok:
            metrics = dict(done.metrics)
            cues = metrics.pop("cue_counts", {})
            row.update(metrics)
            row.update({f"cue_{k}": v for k, v in cues.items()})
            target = out / f"{call.name}.json"
            try:
                paths.make_user_dir(target.parent)  # the user's umask, not the data folder's 077
                write_atomic(target, done.json_text or "")
                row["json"] = os.path.relpath(target, out)
                if done.html_text is not None:
                    html = out / f"{call.name}.html"
                    write_atomic(html, done.html_text)
                    row["html"] = os.path.relpath(html, out)
            except OSError as exc:
                from ..app.errors import describe

                done.ok, done.error = False, f"could not write its report in {out}: {describe(exc).rstrip('.')}."
            if done.ok and self.history is not None and done.result is not None:
                outcome = self.history.record(CallKind.REVIEW, self.options.spec.agent, done.result, recording=call.agent.absolute())
                if outcome.call_id is not None:
                    row["history_id"] = outcome.call_id
                    self.report.saved += 1
                    saved = True
                elif outcome.already_in is not None:  # (the policy keeps one row per recording)
                    row["history_id"] = outcome.already_in
                    saved = True
                elif outcome.warning:
                    notes.append(outcome.warning)
                    self.report.history_warning = outcome.warning
        row["analysis_s"] = round(done.elapsed_s, 3)  # wall time in the worker: for sizing (docs/sizing.md)
        row["worker_peak_rss_mb"] = done.worker_peak_rss_mb or None
        row["status"] = "ok" if done.ok else "error"
        row["error"] = None if done.ok else done.error
        row["notes"] = "; ".join(notes) or None
        if not row.get("duration_s"):
            row["duration_s"] = round(done.duration_s, 3)
        self._finish(call, row, ok=done.ok, saved=saved, final=done.ok or done.bad_input)

    def _finish(self, call: CallFiles, row: dict[str, Any], ok: bool, saved: bool, final: bool = False) -> None:
        self.rows[call.key] = row
        if saved:
            self.saved_keys.add(call.key)
        content = self.contents.get(call.key, "")
        self.manifest.add(Entry(call.key, self.settings, content, ok, row, saved, final and bool(content)), self._files(call))
        if ok:
            self.report.analysed += 1
            self.report.audio_s += float(row.get("duration_s") or 0.0)
        else:
            self.report.failed += 1
            self.progress.failed += 1
            self.progress.last_error = f"{call.name}: {row.get('error')}"
            self.report.failures.append((call.name, str(row.get("error"))))
        self._advance(call, float(row.get("duration_s") or 0.0))

    def link_batch(self) -> None:
        """Record in history which saved calls came from this batch (all of them, every run: idempotent).

        A call history already had (the policy keeps one row per recording) is found by its recording.
        A history that cannot be used is one warning; the batch's results stand.
        """
        if self.history is None or self.history.path is None or not self.saved_keys:
            return
        from ..audio.store import HistoryStore, StoreError

        ids: list[int] = []
        try:
            with HistoryStore(self.history.path) as store:
                for key in sorted(self.saved_keys):
                    row, call = self.rows.get(key), self.calls.get(key)
                    if row is None or call is None:
                        continue
                    if not row.get("history_id"):
                        row["history_id"] = store.call_with_recording(call.agent.absolute())
                    if row.get("history_id"):
                        ids.append(int(row["history_id"]))
                store.save_batch(self.options.batch_id, self.options.batch_name, self.options.out_dir.resolve(), ids)
        except StoreError as exc:
            self.report.history_warning = str(exc)
            return
        self.report.batch_id, self.report.batch_name = self.options.batch_id, self.options.batch_name

    def _advance(self, call: CallFiles, audio_s: float) -> None:
        self.progress.calls_done += 1
        self.progress.audio_done_s += audio_s
        self.progress.last = call.name
        self.on_progress(self.progress)


def write_atomic(path: Path, text: str) -> None:
    from ..audio.report import write_atomic as _write

    _write(path, text)


def _reports_there(options: BatchOptions, entry: Entry) -> bool:
    """The reports a done call wrote are still in the output folder (and the HTML one, if asked now)."""
    if not entry.ok:
        return True  # a bad file has no reports
    names = [entry.row.get("json")] + ([entry.row.get("html")] if options.html else [])
    return all(name and (options.out_dir / name).is_file() for name in names)


def _runner(options: BatchOptions, setup: WorkerSetup, workers: int) -> Any:
    if options.ray:
        from .ray_runner import RayRunner  # Ray is imported only here

        return RayRunner(setup, workers, options.ray)
    return ProcessPoolRunner(setup, workers)


def run_batch(
    options: BatchOptions,
    on_progress: Callable[[BatchProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> BatchReport:
    """Run a batch. Raises DiscoveryError (nothing to analyse), WorkerSetupError (no usable model),
    OSError (the output folder cannot be written), and `ray_runner.RayError` (Ray unusable).

    On Ctrl+C (`cancel` set) it stops the workers, writes the summary of what is done and
    returns with `interrupted` set; a rerun continues from there.
    """
    started = time.monotonic()
    cancel = cancel or threading.Event()
    on_progress = on_progress or (lambda p: None)
    calls = discover(options.inputs, options.pair_rule)
    paths.make_user_dir(options.out_dir)  # the user's umask, not the data folder's 077
    manifest = Manifest(options.out_dir)
    keep_numbers = options.keep_numbers
    if keep_numbers is None:
        from ..app.settings import load_settings

        keep_numbers = bool(load_settings().keep_numbers)
    settings = settings_hash(batch_settings(options.spec, keep_numbers, options.pair_rule))
    durations = {c.key: _audio_seconds(str(c.agent)) for c in calls}
    progress = BatchProgress(calls_total=len(calls), audio_total_s=sum(durations.values()))
    report = BatchReport(calls=len(calls))
    writer = _Writer(options, manifest, settings, progress, on_progress, report)
    tasks: list[CallTask] = []
    try:
        for call in calls:
            writer.calls[call.key] = call
            if call.problem:
                writer.failed_early(call, call.problem)
                continue
            try:
                content = manifest.content_hash(writer._files(call))
            except OSError as exc:
                from ..app.errors import describe

                writer.failed_early(call, describe(exc, "review"))
                continue
            writer.contents[call.key] = content
            entry = manifest.is_done(call.key, settings, content, need_saved=options.save)
            reports_there = entry is not None and _reports_there(options, entry)
            if entry is not None and reports_there:
                writer.skipped(call, entry)
            else:
                tasks.append(CallTask(call.key, str(call.agent), str(call.caller) if call.caller else None))
        # longest first: the pool ends with short calls instead of waiting on one long one
        tasks.sort(key=lambda t: -durations.get(t.key, 0.0))
        cores = default_workers()
        if options.ray and options.ray != "local":
            workers, threads = options.workers, 1  # a cluster: one actor per CPU it has (0: Ray counts them)
        else:
            workers = options.workers or cores
            if not options.ray:
                workers = min(workers, max(1, len(tasks)))
            threads = max(1, cores // max(1, min(workers, cores)))
        setup = WorkerSetup(
            spec=options.spec, threads=threads,
            html=options.html, keep_result=options.save, keep_numbers=keep_numbers,
        )
        runner = _runner(options, setup, workers)
        report.runner, report.workers = runner.name, workers
        if tasks:
            report.ran = True
            try:
                runner.run(tasks, writer.done, cancel)
            except BatchInterrupted:
                report.interrupted = True
    finally:
        manifest.close()
        writer.link_batch()
        report.rows = [writer.rows[c.key] for c in calls if c.key in writer.rows]
        if report.rows:
            from ..audio.coach import CUE_KINDS

            report.summary_files = write_summary(options.out_dir, report.rows, CUE_KINDS)
        report.elapsed_s = time.monotonic() - started
    return report


__all__ = ["BatchInterrupted", "BatchOptions", "BatchProgress", "BatchReport", "WorkerSetupError", "run_batch"]
