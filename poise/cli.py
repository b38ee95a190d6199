"""`poise` on the command line: the app, `analyze`, `devices`, `coach --headless`.

Every failure a user can cause ends in one plain sentence on stderr and an exit
code (2 for bad input, 1 for anything else), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

EXIT_BAD_INPUT = 2  # the contract: unusable recording or device
EXIT_FAILURE = 1
EXIT_DECODE_WAIT_S = 30.0  # s to let a running Whisper decode end before exit (CTranslate2 aborts otherwise)


def _fail(message: str, code: int = EXIT_FAILURE) -> int:
    print(f"poise: {message}", file=sys.stderr)
    return code


class ProgressBar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    WIDTH = 30  # characters of bar

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
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


def cmd_analyze(args: argparse.Namespace) -> int:
    from .audio.analysis import analyze_file
    from .audio.errors import describe
    from .audio.report import format_summary, write_html, write_json
    from .audio.transcribe import ModelError
    from .audio.types import AudioInputError

    bar = ProgressBar()
    try:
        result = analyze_file(
            args.call,
            args.caller,
            args.agent_channel,
            model_path=args.model,
            transcribe=not args.no_transcript,
            progress=bar,
        )
    except AudioInputError as exc:
        bar.close()
        return _fail(str(exc), EXIT_BAD_INPUT)
    except ModelError as exc:
        bar.close()
        return _fail(str(exc))
    except KeyboardInterrupt:
        bar.close()
        return _fail("stopped; nothing was written.", 130)
    except Exception as exc:  # noqa: BLE001 - one sentence, details in the log
        bar.close()
        return _fail(describe(exc))
    bar.close()
    try:
        if args.json:
            write_json(result, args.json)
        if args.html:
            write_html(result, args.html)
    except OSError as exc:
        return _fail(f"could not write the report ({exc.strerror or exc}): choose another folder.")
    if args.save:
        store, _ = _open_history(args.agent)
        if store is not None:
            _save_history(store, result, "review", args.agent, None)
    if not args.quiet:
        print(format_summary(result))
        for path in (args.json, args.html):
            if path:
                print(f"Wrote {path}")
    return 0


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
    from .audio.capture import LiveSource
    from .audio.errors import describe
    from .audio.recorder import CallRecorder
    from .audio.session import Session, SessionRunner
    from .audio.transcribe import ModelError, StreamingTranscriber, load_model
    from .audio.types import AudioInputError, Cue, Segment, Status
    from .paths import recordings_dir

    try:
        events = open(args.events, "a", encoding="utf-8")
    except OSError as exc:
        return _fail(f"could not open {args.events} ({exc.strerror}): choose another path.")
    lock = threading.Lock()

    def write_event(obj: dict) -> None:
        obj["wall"] = round(time.time(), 3)
        with lock:
            events.write(json.dumps(obj) + "\n")
            events.flush()

    def on_event(event: object) -> None:
        if isinstance(event, Cue):
            write_event(event.to_json())
        elif isinstance(event, Segment):
            write_event({"role": event.role, "start": round(event.start, 3), "end": round(event.end, 3), "text": event.text})
        elif isinstance(event, Status):
            print(f"poise: {event.message}", file=sys.stderr)

    session: Session | None = None

    def on_status(status: Status) -> None:
        if session is not None:
            session.report_status(status)
        else:
            print(f"poise: {status.message}", file=sys.stderr)

    try:
        source = LiveSource(args.agent_device, args.caller_device, on_status=on_status)
        source.start()
    except AudioInputError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    transcriber = None
    if not args.no_transcript:
        try:
            model = load_model(args.model, cpu_threads=1)
        except ModelError as exc:
            source.stop()
            return _fail(str(exc))
    recorder = None
    if not args.no_audio:
        folder = Path(args.record_dir) if args.record_dir else recordings_dir()
        recorder = CallRecorder(folder, channels=2)
    if not args.no_transcript:
        transcriber = StreamingTranscriber(model, on_segment=lambda segment: session.add_segment(segment))
        transcriber.start()
    store, prior = _open_history(args.agent)
    session = Session(
        has_caller=args.caller_device is not None, baseline=prior, transcriber=transcriber, recorder=recorder
    )
    session.subscribe(on_event)
    runner = SessionRunner(source, session)

    def request_stop(signum: int, frame: object) -> None:
        runner.stop()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    runner.start()
    deadline = time.monotonic() + args.duration if args.duration else None
    while runner.is_running():
        runner.join(0.2)
        if deadline is not None and time.monotonic() >= deadline:
            runner.stop()
            deadline = None
    if transcriber is not None:
        transcriber.join(EXIT_DECODE_WAIT_S)
    saved = None
    if recorder is not None:
        try:
            saved = recorder.close()
        except OSError as exc:
            print(f"poise: {describe(exc)}", file=sys.stderr)
    events.close()
    if store is not None and runner.result is not None:
        _save_history(store, runner.result, "live", args.agent, saved)
    if runner.error:
        return _fail(runner.error)
    if saved is not None:
        print(f"Recording saved to {saved}", file=sys.stderr)
    return 0


def _open_history(agent: str) -> tuple[object | None, object | None]:
    """The history store and the agent's saved voice profile; (None, None) with a warning if unusable."""
    from .audio.store import HistoryStore, StoreError

    try:
        store = HistoryStore()
    except StoreError as exc:
        print(f"poise: {exc}", file=sys.stderr)
        return None, None
    if store.warning:
        print(f"poise: {store.warning}", file=sys.stderr)
    return store, store.load_profile(agent)


