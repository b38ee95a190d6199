"""`poise batch`: analyse every call under folders or globs, on all cores or on Ray.

Exit codes: 0 every call analysed (or already done), 1 some calls failed (each has its
row and sentence in the summary) or the batch could not run, 2 bad arguments (nothing to
analyse), 130 stopped by Ctrl+C (a rerun continues where it stopped).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from . import paths
from .app.spec import CallKind

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1
INTERRUPTED = 130
DEFAULT_OUT = "poise-batch"  # output folder when --out is not given


def add_parser(sub: Any) -> None:
    """Register `poise batch` on the CLI's subparsers."""
    from .batch.discover import DEFAULT_PAIR_RULE

    from .cli import add_command

    p = add_command(sub, "batch", "analyse a folder (or globs) of recorded calls on all cores, or on Ray",
                    "Analyse every recording in folders or globs exactly as `poise analyze` would, on all cores\n"
                    "(or a Ray cluster), and write each call's JSON and one summary.csv. A rerun skips calls\n"
                    "already done with the same settings; Ctrl+C stops cleanly; a bad file is reported, not fatal.",
                    ["poise batch /calls/week48", "poise batch /calls --workers 2 --html --save --name week48",
                     'poise batch "/calls/*.wav" --pair-rule "*-left.wav,*-right.wav"', "poise batch /calls --ray local"])
    p.add_argument("inputs", nargs="+", metavar="FOLDER_OR_GLOB", help="folders (searched recursively), files or quoted globs of recordings")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"where per-call reports, the summary and the manifest go (default: ./{DEFAULT_OUT})")
    p.add_argument("--workers", type=int, default=0, metavar="N", help="worker processes, each holding the model (default: all cores)")
    p.add_argument("--html", action="store_true", help="write each call's HTML report too")
    p.add_argument("--save", action="store_true", help="add every analysed call to Poise's history (one writer: this process)")
    p.add_argument("--name", metavar="NAME", help="what history calls this batch with --save (default: the --out folder's name); `poise history --batch NAME`")
    p.add_argument("--pair-rule", default=DEFAULT_PAIR_RULE, metavar="AGENT,CALLER",
                   help=f"file-name patterns of two-file calls (default: {DEFAULT_PAIR_RULE!r}); other files are stereo or mono calls")
    p.add_argument("--agent-channel", choices=("left", "right"), default="left", help="which stereo side is the agent")
    p.add_argument("--model", metavar="DIR", help="a local CTranslate2 Whisper model folder (default: the app's choice, else the bundled tiny.en)")
    p.add_argument("--no-transcript", action="store_true", help="skip Whisper: voice measures and cues only")
    p.add_argument("--agent", help="whose voice profile the cues start from, and whose history --save adds to")
    p.add_argument("--keep-numbers", action="store_true", help="keep numbers, e-mails and phone numbers in reports and history (default: redacted)")
    p.add_argument("--ray", metavar="ADDRESS", help="run on Ray: 'local' (a private Ray on this machine) or a cluster address; needs poise[cluster]")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary line on success")
    p.set_defaults(func=cmd_batch)


