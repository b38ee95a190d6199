"""`poise` on the command line: the app, `analyze`, `devices`, `coach --headless`.

Every failure a user can cause ends in one plain sentence on stderr and an exit
code (2 for bad input, 1 for anything else), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .app.spec import CallKind, CallSpec

if TYPE_CHECKING:
    from .app.settings import AppSettings

EXIT_BAD_INPUT = 2  # the contract: unusable recording or device
EXIT_FAILURE = 1


INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl+C (128 + SIGINT)
DECODE_WAIT_S = 30.0  # s to let a Whisper decode on a worker thread end before exiting (CTranslate2 aborts otherwise)
NOT_SAVED = "not saved to history"  # how history's sentence says a call was lost (poise.app.history, the store)
TRANSCRIBE_THREAD = "poise-transcribe"  # the name analysis.py gives its Whisper thread


def _cli_words(message: str) -> str:
    """The engine's sentences name the app's Settings; on the command line the choice is a flag."""
    return message.replace("(Settings → Model)", "(--model)").replace("Settings → Model", "--model")


def _say(message: str) -> None:
    print(f"poise: {_cli_words(message)}", file=sys.stderr)


def _fail(message: str, code: int = EXIT_FAILURE) -> int:
    _say(message)
    return code


def _wait_for_decoder(timeout: float = DECODE_WAIT_S) -> None:
    """Let a Whisper decode still running on a worker thread end (it stops at its next chunk)."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name == TRANSCRIBE_THREAD and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))


