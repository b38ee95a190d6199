"""A call that runs in real time (live, demo, calibration, practice): built, run, stopped and saved here.

    call = LiveCall(spec, on_event=..., on_state=...)
    call.begin()            # returns at once: prepares on the preparation thread, then starts
    ...
    call.stop()             # returns at once: the pipeline finishes the session
    outcome = call.wait()   # CallOutcome(result, error, recording, call_id, warning)

Threads (see docs/design.md, Threads):
- `poise-prepare`, one long-lived thread for the process: loads the Whisper model, opens
  the devices, builds the session. It is never replaced because a CTranslate2 model built
  on a thread that then ends decodes several times slower (measured: 0-1 instead of 5-6
  segments of a 10.5 s clip replayed at 2x).
- `poise-session` (`SessionRunner`): feeds the source through the session; when the
  source ends it finishes the session, closes the recording and applies the history
  policy, then reports FINISHED or FAILED.
- `poise-transcribe` (`StreamingTranscriber`): Whisper; segments go to the session.
- `poise-stop`, short-lived: asks the source to end, so `stop()` never blocks its caller.

`on_event` and `on_state` are called on those threads; a UI hops them to its own thread.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from .. import paths
from ..audio.types import Block
from .errors import describe, is_bad_input
from .history import History
from .redact import for_storage
from .settings import load_settings
from .spec import CallKind, CallOutcome, CallSpec, CallState

log = logging.getLogger(__name__)

LIVE_WHISPER_THREADS = 1  # one core for Whisper, one for capture, prosody and the UI (4 threads starved the UI)
TRANSCRIBE_MAX_LAG_S = 4.0  # s: transcription skips ahead rather than fall further behind than this
DECODE_WAIT_S = 30.0  # s to let a running Whisper decode end before the process exits (CTranslate2 aborts otherwise)
DISCARD_JOIN_S = 8.0  # s to wait for the pipeline to wind down when a call is abandoned (window closed)

EventListener = Callable[[object], None]
StateListener = Callable[[CallState], None]
SourceFactory = Callable[[CallSpec], Iterable[Block]]
AgentSource = Callable[[], Iterable[Block]]  # the agent's audio alone (a microphone, or a recording in tests)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def preparation_pool() -> ThreadPoolExecutor:
    """The one long-lived `poise-prepare` thread (see the module docstring for why it is kept)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="poise-prepare")
        return _pool


def open_source(spec: CallSpec) -> Iterable[Block]:
    """The audio of a call: the devices for live, calibration and practice, the file (in real time) for a demo."""
    if spec.kind is CallKind.DEMO:
        from ..audio.sources import FileSource, load_call

        if spec.file is None or not Path(spec.file).is_file():
            raise FileNotFoundError(2, "No such file", str(spec.file))
        return FileSource(load_call(spec.file), realtime=True, speed=spec.speed)
    from ..audio.capture import LiveSource

    return LiveSource(spec.agent_device, spec.caller_device)  # finds the devices now; opens them in prepare()