class _Bar:
    """tqdm over audio seconds (so the ETA weighs long calls), with calls, hours and throughput."""

    def __init__(self, enabled: bool) -> None:
        self.bar: Any = None
        self.enabled = enabled

    def __call__(self, progress: Any) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=max(progress.audio_total_s, 1e-6), file=sys.stderr, dynamic_ncols=True, leave=False,
                bar_format="{percentage:3.0f}%|{bar}| {desc}, ETA {remaining}", desc=f"0/{progress.calls_total} calls",
            )
        elapsed_h = max(1e-9, (_now() - progress.started) / 3600)
        hours = progress.audio_done_s / 3600
        self.bar.total = max(progress.audio_total_s - progress.audio_skipped_s, 1e-6)  # the ETA is for what is left
        self.bar.n = min(progress.audio_done_s, self.bar.total)
        self.bar.set_description_str(
            f"{progress.calls_done}/{progress.calls_total} calls, {hours:.2f} h audio, {hours / elapsed_h:.1f} h audio per hour"
            + (f", {progress.failed} failed" if progress.failed else "") + (f", {progress.skipped} done before" if progress.skipped else ""),
            refresh=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _now() -> float:
    import time

    return time.monotonic()


def cmd_batch(args: argparse.Namespace) -> int:
    """Run `poise batch` (see the module's docstring for exit codes)."""
    from . import cli
    from .app.errors import describe
    from .app.spec import CallSpec
    from .batch import BatchOptions, run_batch
    from .batch.discover import DiscoveryError, PairRule
    from .batch.pool import WorkerSetupError

    cancel = cli._CANCEL  # set by a Ctrl+C from the very start of the process
    if args.workers < 0:
        return cli._fail("--workers must be 1 or more (or 0 for all cores).", EXIT_BAD_INPUT)
    try:
        rule = PairRule.parse(args.pair_rule)
    except DiscoveryError as exc:
        return cli._fail(str(exc), EXIT_BAD_INPUT)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return cli._fail(f"the output path {out} is a file: give a folder with --out.", EXIT_BAD_INPUT)
    try:
        paths.make_user_dir(out)  # the user's umask, as the batch would make it
    except OSError as exc:
        return cli._fail(f"cannot create the output folder {out} ({exc.strerror or exc}): choose another folder with --out.",
                         EXIT_BAD_INPUT)
    settings = cli.user_settings()
    choices: dict[str, object] = {"agent_channel": args.agent_channel, "transcribe": not args.no_transcript}
    if args.model:
        choices["model_dir"] = args.model
    if args.agent:
        choices["agent"] = args.agent
    spec = CallSpec.from_settings(CallKind.REVIEW, settings, **choices)  # type: ignore[arg-type]
    options = BatchOptions(
        inputs=list(args.inputs), out_dir=out, spec=spec, workers=args.workers, save=args.save,
        html=args.html, pair_rule=rule, ray=args.ray, keep_numbers=True if args.keep_numbers else None,
        name=args.name,
    )
    bar = _Bar(enabled=sys.stderr.isatty() and not args.quiet)
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())  # the batch loop checks it 5 times a second
    try:
        if cancel.is_set():
            return cli._fail("stopped before any call was analysed.", INTERRUPTED)
        report = run_batch(options, on_progress=bar, cancel=cancel)
    except DiscoveryError as exc:
        return cli._fail(str(exc), EXIT_BAD_INPUT)
    except WorkerSetupError as exc:
        return cli._fail(str(exc), EXIT_FAILURE)
    except OSError as exc:
        return cli._fail(f"the batch could not write to {out} ({exc.strerror or exc}): free some space or choose another "
                         "folder with --out; a rerun skips the calls already done.", EXIT_FAILURE)
    except Exception as exc:  # noqa: BLE001 - e.g. Ray could not start: one sentence, never a traceback
        from .batch.ray_runner import RayError

        if isinstance(exc, RayError):
            return cli._fail(str(exc), EXIT_FAILURE)
        _log(exc)
        return cli._fail(describe(exc), EXIT_FAILURE)
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
    summary = ", ".join(str(p) for p in report.summary_files) or "none"
    if report.interrupted or cancel.is_set():
        done = len(report.rows)
        return cli._fail(
            f"stopped after {done} of {report.calls} calls ({report.analysed} analysed now); summary so far: {summary}. "
            "Run the same command again to continue.", INTERRUPTED,
        )
    for name, sentence in report.failures[:20]:
        cli._say(f"{name}: {sentence}")
    if len(report.failures) > 20:
        cli._say(f"… and {len(report.failures) - 20} more failed calls: see {summary}.")
    if report.history_warning:
        cli._say(report.history_warning)
    if not args.quiet:
        rate = report.audio_s / max(report.elapsed_s, 1e-9)
        print(
            f"{_calls(report.calls)}: {report.analysed} analysed now, {report.skipped} done before, "
            f"{report.failed} failed" + (f" ({report.failed_before} refused before, not tried again)" if report.failed_before else "")
            + (f", {report.saved} saved to history" if args.save else "")
            + (f" (batch “{report.batch_name}”, id {report.batch_id})" if report.batch_id else "")
            + (f". {_audio(report.audio_s)} of audio in {report.elapsed_s:.0f} s ({rate:.1f}x real time) "
               f"on {_workers(report.workers, report.runner)}" if report.ran else "; nothing new to analyse")
            + f". Summary: {summary}"
        )
    return EXIT_FAILURE if report.failed else 0


def _calls(n: int) -> str:
    return f"{n} call" if n == 1 else f"{n} calls"


def _workers(n: int, runner: str) -> str:
    """'2 worker processes', '1 Ray worker'."""
    if runner == "ray":
        return f"{n} Ray worker" + ("" if n == 1 else "s")
    return f"{n} worker process" + ("" if n == 1 else "es")


def _audio(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def _log(exc: BaseException) -> None:
    from .app.errors import log_exception

    log_exception(exc)


__all__ = ["add_parser", "cmd_batch"]
