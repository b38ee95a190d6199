"""`poise history` and `poise forget`: list the calls history keeps, and remove calls, agents or everything.

Registered by `poise.cli.build_parser` through `add_parsers`. Every failure is one
sentence on stderr: exit 2 for something the user named that is not there (or a refused
confirmation), 1 when the history cannot be used.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def _say(message: str) -> None:
    print(f"poise: {message}", file=sys.stderr)


def _store():
    from . import paths
    from .audio.store import HistoryStore

    return HistoryStore(paths.history_db_path())


def _local(when) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def cmd_history(args: argparse.Namespace) -> int:
    """List calls (newest first), optionally one agent's, as a table or JSON; show or set retention; list orphans."""
    from .app.forget import apply_retention, find_orphans, parse_retention, retention_days, set_retention
    from .audio.store import StoreError
    from .report.format import fmt_length

    try:
        with _store() as store:
            if store.warning:
                _say(store.warning)
            if args.keep_days is not None:
                try:
                    days = parse_retention(args.keep_days)
                except ValueError as exc:
                    _say(str(exc))
                    return EXIT_BAD_INPUT
                set_retention(store, days)
                done = apply_retention(store)
                print(
                    f"Calls are kept for {days} days; {done.describe()}" if days
                    else "Calls are kept until you delete them (retention off)."
                )
                return 0
            if args.orphans:
                orphans = find_orphans(store)
                if args.json:
                    print(json.dumps([str(p) for p in orphans], indent=2))
                elif not orphans:
                    print("Every recording in Poise's folder belongs to a call in history.")
                else:
                    for p in orphans:
                        print(p)
                    print(f"{len(orphans)} recording(s) belong to no call: `poise forget --orphans` removes them.")
                return 0
            if args.batches:
                return _print_batches(store.list_batches(), args.json)
            batch = None
            if args.batch is not None:
                found = store.find_batches(args.batch)
                if len(found) != 1:
                    _say(_no_such_batch(args.batch, found, store.list_batches()))
                    return EXIT_BAD_INPUT
                batch = found[0]
            rows = store.list_calls(limit=None if batch else args.limit, agent=args.agent)
            alike = [a.name for a in store.list_agents() if args.agent and a.name.casefold() == args.agent.casefold()
                     and a.name != args.agent and a.calls] if not rows else []
            if batch is not None:
                ids = store.batch_call_ids(batch.id)
                rows = [r for r in rows if r.id in ids][: args.limit]
            keep = retention_days(store)
    except StoreError as exc:
        _say(str(exc))
        return EXIT_FAILURE
    if args.json:
        out = [
            {
                "id": r.id, "started_at": r.started_at.isoformat(), "kind": r.kind, "agent": r.agent,
                "duration_s": r.duration_s, "agent_wpm": r.agent_wpm, "cue_count": r.cue_count,
                "cues_per_10min": None if r.cues_per_10min is None else round(r.cues_per_10min, 2),
                "interruptions": r.interruptions, "source": r.source,
                "recording": str(r.recording) if r.recording else None,
            }
            for r in rows
        ]
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        if batch is not None:
            print(f"No calls of batch “{batch.name}” ({batch.id})" + (f" for “{args.agent}”." if args.agent else " are in history."))
        else:
            print(f"No calls in history for “{args.agent}”" + (f"; names are exact: did you mean “{alike[0]}”?" if alike else ".")
                  if args.agent else "No calls in history yet: calls coached in the app are kept; `poise analyze FILE --save` adds a recording.")
        return 0
    print(f"{'id':>5}  {'date':<16}  {'agent':<16} {'kind':<6} {'length':>7} {'pace':>8} {'cues':>4} {'interr.':>7}")
    for r in rows:
        pace = f"{r.agent_wpm:.0f} wpm" if r.agent_wpm is not None else "—"
        length = fmt_length(r.duration_s) if r.duration_s is not None else "—"
        interr = "—" if r.interruptions is None else str(r.interruptions)
        print(
            f"{r.id:>5}  {_local(r.started_at):<16}  {r.agent[:16]:<16} {r.kind:<6} {length:>7} {pace:>8}"
            f" {r.cue_count:>4} {interr:>7}"
        )
    note = f"; calls older than {keep} days are removed" if keep else ""
    of = f" of batch “{batch.name}” ({batch.id}; summary: {batch.summary})" if batch is not None else ""
    print(f"{len(rows)} call(s){of}{note}.")
    return 0


def _no_such_batch(asked: str, found: list, batches: list) -> str:
    """One sentence: no batch by that name or id, or several (their ids to choose from)."""
    if found:
        ids = ", ".join(f"{b.id} ({b.folder})" for b in found)
        return f"{len(found)} batches are called “{asked}”: give one of their ids: {ids}."
    if not batches:
        return f"there is no batch “{asked}” in history: a batch run with `poise batch --save` adds one."
    names = ", ".join(f"{b.name} ({b.id})" for b in batches[:5]) + (" …" if len(batches) > 5 else "")
    return f"there is no batch “{asked}” in history; `poise history --batches` lists them: {names}."


