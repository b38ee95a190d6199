"""Agent profiles on one machine: list, add, rename, reset and delete; the chosen one is the settings' agent.

A profile is an agent's name, their learnt normal (pitch, loudness, pace; see
`poise.audio.baseline`) and their calls in history. A call starts from the profile of
the agent chosen in the settings (`AppSettings.agent`, see `CallSpec.from_settings`), so
choosing an agent in a picker is saving `agent_name`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..audio.coach import wpm_from_rate
from ..audio.store import AgentInfo, HistoryStore, StoreError
from .forget import Forgotten, forget_agent
from .settings import DEFAULT_AGENT, SettingsStore

MAX_NAME_CHARS = 60  # a name is shown in a combo box and a window title


@dataclass(frozen=True)
class ProfileSummary:
    """An agent's profile in the units the app shows."""

    name: str
    pitch_hz: float | None  # normal pitch (median of voiced speech)
    loudness_dbfs: float | None  # normal loudness
    pace_wpm: float | None  # normal pace, estimated from the articulation rate (as the live pace card)
    rate_sps: float | None  # syllables per second, as measured
    speech_s: float  # how much of their speech the profile was learnt from
    calls: int
    last_call: datetime | None
    updated: datetime | None

    @property
    def learnt(self) -> bool:
        return self.pitch_hz is not None

    def describe(self) -> str:
        """One line: 'normal pitch 176 Hz, loudness -23 dBFS, pace 152 wpm (from 4 min of speech)'."""
        if not self.learnt:
            return "No normal learnt yet: calibrate, or take a live call."
        minutes = self.speech_s / 60.0
        spoken = f"{minutes:.0f} min" if minutes >= 1 else f"{self.speech_s:.0f} s"
        return (
            f"Normal pitch {self.pitch_hz:.0f} Hz, loudness {self.loudness_dbfs:.0f} dBFS, "
            f"pace about {self.pace_wpm:.0f} wpm (learnt from {spoken} of speech)."
        )


def summarise(info: AgentInfo) -> ProfileSummary:
    p = info.profile
    return ProfileSummary(
        name=info.name,
        pitch_hz=p.pitch_hz if p else None,
        loudness_dbfs=p.db if p else None,
        pace_wpm=wpm_from_rate(p.rate_sps) if p and p.rate_sps is not None else None,
        rate_sps=p.rate_sps if p else None,
        speech_s=p.speech_s if p else 0.0,
        calls=info.calls,
        last_call=info.last_call,
        updated=info.profile_updated,
    )


def check_name(name: str) -> str:
    """The name cleaned (spaces trimmed); raises ValueError with one sentence when it cannot be a name."""
    clean = " ".join(name.split())
    if not clean:
        raise ValueError("Give the agent a name.")
    if len(clean) > MAX_NAME_CHARS:
        raise ValueError(f"An agent's name can be at most {MAX_NAME_CHARS} characters.")
    if any(not ch.isprintable() for ch in clean):
        raise ValueError("An agent's name cannot contain control characters.")
    return clean


def list_profiles(store: HistoryStore, current: str | None = None) -> list[ProfileSummary]:
    """Every agent's profile, by name; `current` (the chosen agent) is included even before it has anything."""
    infos = store.list_agents()
    names = {i.name for i in infos}
    if current and current not in names:
        infos.append(AgentInfo(current, None, 0, None, None))
        infos.sort(key=lambda i: i.name.lower())
    return [summarise(i) for i in infos]


def add_profile(store: HistoryStore, name: str) -> str:
    """A new agent (refuses a name already used); returns the cleaned name."""
    clean = check_name(name)
    if clean in {i.name for i in store.list_agents()}:
        raise StoreError(f"There is already an agent called “{clean}”: choose another name.")
    store.add_agent(clean)
    return clean


def rename_profile(store: HistoryStore, old: str, new: str, settings: SettingsStore | None = None) -> str:
    """Rename an agent's profile and calls; the settings follow when it was the chosen agent."""
    clean = check_name(new)
    if clean == old:
        return clean
    store.rename_agent(old, clean)
    settings = settings or SettingsStore()
    if settings.load().agent == old:
        settings.update(agent_name=clean)
    return clean


def reset_profile(store: HistoryStore, name: str) -> bool:
    """Forget the learnt normal; the next calls learn it afresh (calls stay in history)."""
    return store.reset_profile(name)


def delete_profile(store: HistoryStore, name: str, settings: SettingsStore | None = None) -> Forgotten:
    """Delete the agent: profile, calls and the recordings Poise made; the chosen agent falls back to the default."""
    known = name in {i.name for i in store.list_agents()}
    out = forget_agent(store, name) if known else Forgotten()  # (an agent only chosen, never saved: nothing to remove)
    settings = settings or SettingsStore()
    if settings.load().agent == name:
        settings.update(agent_name="")
    return out


def choose_profile(name: str, settings: SettingsStore | None = None) -> str:
    """Make `name` the agent calls start from (saved in the settings); returns the cleaned name."""
    clean = check_name(name)
    (settings or SettingsStore()).update(agent_name="" if clean == DEFAULT_AGENT else clean)
    return clean


__all__ = [
    "ProfileSummary", "add_profile", "check_name", "choose_profile", "delete_profile",
    "list_profiles", "rename_profile", "reset_profile", "summarise",
]