class _NoteCollector(logging.Handler):
    """Collects what the input loader notes about a file (cut short, clipping, channels used)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    @classmethod
    def attach(cls) -> _NoteCollector:
        from .audio.sources import NOTES_LOGGER

        collector = cls()
        logging.getLogger(NOTES_LOGGER).addHandler(collector)
        return collector

    def detach(self) -> None:
        from .audio.sources import NOTES_LOGGER

        logging.getLogger(NOTES_LOGGER).removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.messages:
            self.messages.append(message)


def _check_output(path: str, what: str) -> str | None:
    """None if `path` can be written, else one sentence; probes without leaving a file behind."""
    target = Path(path)
    if target.is_dir():
        return f"the {what} path {target} is a folder: give a file name, e.g. {target / ('report.' + what.split()[0].lower())}."
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        return f"cannot write the {what} {target}: the folder {folder} does not exist; create it or choose another path."
    existed = target.exists()
    try:
        with open(target, "ab"):
            pass
    except OSError as exc:
        return f"cannot write the {what} {target} ({exc.strerror or exc}): choose another path."
    if not existed:
        target.unlink(missing_ok=True)
    return None


TO_STDOUT = "-"  # a report path that means "print it", as for most command-line tools


def _write_reports(result: object, outputs: list[tuple[str, str]]) -> str | None:
    """Write the reports all or nothing; None, or one sentence naming the report and file that failed."""
    from .audio.report import to_json, write_atomic
    from .report.html import render_html

    texts: list[tuple[str, str, str]] = []
    for what, path in outputs:
        try:
            if what == "JSON report":
                text = json.dumps(to_json(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"  # type: ignore[arg-type]
            else:
                text = render_html(result)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001
            from .app.errors import log_exception

            log_exception(exc)
            return f"could not make the {what} for {path} ({type(exc).__name__}); nothing was written."
        texts.append((what, path, text))
    written: list[Path] = []
    for what, path, text in texts:
        if path == TO_STDOUT:
            continue  # printed once every file is written
        existed = Path(path).exists()
        try:
            write_atomic(path, text)
        except OSError as exc:
            for done in written:  # no half set of reports: the ones written just now go too
                done.unlink(missing_ok=True)
            others = " and nothing else was written" if written else ""
            return f"could not write the {what} {path} ({exc.strerror or exc}){others}: choose another path."
        if not existed:
            written.append(Path(path))
    for _what, path, text in texts:
        if path == TO_STDOUT:  # UTF-8 and \n as in a file, whatever the console's locale (cp1252 on Windows)
            sys.stdout.flush()
            sys.stdout.buffer.write(text.encode("utf-8"))
    return None


class ProgressBar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    WIDTH = 30  # characters of bar

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self._last = ""

    def __call__(self, fraction: float, label: str) -> None:
        if not self.enabled:
            return
        filled = int(round(fraction * self.WIDTH))
        line = f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {fraction * 100:3.0f}% {label:<20}"
        if line != self._last:
            self.stream.write(line)
            self.stream.flush()
            self._last = line

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\r" + " " * len(self._last) + "\r")
            self.stream.flush()


def user_settings() -> AppSettings:
    """The settings the app saved (migrated once from the app's old QSettings when needed)."""
    from .app.settings import SettingsStore

    store = SettingsStore()
    if not store.exists():
        try:
            from .desktop.settings import read_legacy_qsettings
        except ImportError:  # no Qt here: nothing the app could have saved either
            pass
        else:
            store.migrate(read_legacy_qsettings)
    return store.load()


def _spec(kind: CallKind, args: argparse.Namespace, **choices: object) -> CallSpec:
    """A call spec from the saved settings, with what the flags chose on top."""
    settings = user_settings()
    if getattr(args, "model", None):
        choices["model_dir"] = args.model
    if getattr(args, "agent", None):
        choices["agent"] = args.agent
    choices["transcribe"] = not args.no_transcript
    return CallSpec.from_settings(kind, settings, **choices)  # type: ignore[arg-type]


def _keep_numbers(args: argparse.Namespace) -> bool | None:
    """--keep-numbers: True; else None (the setting decides; by default transcripts are redacted)."""
    return True if getattr(args, "keep_numbers", False) else None


def cmd_analyze(args: argparse.Namespace) -> int:
    from .app.review import review_call
    from .report.summary import format_summary

    outputs = [(what, path) for what, path in (("JSON report", args.json), ("HTML report", args.html)) if path]
    to_stdout = [what for what, path in outputs if path == TO_STDOUT]
    if len(to_stdout) > 1:
        return _fail("only one of --json and --html can be - (printed to standard output); give the other a file name.", EXIT_BAD_INPUT)
    for what, path in outputs:  # before the analysis: a wrong path should not cost minutes of Whisper
        problem = None if path == TO_STDOUT else _check_output(path, what)
        if problem:
            return _fail(problem, EXIT_BAD_INPUT)
    if args.save:  # before the analysis too: a data folder that cannot be made is said at once
        from . import paths

        try:
            paths.data_dir()
        except paths.DataDirError as exc:
            return _fail(str(exc), EXIT_BAD_INPUT)
    spec = _spec(
        CallKind.REVIEW, args, file=Path(args.call), caller_file=Path(args.caller) if args.caller else None,
        agent_channel=args.agent_channel,
    )
    bar = ProgressBar()
    notes = _NoteCollector.attach()
    cancel = _CANCEL
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())  # stop at the next chunk, never mid-decode
    try:
        if cancel.is_set():  # Ctrl+C came while Poise was starting
            raise KeyboardInterrupt
        outcome = review_call(spec, save=args.save, progress=bar, cancel=cancel, keep_numbers=_keep_numbers(args))
        if cancel.is_set():
            _wait_for_decoder()
    except KeyboardInterrupt:
        cancel.set()
    finally:
        signal.signal(signal.SIGINT, previous)
        notes.detach()
        bar.close()
    if cancel.is_set():
        return _fail("stopped; nothing was written.", INTERRUPTED)
    if outcome.result is None:  # one sentence: the refusal (the notes on the input are in the log)
        # a model folder named with --model that cannot be used is the user's input too
        bad = outcome.bad_input or bool(args.model and str(args.model) in (outcome.error or ""))
        return _fail(outcome.error or "the analysis gave no result.", EXIT_BAD_INPUT if bad else EXIT_FAILURE)
    for note in notes.messages:
        _say(note)
    from .app.redact import for_storage

    problem = _write_reports(for_storage(outcome.result, _keep_numbers(args)), outputs)  # the summary keeps the words
    if problem:
        return _fail(problem)
    if not args.quiet and not to_stdout:  # with a report on standard output, that is all it holds
        print(format_summary(outcome.result))
        for _what, path in outputs:
            print(f"Wrote {path}")
        if outcome.call_id is not None:
            print(f"Saved to history as call {outcome.call_id} ({spec.agent}).")
    if outcome.note:
        _say(outcome.note)
    if outcome.warning:
        _say(outcome.warning)
    if args.save and outcome.call_id is None and NOT_SAVED in (outcome.warning or ""):
        return EXIT_FAILURE  # asked to save, and it was not: the reports and summary above still stand
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """`poise review FILE`: the review window (a missing file is said here, before any window opens)."""
    for path in (args.call, args.caller):
        if path is not None and not Path(path).is_file():
            from . import paths

            if not Path(path).exists():
                return _fail(paths.no_such_file(path), EXIT_BAD_INPUT)
            kind = "a folder: choose a recording file in it" if Path(path).is_dir() else "not a regular file: choose a recording file"
            return _fail(f"{path} is {kind}.", EXIT_BAD_INPUT)
    from .desktop.app import review_main

    return review_main(args.call, args.caller, args.agent_channel, args.model)