def _print_batches(batches: list, as_json: bool) -> int:
    """`poise history --batches`: every batch with calls in history, newest first."""
    if as_json:
        print(json.dumps([
            {"id": b.id, "name": b.name, "folder": str(b.folder), "summary": str(b.summary),
             "updated_at": b.updated_at.isoformat(), "calls": b.calls}
            for b in batches
        ], indent=2, ensure_ascii=False))
        return 0
    if not batches:
        print("No batches in history yet: `poise batch FOLDER --save` adds one.")
        return 0
    print(f"{'id':<8}  {'last run':<16}  {'calls':>5}  {'name':<20} folder")
    for b in batches:
        print(f"{b.id:<8}  {_local(b.updated_at):<16}  {b.calls:>5}  {b.name[:20]:<20} {b.folder}")
    return 0


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def cmd_forget(args: argparse.Namespace) -> int:
    """Remove calls (`--call`), an agent (`--agent`), everything (`--all`) or orphaned recordings (`--orphans`)."""
    from .app.forget import find_orphans, forget_agent, forget_all, forget_calls, remove_orphans
    from .audio.store import StoreError

    try:
        with _store() as store:
            if args.call:
                question = f"Delete call {', '.join(map(str, args.call))} and its recording?"
                act = lambda: forget_calls(store, args.call)  # noqa: E731
            elif args.agent is not None:
                n = len(store.list_calls(limit=None, agent=args.agent))
                question = f"Delete the agent “{args.agent}”: their voice profile, {n} call(s) and their recordings?"
                act = lambda: forget_agent(store, args.agent)  # noqa: E731
            elif args.all:
                n = len(store.list_calls(limit=None))
                question = f"Delete ALL of Poise's history: {n} call(s), every voice profile and every recording?"
                act = lambda: forget_all(store)  # noqa: E731
            else:
                orphans = find_orphans(store)
                if not orphans:
                    print("Every recording in Poise's folder belongs to a call in history: nothing to remove.")
                    return 0
                question = f"Delete {len(orphans)} recording(s) that belong to no call in history?"
                act = lambda: remove_orphans(store)  # noqa: E731
            if not _confirm(question, args.yes):
                _say("nothing was deleted (answer y, or add --yes).")
                return EXIT_BAD_INPUT
            done = act()
    except StoreError as exc:
        _say(str(exc))
        text = str(exc)
        return EXIT_BAD_INPUT if text.startswith("There is no") else EXIT_FAILURE
    print(done.describe())
    for problem in done.problems[1:]:
        _say(problem)
    return EXIT_FAILURE if done.problems else 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `history` and `forget` to the `poise` command line."""
    from .cli import add_command

    p = add_command(sub, "history", "list the calls Poise keeps (newest first)",
                    "List the calls kept in Poise's history on this machine, newest first, with their numbers;\n"
                    "filter by agent or batch, or find stray recordings. --keep-days N sets how long calls are kept and\n"
                    "removes older ones at once.",
                    ['poise history --agent "Dana" --limit 20', "poise history --batches", "poise history --keep-days 90"])
    p.add_argument("--agent", help="only this agent's calls")
    p.add_argument("--batch", metavar="NAME_OR_ID", help="only the calls of this batch (`poise batch --save`; see --batches)")
    p.add_argument("--batches", action="store_true", help="list the batches whose calls are in history")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--limit", type=int, default=None, help="at most this many calls (default: all)")
    p.add_argument("--orphans", action="store_true", help="list recordings in Poise's folder that belong to no call")
    p.add_argument("--keep-days", metavar="DAYS", help="keep calls this many days (older ones are removed), or 'off' (the default)")
    p.set_defaults(func=cmd_history)

    p = add_command(sub, "forget", "delete calls, an agent or everything: rows, recordings and profiles",
                    "Delete calls from history for good, with their recordings and notes: some calls, one agent\n"
                    "(their voice profile too), recordings that belong to no call, or everything.",
                    ["poise forget --call 12 13", 'poise forget --agent "Dana" --yes'])
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--call", type=int, nargs="+", metavar="ID", help="these calls (ids from `poise history`)")
    what.add_argument("--agent", metavar="NAME", help="this agent: profile, calls and recordings")
    what.add_argument("--all", action="store_true", help="every call, profile and recording")
    what.add_argument("--orphans", action="store_true", help="recordings that belong to no call")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_forget)


__all__ = ["add_parsers", "cmd_forget", "cmd_history"]