class LiveCall:
    """One call in real time, from preparation to saved outcome.

    `source_factory` replaces `open_source` (the trainer and calibration pass their own
    source: a microphone chosen elsewhere, or a recording standing in for one).
    `save=False` leaves the history policy to whoever holds the outcome (calibration:
    the profile is refined only once the agent accepts the measurement).
    """

    def __init__(
        self,
        spec: CallSpec,
        *,
        on_event: EventListener | None = None,
        on_state: StateListener | None = None,
        history: History | None = None,
        source_factory: SourceFactory | None = None,
        save: bool = True,
        keep_numbers: bool | None = None,
    ) -> None:
        self.spec = spec
        self.save = save
        self.keep_numbers = keep_numbers  # None: the setting (transcripts redacted in history by default)
        self.on_event = on_event
        self.on_state = on_state
        self.history = history if history is not None else History()
        self._source_factory = source_factory or open_source
        self._state = CallState.IDLE
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._stop_requested = False
        self.outcome: CallOutcome | None = None
        self.source: Any = None
        self.session: Any = None
        self.runner: Any = None
        self.transcriber: Any = None
        self.recorder: Any = None

    # ---- state -----------------------------------------------------------------------

    @property
    def state(self) -> CallState:
        return self._state

    @property
    def has_caller(self) -> bool:
        return bool(self.session is not None and self.session.has_caller)

    def _set_state(self, state: CallState) -> None:
        with self._lock:
            if self._state.ended or self._state is state:
                return
            self._state = state
        if self.on_state is not None:
            try:
                self.on_state(state)
            except Exception:  # noqa: BLE001 - a listener must not break the call
                log.warning("a call state listener failed", exc_info=True)

    def _end(self, outcome: CallOutcome) -> None:
        self.outcome = outcome
        self._set_state(CallState.FAILED if outcome.error and outcome.result is None else CallState.FINISHED)
        self._done.set()

    # ---- lifecycle -------------------------------------------------------------------

    def begin(self) -> Future:
        """Prepare and start on the preparation thread; returns at once."""
        self._set_state(CallState.PREPARING)
        return preparation_pool().submit(self._prepare_and_start)

    def _prepare_and_start(self) -> None:
        if self.prepare():
            self.start()

    def prepare(self) -> bool:
        """The slow part (model, devices, recorder, session); blocks. False if the call failed or was stopped."""
        self._set_state(CallState.PREPARING)
        spec = self.spec
        try:
            source = self._source_factory(spec)  # a live source finds its devices here: a wrong name fails fast
            self.source = source
            has_caller = _source_has_caller(source, spec)
            session_ref: list[Any] = []  # the transcriber is built first; its segments go to the session built next
            if spec.transcribe and spec.kind in (CallKind.LIVE, CallKind.DEMO):
                from ..audio.transcribe import StreamingTranscriber, load_model

                model = load_model(spec.model_dir, cpu_threads=LIVE_WHISPER_THREADS)
                self.transcriber = StreamingTranscriber(
                    model, lambda segment: session_ref[0].add_segment(segment), max_lag_s=TRANSCRIBE_MAX_LAG_S
                )
            if spec.keep_audio and spec.kind is CallKind.LIVE:
                from ..audio.recorder import CallRecorder

                folder = Path(spec.record_dir) if spec.record_dir else paths.recordings_dir()
                self.recorder = CallRecorder(folder, channels=2 if has_caller else 1)
            from ..audio.session import Session, SessionRunner

            prior = self.history.prior(spec.kind, spec.agent)
            self.session = Session(
                has_caller=has_caller, config=spec.config, baseline=prior,
                transcriber=self.transcriber, recorder=self.recorder,
            )
            session_ref.append(self.session)
            if self.on_event is not None:
                self.session.subscribe(self.on_event)
            if hasattr(source, "on_status"):  # a live source reports devices lost and back
                source.on_status = self.session.report_status
            if hasattr(source, "on_gap"):  # ... and where each side was silence: recording metadata, events
                source.on_gap = self._gap
            self.runner = SessionRunner(source, self.session)
            self.runner.on_finished = self._finished
            start = getattr(source, "start", None)
            if start is not None and not self._stop_requested:
                start()  # opens the devices: audio (and audio time) flows from here
        except Exception as exc:  # noqa: BLE001 - every failure becomes one sentence
            log.warning("preparing the %s failed", spec.kind.value, exc_info=True)
            self._release()
            self._end(CallOutcome(error=describe(exc, spec.kind.value), bad_input=is_bad_input(exc)))
            return False
        if self._stop_requested:  # stopped (or the window closed) while preparing
            self._release()
            self._end(CallOutcome())
            return False
        return True

    def start(self) -> None:
        """Start the prepared pipeline (fast).

        RUNNING is reported before the first block is fed, so a listener that prepares its
        view on RUNNING sees it before any event of the call.
        """
        self._set_state(CallState.RUNNING)
        try:
            if self.transcriber is not None:
                self.transcriber.start()
            self.runner.start()
        except Exception as exc:  # noqa: BLE001
            log.warning("starting the %s failed", self.spec.kind.value, exc_info=True)
            self._release()
            self._end(CallOutcome(error=describe(exc, self.spec.kind.value)))
            return
        if self._stop_requested:  # stop() came while the runner was being started
            self.stop()

    def stop(self) -> None:
        """Ask the call to end; returns at once. The outcome arrives with FINISHED (or FAILED)."""
        self._stop_requested = True
        if self._state is not CallState.RUNNING or self.runner is None:
            return  # preparing: prepare() sees the request; ended or idle: nothing to do
        self._set_state(CallState.STOPPING)
        threading.Thread(target=self.runner.stop, name="poise-stop", daemon=True).start()

    def wait(self, timeout: float | None = None) -> CallOutcome | None:
        """Block until the call has ended; its outcome (None on timeout)."""
        self._done.wait(timeout)
        return self.outcome

    def join_workers(self, timeout: float = DECODE_WAIT_S) -> None:
        """Wait for a Whisper decode still running after the call ended (call before the process exits)."""
        if self.transcriber is not None:
            try:
                self.transcriber.stop(timeout=timeout)
                self.transcriber.join(timeout)
            except Exception:  # noqa: BLE001
                log.warning("stopping the transcriber failed", exc_info=True)

    def close(self, timeout: float = DISCARD_JOIN_S) -> None:
        """Stop and wait up to `timeout` s (a window closing mid-call). What ran is still saved."""
        self.stop()
        if self.runner is not None and self.runner.is_running():
            self.runner.join(timeout)
        elif self._state is CallState.PREPARING:
            self._done.wait(timeout)

    @property
    def gaps(self) -> list[Any]:
        """Where a device delivered nothing in this call (`recorder.Gap`s; [] for a recording)."""
        return list(getattr(self.source, "gaps", None) or [])

    def _gap(self, gap: Any) -> None:
        """A device gap opened or closed (pipeline thread): into the recording's metadata, the cue rules and `on_event`."""
        if self.recorder is not None:
            self.recorder.mark_gap(gap)
        if self.session is not None:
            self.session.mark_gap(gap)
        if self.on_event is not None:
            try:
                self.on_event(gap)
            except Exception:  # noqa: BLE001 - a listener must not break the call
                log.warning("a call event listener failed", exc_info=True)

    # ---- the end (pipeline thread) ---------------------------------------------------

    def _finished(self) -> None:
        """SessionRunner's `on_finished`: close the recording, apply the history policy, report."""
        runner, spec = self.runner, self.spec
        recording = close_error = None
        if self.recorder is not None:
            try:
                recording = Path(self.recorder.close())
            except Exception as exc:  # noqa: BLE001
                log.warning("closing the recording failed", exc_info=True)
                close_error = describe(exc)
        error = None
        if runner.error:
            error = describe(runner.exception, spec.kind.value) if runner.exception is not None else runner.error
        saved = None
        if runner.result is not None and self.save:
            stored = for_storage(runner.result, self.keep_numbers)  # the live view keeps the words; history does not
            saved = self.history.record(spec.kind, spec.agent, stored, recording, gaps=self.gaps)
        self._end(CallOutcome(
            result=runner.result, error=error, recording=recording,
            call_id=saved.call_id if saved else None, warning=close_error or (saved.warning if saved else None),
        ))

    def _release(self) -> None:
        """Undo a preparation that will not run: devices closed, the empty recording removed."""
        stop = getattr(self.source, "stop", None)
        if stop is not None:
            try:
                stop()
            except Exception:  # noqa: BLE001
                log.warning("closing the audio source failed", exc_info=True)
        if self.transcriber is not None:
            self.transcriber.stop(timeout=1.0)
        if self.recorder is not None:
            try:
                Path(self.recorder.close()).unlink(missing_ok=True)
            except Exception:  # noqa: BLE001
                log.warning("removing an unused recording failed", exc_info=True)