def cmd_devices(args: argparse.Namespace) -> int:
    from .audio.capture import list_input_devices

    try:
        devices = list_input_devices()
    except Exception as exc:  # noqa: BLE001
        return _fail(f"could not list audio devices ({exc}); is PortAudio (libportaudio2) installed?")
    if not devices:
        print("No audio input devices found. Plug in a headset, or run `poise` to try the demo call.")
        return 0
    print(f"{'#':>3}  {'input device':<40} {'rate':>6}  note")
    for d in devices:
        notes = []
        if d.is_default:
            notes.append("default microphone")
        if d.is_monitor:
            notes.append("likely loopback/monitor: choose it for the caller")
        print(f"{d.index:>3}  {d.name[:40]:<40} {int(d.default_samplerate):>6}  {'; '.join(notes)}")
    return 0


def cmd_coach(args: argparse.Namespace) -> int:
    if not args.headless:
        from .desktop.app import main as app_main

        return app_main([])
    return run_headless(args)


def run_headless(args: argparse.Namespace) -> int:
    """Live coaching with no window: cues and final transcript lines appended to a JSON-lines file."""
    from .app.calls import DECODE_WAIT_S, LiveCall
    from .audio.recorder import Gap
    from .audio.types import Cue, Segment, Status

    events_existed = Path(args.events).exists()
    try:
        events = open(args.events, "a", encoding="utf-8")  # noqa: SIM115 - closed below, after the call
    except OSError as exc:
        return _fail(f"could not open {args.events} ({exc.strerror}): choose another path.")

    def discard_events() -> None:
        """A call that never started leaves no empty events file behind (nothing was written)."""
        with contextlib.suppress(OSError):
            events.close()
            if not events_existed and Path(args.events).stat().st_size == 0:
                Path(args.events).unlink()

    lock = threading.Lock()
    events_broken: list[str] = []  # set once: the events file stopped taking writes

    def write_event(obj: dict) -> None:
        obj["wall"] = round(time.time(), 3)
        with lock:
            if events_broken:
                return
            try:
                events.write(json.dumps(obj) + "\n")
                events.flush()
            except OSError as exc:  # a full disk must not stop the coaching
                events_broken.append(exc.strerror or str(exc))
                _say(
                    f"could not write to {args.events} ({events_broken[0]}): coaching goes on, "
                    "but cues and transcript are no longer written there; free some space."
                )


    from .app.redact import redact_segment

    redact = _keep_numbers(args) is None and not user_settings().keep_numbers  # the events file is stored too

    def on_event(event: object) -> None:
        if isinstance(event, Segment) and redact:
            write_event(redact_segment(event).to_json())
        elif isinstance(event, (Cue, Segment, Gap)):  # a Gap: one line when a device is lost, one when it is back
            write_event(event.to_json())
        elif isinstance(event, Status):
            print(f"poise: {event.message}", file=sys.stderr)

    choices: dict[str, object] = {}
    if args.agent_device is not None:
        choices["agent_device"] = args.agent_device
    if args.caller_device is not None:
        choices["caller_device"] = args.caller_device or None  # "" = no caller audio
    if args.no_audio:
        choices["keep_audio"] = False
    if args.record_dir:
        choices["record_dir"] = Path(args.record_dir)
    spec = _spec(CallKind.LIVE, args, **choices)
    from .app.calls import claim_data_folder

    running = claim_data_folder()  # held until the process ends
    if running:
        discard_events()
        return _fail(running)
    _recover_interrupted(Path(args.record_dir) if args.record_dir else None, spec, _keep_numbers(args))
    call = LiveCall(spec, on_event=on_event, keep_numbers=_keep_numbers(args))
    try:
        if not call.prepare():
            outcome = call.outcome
            assert outcome is not None
            discard_events()
            return _fail(outcome.error or "the call did not start.", EXIT_BAD_INPUT if outcome.bad_input else EXIT_FAILURE)
        signal.signal(signal.SIGINT, lambda *_: call.stop())
        signal.signal(signal.SIGTERM, lambda *_: call.stop())
        call.start()
        deadline = time.monotonic() + args.duration if args.duration else None
        while (outcome := call.wait(0.2)) is None:
            if deadline is not None and time.monotonic() >= deadline:
                call.stop()
                deadline = None
        call.join_workers(DECODE_WAIT_S)
    finally:
        with contextlib.suppress(OSError):  # closing flushes: on a full disk that fails too (said above)
            events.close()
    if outcome.warning:  # (a recording that failed was said as it happened, by the session's status)
        _say(outcome.warning)
    if outcome.error:
        return _fail(outcome.error)
    if outcome.recording is not None and Path(outcome.recording).is_file():
        print(f"Recording saved to {outcome.recording}", file=sys.stderr)
    if outcome.result is not None and outcome.call_id is None and NOT_SAVED in (outcome.warning or ""):
        return EXIT_FAILURE  # the call is not in history: said above, and the exit code says it too
    return 0