def _save_history(store: object, result: object, kind: str, agent: str, recording: Path | None) -> None:
    from .audio.store import StoreError

    try:
        store.update_profile(agent, result.baseline)  # type: ignore[attr-defined]
        store.save_call(result, kind, agent=agent, recording=recording)  # type: ignore[attr-defined]
    except StoreError as exc:
        print(f"poise: {exc}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="poise", description="A local voice coach for phone agents.")
    parser.add_argument("--demo", action="store_true", help="open the app and play the bundled demo call")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("analyze", help="analyse a recorded call and print a summary")
    p.add_argument("call", help="recording: WAV, FLAC, OGG/Opus or MP3, any rate; stereo = agent + caller")
    p.add_argument("--caller", help="the caller's side as a separate file (CALL is then the agent)")
    p.add_argument("--agent-channel", choices=("left", "right"), default="left", help="which stereo side is the agent")
    p.add_argument("--json", metavar="OUT", help="write the analysis as JSON (schema poise.analysis/1)")
    p.add_argument("--html", metavar="OUT", help="write a self-contained HTML report")
    p.add_argument("--model", metavar="DIR", help="a local CTranslate2 Whisper model folder (default: bundled tiny.en)")
    p.add_argument("--no-transcript", action="store_true", help="skip Whisper: voice measures and cues only")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.add_argument("--save", action="store_true", help="add the call to Poise's history (for trends)")
    p.add_argument("--agent", default="default", help="whose call this is, for --save")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("devices", help="list audio input devices (microphones and loopback monitors)")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("coach", help="coach a live call (the app, or --headless)")
    p.add_argument("--headless", action="store_true", help="no window: write events to --events")
    p.add_argument("--agent-device", help="the agent's microphone: device name (a unique part is enough) or index")
    p.add_argument("--caller-device", help="the caller's audio: a loopback/monitor device or a second input")
    p.add_argument("--events", default="poise-events.jsonl", help="JSON-lines file the cues and transcript go to")
    p.add_argument("--model", metavar="DIR", help="a local CTranslate2 Whisper model folder")
    p.add_argument("--no-transcript", action="store_true", help="no live transcription")
    p.add_argument("--no-audio", action="store_true", help="keep metrics and transcript only, no recording")
    p.add_argument("--record-dir", help="folder for the call recording (default: Poise's data folder)")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--agent", default="default", help="whose voice profile to start from and refine")
    p.set_defaults(func=cmd_coach)
    return parser


def _log_to_file() -> None:
    """Library warnings go to Poise's log file, not the terminal: users get one sentence per problem."""
    import logging

    from .audio.errors import log_path

    try:
        logging.basicConfig(filename=str(log_path()), level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    except OSError:
        logging.basicConfig(handlers=[logging.NullHandler()])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _log_to_file()
    if args.command is None:
        from .desktop.app import main as app_main

        return app_main(["--demo"] if args.demo else [])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
