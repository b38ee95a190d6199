"""A batch run: find the calls, skip what is done, analyse the rest, and write every result
from this one process (reports, manifest, summary, history): the batch's one writer.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..app.spec import CallKind, CallSpec
from .discover import CallFiles, PairRule, discover
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
    failures: list[tuple[str, str]] = field(default_factory=list)  # (call, sentence)


def _settings_of(spec: CallSpec, keep_numbers: bool) -> dict[str, Any]:
    """Everything that changes a call's result: Poise's version, cue rules, model, profile, channels.

    Poise's code itself counts by its version number only: after changing the engine without
    a new version, use a new --out folder (or delete its manifest) to analyse everything again.
    """
    from ..app.history import History

    model: dict[str, Any] = {"dir": spec.model_dir}
    try:
        from ..audio.transcribe import default_model_path

        folder = Path(spec.model_dir).expanduser() if spec.model_dir else default_model_path()
        st = (folder / "model.bin").stat()
        model.update(path=str(folder.resolve()), size=st.st_size, mtime_ns=st.st_mtime_ns)
    except Exception:  # noqa: BLE001 - no usable model: the workers say so
        pass
    prior = History().prior(CallKind.REVIEW, spec.agent)
    return {
        "poise": __version__,
        "config": dataclasses.asdict(spec.config),
        "model": model if spec.transcribe else None,
        "transcribe": spec.transcribe,
        "agent_channel": spec.agent_channel,
        "agent": spec.agent,
        "keep_numbers": keep_numbers,
        "profile": dataclasses.asdict(prior) if prior is not None else None,
    }


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
        if options.save:
            from ..app.history import History

            self.history = History()

    def _files(self, call: CallFiles) -> list[Path]:
        return [call.agent, *([call.caller] if call.caller else [])]

    def row_base(self, call: CallFiles) -> dict[str, Any]:
        return {"call": call.name, "agent_file": str(call.agent), "caller_file": str(call.caller) if call.caller else None}

    def skipped(self, call: CallFiles, entry: Entry) -> None:
        self.rows[call.key] = dict(entry.row)
        self.report.skipped += 1
        self.progress.skipped += 1
        if not entry.ok:  # refused before as bad input: still a failed call of this batch
            self.report.failed += 1
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
                target.parent.mkdir(parents=True, exist_ok=True)
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
                elif outcome.warning:
                    notes.append(outcome.warning)
                    self.report.history_warning = outcome.warning
                else:
                    saved = True  # already in history (the policy keeps one row per recording)
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
    options.out_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(options.out_dir)
    keep_numbers = options.keep_numbers
    if keep_numbers is None:
        from ..app.settings import load_settings

        keep_numbers = bool(load_settings().keep_numbers)
    settings = settings_hash(_settings_of(options.spec, keep_numbers))
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
        report.rows = [writer.rows[c.key] for c in calls if c.key in writer.rows]
        if report.rows:
            from ..audio.coach import CUE_KINDS

            report.summary_files = write_summary(options.out_dir, report.rows, CUE_KINDS)
        report.elapsed_s = time.monotonic() - started
    return report


__all__ = ["BatchInterrupted", "BatchOptions", "BatchProgress", "BatchReport", "WorkerSetupError", "run_batch"]