def _recover_interrupted(record_dir: Path | None, spec: CallSpec, keep_numbers: bool | None) -> None:
    """Recover recordings a killed call left as `.wav.part` (as the app does at start), say so,
    and put each call in history (voice measures and cues; no transcript, to start coaching soon)."""
    from .app.calls import recover_interrupted

    for done in recover_interrupted(spec, record_dir, transcribe=False, keep_numbers=keep_numbers):
        _say(done.message[0].lower() + done.message[1:])


HELP_WIDTH = 78  # columns a subcommand's description is wrapped to (an 80-column terminal)


def add_command(sub: argparse._SubParsersAction, name: str, summary: str, description: str,
                examples: list[str]) -> argparse.ArgumentParser:
    """A subcommand whose `--help` says what it does (`description`) and ends with `examples`; `summary` is
    its line in `poise --help`."""
    return sub.add_parser(name, help=summary, description=textwrap.fill(" ".join(description.split()), HELP_WIDTH),
                          epilog="examples:\n" + "\n".join(f"  {e}" for e in examples),
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="poise", description="A local voice coach for phone agents.")
    parser.add_argument("--version", action="version", version=f"poise {__version__}")
    parser.add_argument("--demo", action="store_true", help="open the app and play the bundled demo call")
    sub = parser.add_subparsers(dest="command")

    p = add_command(sub, "analyze", "analyse a recorded call and print a summary",
                    "Analyse a recorded call on this machine and print its summary: the agent's pace, pitch and\n"
                    "loudness, who held the floor, what was said, and the cues live coaching would have given.\n"
                    "Nothing leaves the machine.",
                    ["poise analyze call.wav", "poise analyze agent.wav --caller caller.wav --html report.html",
                     'poise analyze call.ogg --json call.json --save --agent "Dana"'])
    p.add_argument("call", help="recording: WAV, FLAC, OGG (Vorbis or Opus) or MP3, any rate; "
                                "stereo = left agent + right caller (see --agent-channel)")
    p.add_argument("--caller", help="the caller's side as a separate file (CALL is then the agent)")
    p.add_argument("--agent-channel", choices=("left", "right"), default="left", help="which stereo side is the agent")
    p.add_argument("--json", metavar="OUT", help="write the analysis as JSON (schema poise.analysis/1); - prints it instead of the summary")
    p.add_argument("--html", metavar="OUT", help="write a self-contained HTML report; - prints it")
    p.add_argument("--model", metavar="DIR", help="a local CTranslate2 Whisper model folder (default: the one chosen in the app's Settings, else the bundled tiny.en)")
    p.add_argument("--no-transcript", action="store_true", help="skip Whisper: voice measures and cues only")
    p.add_argument("--quiet", action="store_true", help="print nothing on success (a report asked for with - still prints)")
    p.add_argument("--save", action="store_true", help="add the call to Poise's history (for trends); see docs/design.md, History policy")
    p.add_argument("--agent", help="whose voice profile the cues start from, and whose history --save adds to (default: the app's agent name)")
    p.add_argument("--keep-numbers", action="store_true", help="keep numbers, e-mails and phone numbers in the reports and history (default: redacted)")
    p.set_defaults(func=cmd_analyze)

    p = add_command(sub, "review", "open a recorded call in the review window: listen, see the timeline, export",
                    "Open a recorded call in the review window: play it, see where you sped up, raised your voice\n"
                    "or talked over the caller, read the transcript and the call notes, export a report.",
                    ["poise review call.wav", "poise review agent.flac --caller caller.flac"])
    p.add_argument("call", help="recording: WAV, FLAC, OGG (Vorbis or Opus) or MP3; "
                                "stereo = left agent + right caller (see --agent-channel)")
    p.add_argument("--caller", help="the caller's side as a separate file (CALL is then the agent)")
    p.add_argument("--agent-channel", choices=("left", "right"), default="left", help="which stereo side is the agent")
    p.add_argument("--model", metavar="DIR", help="a local CTranslate2 Whisper model folder (default: the app's choice)")
    p.set_defaults(func=cmd_review)

    p = add_command(sub, "devices", "list audio input devices (microphones and loopback monitors)",
                    "List the audio inputs Poise can capture from: your headset's microphone, and the loopback\n"
                    "(monitor) device that carries the caller's side of a softphone.",
                    ["poise devices"])
    p.set_defaults(func=cmd_devices)

    p = add_command(sub, "coach", "coach a live call (the app, or --headless)",
                    "Coach a live call: open the app (the default), or with --headless capture the two sides\n"
                    "without a window and write cues and transcript to a JSON-lines file. Ctrl+C stops and keeps\n"
                    "what was recorded.",
                    ["poise coach",
                     'poise coach --headless --agent-device "USB headset" --caller-device monitor --duration 600'])
    p.add_argument("--headless", action="store_true", help="no window: write events to --events")
    p.add_argument("--agent-device", help="the agent's microphone: device name (a unique part is enough) or index (default: the app's choice)")
    p.add_argument("--caller-device", help="the caller's audio: a loopback/monitor device or a second input (default: the app's choice; \"\" for none)")
    p.add_argument("--events", default="poise-events.jsonl", help="JSON-lines file the cues and transcript go to")
    p.add_argument("--model", metavar="DIR", help="a local CTranslate2 Whisper model folder (default: the app's choice)")
    p.add_argument("--no-transcript", action="store_true", help="no live transcription")
    p.add_argument("--no-audio", action="store_true", help="keep metrics and transcript only, no recording (default: as in the app's Settings)")
    p.add_argument("--record-dir", help="folder for the call recording (default: Poise's data folder)")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--agent", help="whose voice profile to start from and refine (default: the app's agent name)")
    p.add_argument("--keep-numbers", action="store_true", help="keep numbers, e-mails and phone numbers in history (default: redacted)")
    p.set_defaults(func=cmd_coach)

    from .cli_history import add_parsers as add_history_parsers

    add_history_parsers(sub)  # `history` and `forget` (poise/cli_history.py)

    from .cli_batch import add_parser as add_batch_parser

    add_batch_parser(sub)  # `batch` (poise/cli_batch.py)
    return parser


def _quiet_native_stderr() -> None:
    """Send what C libraries print straight to file descriptor 2 (ALSA, PortAudio, libmpg123)
    to Poise's log; Python's `sys.stderr`, where Poise's own sentences go, stays the terminal."""
    from . import paths

    try:
        target = str(paths.log_path())
    except OSError:
        target = os.devnull
    try:
        sys.stderr.flush()
        terminal = os.dup(2)
        native = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, paths.PRIVATE_FILE_MODE)
    except OSError:
        return
    os.dup2(native, 2)
    os.close(native)
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8", errors="replace")


_CANCEL = threading.Event()  # set by Ctrl+C during `poise analyze`, from the very start of the process


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] in (["analyze"], ["batch"]):
        # before the slow imports: an early Ctrl+C is remembered, never a traceback (or ignored)
        signal.signal(signal.SIGINT, lambda *_: _CANCEL.set())
    from .app.errors import configure_logging

    from .paths import DataDirError

    args = build_parser().parse_args(argv)
    if args.command in ("analyze", "devices", "batch") or (args.command == "coach" and args.headless):
        _quiet_native_stderr()  # (the app keeps fd 2: Qt's own fatal errors must stay visible)
    configure_logging()
    if args.command is None:
        from .desktop.app import main as app_main

        return app_main(["--demo"] if args.demo else [])
    try:
        code = args.func(args)
        sys.stdout.flush()  # here, where a closed pipe (`poise analyze … | head`) is caught
        return code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except DataDirError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        _wait_for_decoder()
        return _fail("stopped.", INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
