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
from typing import TYPE_CHECKING, TextIO

from .app.spec import CallKind, CallSpec

if TYPE_CHECKING:
    from .app.settings import AppSettings

EXIT_BAD_INPUT = 2  # the contract: unusable recording or device
EXIT_FAILURE = 1


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


def cmd_analyze(args: argparse.Namespace) -> int:
    from .app.review import review_call
    from .audio.report import write_json
    from .report.html import write_html
    from .report.summary import format_summary

    spec = _spec(
        CallKind.REVIEW, args, file=Path(args.call), caller_file=Path(args.caller) if args.caller else None,
        agent_channel=args.agent_channel,
    )
    bar = ProgressBar()
    try:
        outcome = review_call(spec, save=args.save, progress=bar)
    except KeyboardInterrupt:
        return _fail("stopped; nothing was written.", 130)
    finally:
        bar.close()
    if outcome.result is None:
        return _fail(outcome.error or "the analysis gave no result.", EXIT_BAD_INPUT if outcome.bad_input else EXIT_FAILURE)
    if outcome.warning:
        print(f"poise: {outcome.warning}", file=sys.stderr)
    try:
        if args.json:
            write_json(outcome.result, args.json)
        if args.html:
            write_html(outcome.result, args.html)
    except OSError as exc:
        return _fail(f"could not write the report ({exc.strerror or exc}): choose another folder.")
    if not args.quiet:
        print(format_summary(outcome.result))
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
    from .app.calls import DECODE_WAIT_S, LiveCall
    from .audio.types import Cue, Segment, Status

    try:
        events = open(args.events, "a", encoding="utf-8")  # noqa: SIM115 - closed below, after the call
    except OSError as exc:
        return _fail(f"could not open {args.events} ({exc.strerror}): choose another path.")
    lock = threading.Lock()

    def write_event(obj: dict) -> None:
        obj["wall"] = round(time.time(), 3)
        with lock:
            events.write(json.dumps(obj) + "\n")
            events.flush()

    def on_event(event: object) -> None:
        if isinstance(event, (Cue, Segment)):
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
    call = LiveCall(_spec(CallKind.LIVE, args, **choices), on_event=on_event)
    with events:
        if not call.prepare():
            outcome = call.outcome
            assert outcome is not None
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
    if outcome.warning:
        print(f"poise: {outcome.warning}", file=sys.stderr)
    if outcome.error:
        return _fail(outcome.error)
    if outcome.recording is not None:
        print(f"Recording saved to {outcome.recording}", file=sys.stderr)
    return 0


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
    p.add_argument("--model", metavar="DIR", help="a local CTranslate2 Whisper model folder (default: the one chosen in the app's Settings, else the bundled tiny.en)")
    p.add_argument("--no-transcript", action="store_true", help="skip Whisper: voice measures and cues only")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.add_argument("--save", action="store_true", help="add the call to Poise's history (for trends); see docs/design.md, History policy")
    p.add_argument("--agent", help="whose voice profile the cues start from, and whose history --save adds to (default: the app's agent name)")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("devices", help="list audio input devices (microphones and loopback monitors)")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("coach", help="coach a live call (the app, or --headless)")
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
    p.set_defaults(func=cmd_coach)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .app.errors import configure_logging

    args = build_parser().parse_args(argv)
    configure_logging()
    if args.command is None:
        from .desktop.app import main as app_main

        return app_main(["--demo"] if args.demo else [])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