def _source_has_caller(source: Any, spec: CallSpec) -> bool:
    if spec.kind is CallKind.LIVE:
        return spec.caller_device is not None
    if spec.kind in (CallKind.CALIBRATION, CallKind.PRACTICE):
        return False  # the agent alone, reading aloud
    call = getattr(source, "call", None)  # a FileSource knows whether its recording has a caller side
    if call is not None:
        return getattr(call, "caller", None) is not None
    info = getattr(source, "info", None)
    return bool(info is not None and getattr(info, "channels", 1) > 1)


def agent_call(
    kind: CallKind,
    source: AgentSource | None = None,
    *,
    on_event: EventListener | None = None,
    on_state: StateListener | None = None,
    agent: str | None = None,
    history: History | None = None,
    save: bool = True,
) -> LiveCall:
    """A calibration or practice call on the agent's audio alone (not started).

    `source` makes the audio (default: the agent's microphone from the settings, no caller).
    """
    settings = load_settings()
    spec = CallSpec.from_settings(kind, settings, caller_device=None, agent=agent or settings.agent)
    factory = (lambda _spec: source()) if source is not None else None
    return LiveCall(spec, on_event=on_event, on_state=on_state, history=history, source_factory=factory, save=save)


# ---- a killed call, on the next start --------------------------------------------------


@dataclass(frozen=True)
class Recovered:
    """What `recover_interrupted` did with one `.wav.part` a killed call left behind."""

    part: Path
    recording: Path | None  # the recovered .wav (None: it could not be recovered)
    call_id: int | None  # its history row (None: not added)
    message: str  # one sentence for the user


