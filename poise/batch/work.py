"""One call of a batch, in a worker: exactly the analysis `poise analyze` runs (`review_call`).

Both runners (the process pool and Ray's actors) call `prepare_worker` once per process
and `analyse_call` per call. What goes back to the writer is a `CallDone`: the report
texts, the summary row's numbers and, when the batch saves to history, the result.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..app.spec import CallSpec

# Thread pools of the native libraries a worker uses, read when they load: set before
# importing numpy/CTranslate2 in a fresh process, so N workers share the cores.
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class WorkerSetup:
    """What every worker needs, the same for every call of a batch."""

    spec: CallSpec  # the review spec from the user's settings and flags; file set per call
    threads: int = 1  # Whisper (CTranslate2) threads in this worker: cores / workers
    html: bool = False  # render the HTML report too
    keep_result: bool = False  # send the AnalysisResult back (the writer saves it to history)
    keep_numbers: bool = False  # False: reports and history get the transcript redacted, as `poise analyze`


@dataclass(frozen=True)
class CallTask:
    """One call to analyse."""

    key: str  # the manifest's key (absolute file paths)
    agent: str  # file: the recording or the agent's side
    caller: str | None = None  # file: the caller's side of a pair


@dataclass
class CallDone:
    """What a worker sends back for one call: the reports, or the one-sentence reason it failed."""

    key: str
    ok: bool
    error: str | None = None  # one sentence (poise.app.errors.describe)
    bad_input: bool = False
    notes: list[str] = field(default_factory=list)  # what the loader said about the file (cut short, clipping...)
    json_text: str | None = None
    html_text: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)  # the summary row's numbers
    result: Any = None  # AnalysisResult when WorkerSetup.keep_result
    duration_s: float = 0.0  # audio length of the call
    elapsed_s: float = 0.0  # wall time of the analysis in the worker
    worker_pid: int = 0
    worker_peak_rss_mb: float = 0.0  # the worker process's peak resident memory so far


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that bound native thread pools to `threads`."""
    return {name: str(max(1, threads)) for name in THREAD_ENV_VARS}


def prepare_worker(setup: WorkerSetup) -> str | None:
    """Once per worker process: bound threads, quiet logging, load the model (cached for every call).

    Returns None, or the sentence saying why the model cannot be used (then no call can run).
    """
    for name, value in thread_env(setup.threads).items():
        os.environ.setdefault(name, value)
    from ..app.errors import configure_logging, describe
    from ..audio.analysis import transcription_model
    from ..audio.transcribe import ModelError, cap_cpu_threads

    configure_logging()
    cap_cpu_threads(setup.threads)
    if not setup.spec.transcribe:
        return None
    try:
        transcription_model(setup.spec.model_dir, sides=2)  # the model analyze_file asks for on a stereo call
    except ModelError as exc:
        return describe(exc)
    return None


class _Notes(logging.Handler):
    """What the input loader notes about one file."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.messages:
            self.messages.append(message)


def metrics_of(result: Any, agent: str) -> dict[str, Any]:
    """The summary row's numbers of one analysed call (from its contract JSON, so rounding matches)."""
    from ..audio.coach import CUE_KINDS
    from ..audio.report import to_json

    doc = to_json(result)
    conv, who = doc["conversation"], doc["agent"] or {}
    cues: dict[str, int] = {kind: 0 for kind in CUE_KINDS}
    for cue in doc["cues"]:
        cues[cue["kind"]] = cues.get(cue["kind"], 0) + 1
    duration = doc["source"]["duration_s"]
    total = sum(cues.values())
    return {
        "duration_s": duration,
        "agent": agent,
        "agent_wpm": who.get("wpm"),
        "agent_talk_s": who.get("talk_time_s"),
        "agent_words": who.get("words"),
        "agent_talk_share": conv.get("agent_talk_share"),
        "agent_interruptions": conv.get("agent_interruptions"),
        "overlap_s": conv.get("overlap_s"),
        "dead_air_s": conv.get("dead_air_s"),
        "longest_agent_monologue_s": conv.get("longest_agent_monologue_s"),
        "cues": total,
        "cues_per_10min": round(total / duration * 600.0, 2) if duration > 0 else None,
        "cue_counts": cues,
    }


def _peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows: not measured
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _audio_seconds(path: str) -> float:
    try:
        import soundfile as sf

        return float(sf.info(path).duration)
    except Exception:  # noqa: BLE001 - a bad file's length is unknown; its error comes from the analysis
        return 0.0


def analyse_call(task: CallTask, setup: WorkerSetup) -> CallDone:
    """Analyse one call as `poise analyze` does (never raises: a failure is the CallDone's error)."""
    from ..app.errors import describe, log_exception
    from ..app.redact import for_storage
    from ..app.review import review_call
    from ..audio.report import to_json
    from ..audio.sources import NOTES_LOGGER

    started = time.perf_counter()
    spec = replace(setup.spec, file=Path(task.agent), caller_file=Path(task.caller) if task.caller else None)
    notes = _Notes()
    logging.getLogger(NOTES_LOGGER).addHandler(notes)
    done = CallDone(key=task.key, ok=False, worker_pid=os.getpid())
    try:
        outcome = review_call(spec, save=False)
        done.notes = list(notes.messages)
        if outcome.warning:
            done.notes.append(outcome.warning)
        if outcome.result is None:
            done.error, done.bad_input = outcome.error or "the analysis gave no result.", outcome.bad_input
        else:
            result = for_storage(outcome.result, setup.keep_numbers)  # what `poise analyze` writes and saves
            done.json_text = json.dumps(to_json(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
            if setup.html:
                from ..report.html import render_html

                done.html_text = render_html(result)
            done.metrics = metrics_of(result, spec.agent)
            done.duration_s = float(result.source.duration_s)
            done.result = result if setup.keep_result else None
            done.ok = True
    except Exception as exc:  # noqa: BLE001 - one call's failure is its row, never the batch's end
        log_exception(exc)
        done.error = describe(exc, "review")
    finally:
        logging.getLogger(NOTES_LOGGER).removeHandler(notes)
    if not done.duration_s:
        done.duration_s = _audio_seconds(task.agent)
    done.elapsed_s = time.perf_counter() - started
    done.worker_peak_rss_mb = round(_peak_rss_mb(), 1)
    return done


__all__ = ["CallDone", "CallTask", "WorkerSetup", "analyse_call", "metrics_of", "prepare_worker", "thread_env"]
