"""Which calls a batch holds: recordings under folders and globs, agent/caller pairs by a naming rule.

A file whose name matches the rule's agent pattern is paired with the file in the same
folder that matches the caller pattern with the same wildcard parts (the extension may
differ: `call7_agent.wav` goes with `call7_caller.flac`). Every other recording is one
call on its own: stereo (agent left, caller right, as `poise analyze`) or mono (agent).
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..paths import no_such_file

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3"})  # what `poise analyze` reads
DEFAULT_PAIR_RULE = "*_agent.*,*_caller.*"  # agent glob, caller glob (file names, not paths)


class DiscoveryError(ValueError):
    """A folder or glob the user gave holds nothing to analyse; the message is one sentence."""


@dataclass(frozen=True)
class PairRule:
    """Two file-name globs; the wildcards of an agent file's name find its caller file."""

    agent: str
    caller: str

    @classmethod
    def parse(cls, text: str) -> PairRule:
        """`"AGENT_GLOB,CALLER_GLOB"`, e.g. `"*_agent.*,*_caller.*"`; raises DiscoveryError."""
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 2 or not all(parts) or any("/" in p for p in parts):
            raise DiscoveryError(
                f"the pair rule {text!r} is not two file-name patterns: give AGENT,CALLER, e.g. {DEFAULT_PAIR_RULE!r}."
            )
        agent, caller = parts
        if _wildcards(agent) != _wildcards(caller) or not _wildcards(agent):
            raise DiscoveryError(
                f"the pair rule {text!r} needs the same wildcards (* or ?) in both patterns, e.g. {DEFAULT_PAIR_RULE!r}."
            )
        if agent == caller:
            raise DiscoveryError(f"the pair rule {text!r} uses one pattern for both sides: make them differ.")
        return cls(agent, caller)

    def _key(self, pattern: str, name: str) -> tuple[str, ...] | None:
        match = _regex(pattern).fullmatch(name)
        if match is None:
            return None
        groups = match.groups()
        return groups[:-1] if pattern.endswith(".*") else groups  # the extension may differ between sides

    def agent_key(self, name: str) -> tuple[str, ...] | None:
        """The wildcard parts of an agent file's name, or None if it is not an agent file."""
        return self._key(self.agent, name)

    def caller_key(self, name: str) -> tuple[str, ...] | None:
        """The wildcard parts of a caller file's name, or None if it is not a caller file."""
        return self._key(self.caller, name)


def _wildcards(pattern: str) -> list[str]:
    return [c for c in pattern if c in "*?"]


def _regex(pattern: str) -> re.Pattern[str]:
    out = []
    for c in pattern:
        out.append("(.*)" if c == "*" else "(.)" if c == "?" else re.escape(c))
    return re.compile("".join(out))


@dataclass(frozen=True)
class CallFiles:
    """One call of the batch: its name in the output folder and its file(s)."""

    name: str  # relative output name without extension, e.g. "week1/call7"
    agent: Path  # the recording (stereo, mono) or the agent's side of a pair
    caller: Path | None = None  # the caller's side of a pair
    note: str | None = None  # e.g. an agent file without its caller file
    problem: str | None = None  # not analysed: one sentence (a caller file without its agent file)

    @property
    def key(self) -> str:
        """What the manifest knows the call by: its absolute file path(s)."""
        return str(self.agent) + (f"|{self.caller}" if self.caller else "")


def _expand(inputs: list[str]) -> list[Path]:
    files: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES]
            if not found:
                raise DiscoveryError(f"the folder {path} holds no recordings ({', '.join(sorted(AUDIO_SUFFIXES))}).")
            files.extend(found)
        elif path.is_file():
            files.append(path)  # named explicitly: analysed whatever its extension (a bad file gets its row)
        else:
            matches = [Path(p) for p in glob.glob(os.path.expanduser(item), recursive=True)]
            found = [p for p in matches if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES]
            for folder in (p for p in matches if p.is_dir()):
                found.extend(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                if not glob.has_magic(item):
                    raise DiscoveryError(no_such_file(item))
                raise DiscoveryError(f"nothing matches {item}: check the pattern (quote it so the shell leaves it alone).")
            files.extend(found)
    unique = {p.absolute(): None for p in files}
    return sorted(unique)


def _common_root(paths: list[Path]) -> Path:
    if not paths:
        return Path(".")
    root = Path(os.path.commonpath([str(p.parent) for p in paths]))
    return root


def discover(inputs: list[str], rule: PairRule | None = None) -> list[CallFiles]:
    """The calls under `inputs` (folders, files, globs), sorted by name; raises DiscoveryError."""
    rule = rule or PairRule.parse(DEFAULT_PAIR_RULE)
    files = _expand(inputs)
    root = _common_root(files)
    callers: dict[tuple[Path, tuple[str, ...]], list[Path]] = {}
    for f in files:
        key = rule.caller_key(f.name)
        if key is not None and rule.agent_key(f.name) is None:
            callers.setdefault((f.parent, key), []).append(f)
    used: set[Path] = set()
    calls: list[CallFiles] = []
    for f in files:
        if f in used:
            continue
        rel = f.parent.relative_to(root)
        akey = rule.agent_key(f.name)
        if akey is not None:
            partners = callers.get((f.parent, akey), [])
            label = "-".join(k for k in akey if k) or Path(f.name).stem
            if partners:
                caller = partners[0]
                used.add(caller)
                calls.append(CallFiles(str(rel / label), f, caller))
            else:
                calls.append(CallFiles(str(rel / label), f, note=f"no caller file matching {rule.caller!r}: the agent was analysed alone"))
            used.add(f)
        elif rule.caller_key(f.name) is None:
            calls.append(CallFiles(str(rel / f.stem), f))
            used.add(f)
    for f in files:  # caller files whose agent file is missing
        if f not in used:
            rel = f.parent.relative_to(root)
            problem = f"{f.name} is a caller's side with no agent file beside it matching {rule.agent!r}: add the agent's file or rename it."
            calls.append(CallFiles(str(rel / f.stem), f, problem=problem))
    # two calls may not write one output name (call7.wav beside call7_agent.wav): keep the suffix
    names: dict[str, int] = {}
    for c in calls:
        names[c.name] = names.get(c.name, 0) + 1
    out = []
    for c in calls:
        name = c.name if names[c.name] == 1 else f"{c.name}{c.agent.suffix.replace('.', '_')}"
        out.append(CallFiles(os.path.normpath(name), c.agent, c.caller, c.note, c.problem))
    return sorted(out, key=lambda c: c.name)


__all__ = ["AUDIO_SUFFIXES", "DEFAULT_PAIR_RULE", "CallFiles", "DiscoveryError", "PairRule", "discover"]