def recover_interrupted(
    spec: CallSpec,
    folder: Path | None = None,
    *,
    history: History | None = None,
    transcribe: bool | None = None,
    keep_numbers: bool | None = None,
) -> list[Recovered]:
    """Recover the recordings killed calls left in `folder` (default: Poise's recordings) and
    put each call in history as a live call, analysed through the review path.

    `spec` gives the cue rules, the model and whose history; `transcribe` (default
    `spec.transcribe`) runs Whisper on the recording. The transcript is redacted in
    history unless `keep_numbers`. Never raises: each file's problem is its `message`.
    """
    from ..audio.recorder import find_interrupted

    history = history if history is not None else History()
    try:
        parts = find_interrupted(folder if folder is not None else paths.recordings_dir())
    except OSError:
        return []
    return [
        recover_recording(part, spec, history=history, transcribe=transcribe, keep_numbers=keep_numbers)
        for part in parts
    ]


def recover_recording(
    part: Path,
    spec: CallSpec,
    *,
    history: History | None = None,
    transcribe: bool | None = None,
    keep_numbers: bool | None = None,
) -> Recovered:
    """Recover one `.wav.part` and add its call to history (see `recover_interrupted`). Never raises."""
    from ..audio.recorder import recover
    from .review import review_call

    history = history if history is not None else History()
    try:
        wav = recover(part)
    except Exception as exc:  # noqa: BLE001 - one file's problem must not stop the next call
        return Recovered(part, None, None, (
            f"Could not recover the interrupted recording {part} ({describe(exc).rstrip('.')}); delete it or try again."
        ))
    review = replace(
        spec, kind=CallKind.REVIEW, file=wav, caller_file=None, agent_channel="left",
        transcribe=spec.transcribe if transcribe is None else transcribe,
    )
    outcome = review_call(review, history=history, save=False)
    head = f"Recovered the recording of an interrupted call: {wav}"
    if outcome.result is None:
        reason = (outcome.error or "it holds no usable audio").rstrip(".")
        return Recovered(part, wav, None, f"{head} (not added to history: {reason}).")
    saved = history.record(CallKind.LIVE, spec.agent, for_storage(outcome.result, keep_numbers), recording=wav.absolute())
    if saved.call_id is None:
        reason = (saved.warning or "history could not be used").rstrip(".")
        return Recovered(part, wav, None, f"{head} (not added to history: {reason}).")
    return Recovered(part, wav, saved.call_id, f"{head}, and added it to history.")


# ---- one Poise per data folder ----------------------------------------------------------

LOCK_NAME = "poise.lock"  # in the data folder; holds the pid of the Poise that runs calls there


class InstanceLock:
    """One running Poise (the app or `poise coach --headless`) per data folder.

    `acquire()` takes an exclusive `flock` on `<data folder>/poise.lock` for as long as the
    process runs (the kernel drops it when the process dies, even by SIGKILL, so a killed
    Poise never blocks the next). A second Poise on the same folder gets one sentence
    instead. `poise analyze` does not take it (reading and one short save are safe side by
    side: SQLite's WAL). On Windows, without `fcntl`, there is no lock.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._file: Any = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> str | None:
        """Take the lock: None, or one sentence saying why this Poise must not run."""
        try:
            import fcntl
        except ImportError:
            return None
        if self._file is not None:
            return None
        try:
            folder = self._folder if self._folder is not None else paths.data_dir()
            f = open(folder / LOCK_NAME, "a+", encoding="ascii")  # noqa: SIM115 - held for the process
        except OSError:
            return None  # no data folder: whatever needs it says so in one sentence
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            other = f.read().strip()
            f.close()
            who = f" (process {other})" if other.isdigit() else ""
            return (
                f"Poise is already running with this data folder{who}: use that window, or close it first "
                "(POISE_DATA_DIR chooses another folder)."
            )
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        paths.make_private(folder / LOCK_NAME)
        self._file = f
        return None

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None


_process_lock: InstanceLock | None = None  # the lock this process holds for its whole life


def claim_data_folder() -> str | None:
    """Hold Poise's data folder for this process (the app, `coach --headless`): None, or the
    sentence for a second Poise. Kept until the process ends (the kernel then drops it)."""
    global _process_lock
    if _process_lock is None:
        _process_lock = InstanceLock()
    message = _process_lock.acquire()
    return message


__all__ = [
    "InstanceLock", "LiveCall", "claim_data_folder", "Recovered", "agent_call", "open_source", "preparation_pool", "recover_interrupted",
    "recover_recording",
]
