"""The call report: contract JSON, terminal summary, self-contained HTML, atomic writes."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from poise import theme
from poise.audio import report
from poise.report import html as report_html
from poise.report import summary, timeline
from poise.audio.types import (
    AnalysisResult,
    Baseline,
    ConversationStats,
    Cue,
    RoleStats,
    Segment,
    SourceInfo,
    Timeline,
    Word,
)

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO.parent / "shared" / "contracts" / "poise.analysis-1.schema.json"
SCREENSHOT_SCRIPT = REPO / "scripts" / "screenshot_report.sh"

STEP_S = 0.5  # s: timeline resolution used by these synthetic calls

# A booking call: (role, start, end, text). The agent speeds up around 1:40 and talks over the caller at 2:05.
TURNS = [
    ("agent", 1.2, 4.6, "Thank you for calling Riverside Hotel, this is Dana, how can I help you?"),
    ("caller", 5.3, 12.8, "Hi, yes, I booked a room for Friday and I was charged twice on my card."),
    ("agent", 13.4, 19.0, "I'm sorry you had this experience. Let me pull up the booking for you."),
    ("caller", 19.6, 23.9, "It's under Morales, M-O-R-A-L-E-S."),
    ("agent", 33.2, 41.5, "Thanks for waiting. I can see the booking and, yes, there are two charges."),
    ("caller", 42.0, 55.0, "So what are you going to do about it? This is the second time this happens."),
    ("agent", 55.4, 58.0, "Okay."),
    ("caller", 58.2, 66.0, "I need the money back before the weekend, I can't have it stuck."),
    ("agent", 66.8, 96.0, "I understand. I'm refunding the duplicate charge now. It usually takes three to five days."),
    ("agent", 96.5, 118.0, "So the refund is on its way and you'll get an email and the booking is confirmed and "
     "<script>alert('x')</script> & everything else stays exactly the same."),
    ("caller", 118.5, 126.0, "Three to five days is too long, I really need"),
    ("agent", 125.0, 131.0, "I know, I know, but there's nothing I can do about the bank."),
    ("caller", 131.5, 138.0, "Fine. Can you at least send me the confirmation?"),
    ("agent", 138.6, 146.0, "Of course. I've sent it to the address on file. Anything else I can help with?"),
    ("caller", 146.5, 148.0, "No, that's all. Thanks."),
    ("agent", 148.4, 150.5, "Thank you, have a good day."),
]

CUES = [
    Cue(47.0, "dead_air", "Say what you're doing", {"silence_s": 6.2}),
    Cue(101.5, "slow_down", "Slow down", {"wpm": 212.4, "baseline_wpm": 148.0, "rate_sps": 5.9}),
    Cue(109.0, "lower_tone", "Lower your tone", {"pitch_hz": 231.0, "baseline_hz": 182.0, "semitones": 4.0}),
    Cue(125.7, "let_caller_finish", "Let the caller finish", {"overlap_s": 0.7, "kind_note": "Caller <held> floor"}),
]


def _words(text: str, start: float, end: float) -> list[Word]:
    tokens = text.split()
    edges = np.linspace(start, end, len(tokens) + 1)
    return [Word(w, float(a), float(b) - 0.02) for w, a, b in zip(tokens, edges[:-1], edges[1:])]


def _timeline(duration: float, turns: list[tuple[str, float, float, str]], caller: bool, seed: int = 7) -> Timeline:
    """Per-step series as the analyzers would produce them: speech share, agent pace/pitch/volume."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration, STEP_S)
    share = {"agent": np.zeros_like(t), "caller": np.zeros_like(t)}
    for role, a, b, _ in turns:
        overlap = np.clip(np.minimum(t + STEP_S, b) - np.maximum(t, a), 0, None) / STEP_S
        share[role] = np.clip(share[role] + overlap, 0, 1)
    speaking = share["agent"] > 0.3
    fast = (t > 96) & (t < 118)
    rate = np.where(fast, 5.9, 4.2) + rng.normal(0, 0.25, t.size)
    pitch = np.where((t > 104) & (t < 118), 230.0, 182.0) + rng.normal(0, 8, t.size)
    agent_db = -24.0 + rng.normal(0, 1.2, t.size)
    caller_db = -27.0 + rng.normal(0, 1.5, t.size)

    def masked(values: np.ndarray, mask: np.ndarray) -> list[float | None]:
        return [float(v) if m else None for v, m in zip(values, mask)]

    return Timeline(
        step_s=STEP_S,
        t=[float(x) for x in t],
        agent_speaking=[float(x) for x in share["agent"]],
        caller_speaking=[float(x) for x in share["caller"]] if caller else [0.0] * t.size,
        agent_rate_sps=masked(rate, speaking),
        agent_pitch_hz=masked(pitch, speaking),
        agent_db=masked(agent_db, speaking),
        caller_db=masked(caller_db, share["caller"] > 0.3) if caller else [None] * t.size,
    )


def stereo_result() -> AnalysisResult:
    """A two-channel call with cues, an interruption and awkward text."""
    duration = 152.37
    return AnalysisResult(
        source=SourceInfo(path="/calls/2024-05-02 riverside <booking>.wav", duration_s=duration, sample_rate=8000, channels=2),
        agent=RoleStats(
            talk_time_s=81.23456,
            words=212,
            wpm=163.77777,
            articulation_rate_sps=4.56789,
            pitch_median_hz=np.float32(186.44),
            pitch_p10_hz=151.06,
            pitch_p90_hz=236.91,
            volume_median_dbfs=-24.77,
        ),
        caller=RoleStats(
            talk_time_s=47.9,
            words=118,
            wpm=151.2,
            articulation_rate_sps=None,
            pitch_median_hz=201.0,
            pitch_p10_hz=None,
            pitch_p90_hz=None,
            volume_median_dbfs=-27.1,
        ),
        conversation=ConversationStats(
            agent_talk_share=0.6291,
            agent_interruptions=np.int64(1),
            longest_agent_monologue_s=51.2,
            dead_air_s=9.4,
            overlap_s=1.2,
        ),
        cues=list(CUES),
        segments=[Segment(role, a, b, text, _words(text, a, b)) for role, a, b, text in TURNS],
        timeline=_timeline(duration, TURNS, caller=True),
        baseline=Baseline(pitch_hz=182.0, db=-24.2, rate_sps=4.3, speech_s=58.0),
    )


def mono_result() -> AnalysisResult:
    """A mono recording: the agent alone, caller None, no cues."""
    turns = [t for t in TURNS[:5] if t[0] == "agent"]
    duration = 42.0
    return AnalysisResult(
        source=SourceInfo(path="practice.flac", duration_s=duration, sample_rate=44100, channels=1),
        agent=RoleStats(20.1, 52, 141.0, 4.1, 178.0, 150.0, 210.0, -22.5),
        caller=None,
        conversation=ConversationStats(1.0, None, 8.3, 9.7, None),
        cues=[],
        segments=[Segment(role, a, b, text, _words(text, a, b)) for role, a, b, text in turns],
        timeline=_timeline(duration, turns, caller=False),
        baseline=Baseline(pitch_hz=178.0, db=-22.5, rate_sps=4.1, speech_s=20.1),
    )


def silent_agent_result() -> AnalysisResult:
    """The agent never spoke: their numbers are None or NaN, the baseline is empty."""
    turns = [("caller", 2.0, 9.0, "Hello? Hello, is anyone there?")]
    duration = 12.0
    tl = _timeline(duration, turns, caller=True)
    tl.agent_rate_sps = [math.nan] * len(tl.t)
    tl.agent_pitch_hz = [None] * len(tl.t)
    tl.agent_db = [float("-inf")] * len(tl.t)
    return AnalysisResult(
        source=SourceInfo(path="nobody.wav", duration_s=duration, sample_rate=16000, channels=2),
        agent=RoleStats(0.0, 0, math.nan, None, None, None, None, float("-inf")),
        caller=RoleStats(7.0, 6, 51.4, 3.8, 205.0, 190.0, 230.0, -30.0),
        conversation=ConversationStats(math.nan, 0, None, 2.0, 0.0),
        cues=[Cue(8.0, "speak_up", "Speak up", {"db": float("nan"), "baseline_db": np.float64(-24.0)})],
        segments=[Segment(role, a, b, text) for role, a, b, text in turns],
        timeline=tl,
        baseline=Baseline(),
    )


ALL_RESULTS = {"stereo": stereo_result, "mono": mono_result, "silent_agent": silent_agent_result}


# --------------------------------------------------------------------------- JSON


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA_PATH.exists():
        pytest.skip(f"contract schema not available: {SCHEMA_PATH}")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _walk(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v)
    else:
        yield obj


@pytest.mark.parametrize("name", sorted(ALL_RESULTS))
def test_json_follows_the_contract_schema(name, validator):
    doc = report.to_json(ALL_RESULTS[name]())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    # Strict JSON: the standard library refuses NaN/inf with allow_nan=False.
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text) == doc
    for value in _walk(doc):
        assert value is None or isinstance(value, (str, bool, int, float))
        if isinstance(value, float):
            assert math.isfinite(value)


def test_json_numbers_are_rounded_and_extra_keys_present():
    result = stereo_result()
    doc = report.to_json(result)
    assert doc["schema"] == "poise.analysis/1"
    assert doc["source"] == {
        "path": "/calls/2024-05-02 riverside <booking>.wav",
        "duration_s": 152.37,
        "sample_rate": 8000,
        "channels": 2,
        "agent_channel": None,  # (additions: how the call was opened, so history can open it the same way)
        "caller_path": None,
        "notes": [],
    }
    agent = doc["agent"]
    assert agent["talk_time_s"] == 81.235
    assert agent["wpm"] == 163.8
    assert agent["articulation_rate_sps"] == 4.57
    assert agent["pitch_median_hz"] == 186.4 and type(agent["pitch_median_hz"]) is float
    assert agent["volume_median_dbfs"] == -24.8
    assert doc["conversation"]["agent_talk_share"] == 0.629
    assert doc["conversation"]["agent_interruptions"] == 1 and type(doc["conversation"]["agent_interruptions"]) is int
    assert [c["t"] for c in doc["cues"]] == [47.0, 101.5, 109.0, 125.7]
    assert doc["cues"][1] == {
        "t": 101.5,
        "kind": "slow_down",
        "message": "Slow down",
        "evidence": {"wpm": 212.4, "baseline_wpm": 148.0, "rate_sps": 5.9},
    }
    seg = doc["segments"][0]
    assert seg["role"] == "agent" and seg["text"].startswith("Thank you for calling")
    assert len(seg["words"]) == len(seg["text"].split())
    assert all(set(w) == {"word", "start", "end"} for w in seg["words"])
    assert [s["start"] for s in doc["segments"]] == sorted(s["start"] for s in doc["segments"])

    assert doc["baseline"] == {"pitch_hz": 182.0, "db": -24.2, "rate_sps": 4.3, "speech_s": 58.0, "ready": True}
    tl = doc["timeline"]
    n = len(result.timeline.t)
    assert tl["step_s"] == STEP_S
    for key in ("t", "agent_speaking", "caller_speaking", "agent_rate_sps", "agent_pitch_hz", "agent_db", "caller_db"):
        assert len(tl[key]) == n, key
    assert tl["agent_pitch_hz"][0] is None  # agent silent in the first step
    assert any(v is not None and v > 200 for v in tl["agent_pitch_hz"])


def test_json_nan_and_inf_become_null():
    doc = report.to_json(silent_agent_result())
    assert doc["agent"]["wpm"] is None
    assert doc["agent"]["volume_median_dbfs"] is None
    assert doc["agent"]["talk_time_s"] == 0.0
    assert doc["conversation"]["agent_talk_share"] is None
    assert doc["cues"][0]["evidence"] == {"db": None, "baseline_db": -24.0}
    assert set(doc["timeline"]["agent_rate_sps"]) == {None}
    assert set(doc["timeline"]["agent_db"]) == {None}
    assert doc["baseline"]["ready"] is False and doc["baseline"]["pitch_hz"] is None


def test_mono_json_has_null_caller():
    doc = report.to_json(mono_result())
    assert doc["caller"] is None
    assert doc["cues"] == []
    assert {s["role"] for s in doc["segments"]} == {"agent"}


# --------------------------------------------------------------------------- terminal summary


def test_summary_lists_numbers_and_cues():
    text = summary.format_summary(stereo_result(), color=False)
    assert "\033[" not in text
    lines = text.splitlines()
    assert 18 <= len(lines) <= 32
    assert "riverside <booking>.wav" in text
    assert "2:32" in text  # duration 152.4 s
    assert "125–165 wpm" in text
    assert "164 wpm  comfortable" in text
    assert "187 Hz (151–237)" in text or "186 Hz (151–237)" in text
    assert "-24.8 dBFS" in text and "-27.1 dBFS" in text
    assert "63 %" in text
    for cue in CUES:
        assert cue.message in text
    assert "01:41  Slow down" in text
    assert "02:05  Let the caller finish" in text
    # Columns line up: every role-table value column starts at the same offset.
    header = next(line for line in lines if line.strip().startswith("Agent") and "Caller" in line)
    col = header.index("Caller")
    for label in ("Talk time", "Words", "Pace", "Loudness"):
        row = next(line for line in lines if line.startswith(label))
        assert row[col - 1] == " " and row[col] != " ", row



def test_cue_evidence_reads_in_plain_words_in_the_report_and_the_summary():
    """Not "rate 6.38 syl/s · baseline rate 5.06 syl/s · ratio 1.26": the review's plain sentence, everywhere."""
    import dataclasses

    from poise.app import review
    from poise.report.format import explain_cue

    assert review.explain_cue is explain_cue  # one sentence for the review's tooltips and the reports
    fast = Cue(40.0, "slow_down", "Slow down", {"rate_sps": 6.38, "baseline_rate_sps": 5.06, "ratio": 1.26,
                                               "wpm": None, "baseline_wpm": None})
    tone = Cue(60.0, "lower_tone", "Lower your tone", {"pitch_hz": 231.0, "baseline_pitch_hz": 166.4, "rise_st": 5.71})
    odd = Cue(80.0, "new_kind", "Something new", {"x_st": 2})  # no sentence for it: its numbers, as before
    result = dataclasses.replace(stereo_result(), cues=[fast, tone, odd])
    plain = explain_cue(fast)
    assert plain == "your recent words 26 % faster than you said them earlier"
    page = report_html.render_html(result)
    terminal = summary.format_summary(result, color=False)
    for text in (page, terminal):
        assert plain in text and "pitch 5.7 semitones above your normal (231 Hz; normal 166 Hz)" in text
        assert "rate 6.38 syl/s" not in text and "rise st" not in text and "ratio 1.26" not in text
        assert "Something new" in text and "x st 2" in text
    assert f"Slow down ({plain})" in timeline.timeline_svg(result)  # the timeline marker's tooltip

def test_summary_mono_silent_and_colour():
    mono = summary.format_summary(mono_result(), color=False)
    assert "No cues: you stayed close to your own normal throughout." in mono
    assert "Caller" not in mono.splitlines()[4]
    assert "mono" in mono
    silent = summary.format_summary(silent_agent_result(), color=False)
    assert "—" in silent and "nan" not in silent.lower() and "inf" not in silent.lower()
    assert "00:08  Speak up" in silent
    coloured = summary.format_summary(stereo_result(), color=True)
    assert "\033[31m" in coloured
    # Not a TTY under pytest's capture: auto mode must not emit escape codes.
    assert "\033[" not in summary.format_summary(stereo_result())


# --------------------------------------------------------------------------- HTML


class _Collector(HTMLParser):
    """Collects tags, attributes and text so tests look at the page as a browser parses it."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Collector:
    parser = _Collector()
    parser.feed(page)
    parser.close()
    return parser


def test_html_is_self_contained_and_escaped():
    result = stereo_result()
    page = report_html.render_html(result)
    parsed = _parse(page)
    tags = [t for t, _ in parsed.tags]
    assert "svg" in tags
    assert "script" not in tags, "text from the transcript became markup"
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; everything" in page  # MarkupSafe's quote entity
    assert "&lt;booking&gt;" in page and "<booking>" not in page
    assert not re.search(r"https?://", page), "no external resources, not even namespaces"
    for _, attrs in parsed.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (key, value)
    text = " ".join(parsed.text)
    for cue in CUES:
        assert cue.message in text
    for _, _, _, seg_text in TURNS:
        assert seg_text in text  # the parser un-escapes: the words read back exactly
    assert "nan" not in text.lower().split()


def test_html_timeline_draws_lanes_traces_and_cue_markers():
    result = stereo_result()
    page = report_html.render_html(result)
    svg = page[page.index('<svg class="timeline"') : page.index("</svg>", page.index('<svg class="timeline"'))]
    assert svg.count('<g class="cue">') == len(CUES)
    assert theme.AGENT in svg and theme.CALLER in svg
    assert svg.count('class="base"') == 3  # baselines for pace, pitch, volume
    assert svg.count('<path class="trace') == 4  # pace, pitch, agent and caller volume
    for tick in ("00:00", "01:00", "02:00"):
        assert f">{tick}</text>" in svg
    # Markers sit where the cues happened: x is proportional to time across the plot.
    xs = [float(m) for m in re.findall(r'<g class="cue"><title>[^<]*</title><line x1="([\d.]+)"', svg)]
    ts = np.array([c.t for c in CUES])
    slope, intercept = np.polyfit(ts, xs, 1)
    assert np.abs(np.polyval([slope, intercept], ts) - xs).max() < 0.15
    # The 00:00 tick is where t=0 maps, and the call spans the plot (slope ≈ plot width / duration).
    zero = float(re.search(r'<text class="ax" x="([\d.]+)"[^>]*>00:00<', svg).group(1))
    assert intercept == pytest.approx(zero, abs=0.2)
    assert slope * result.source.duration_s == pytest.approx(timeline._Svg.W - timeline._Svg.LEFT - timeline._Svg.RIGHT, rel=0.01)


def test_html_transcript_interleaves_roles_and_cues_in_time_order():
    page = report_html.render_html(stereo_result())
    transcript = page[page.index('<div class="transcript">') :]
    rows = re.findall(r'<div class="row (agent|caller|cue)"[^>]*><span class="time">(\d\d:\d\d)</span>', transcript)
    assert len(rows) == len(TURNS) + len(CUES)
    times = [m * 60 + s for m, s in (map(int, t.split(":")) for _, t in rows)]
    assert times == sorted(times)
    kinds = [k for k, _ in rows]
    # The slow_down cue at 1:41.5 comes after the agent turn starting at 1:36.5 and before the caller's at 1:58.5.
    i = kinds.index("cue", kinds.index("cue") + 1)
    assert rows[i - 1] == ("agent", "01:36") and kinds[i + 1] == "cue"  # lower_tone at 1:49 follows
    assert kinds[i + 2] == "caller"
    assert 'id="cue-1"' in transcript and 'href="#cue-1"' in page


def test_html_transcript_splits_a_batched_segment_at_the_pauses_between_turns():
    """A recording's batched segment spans up to 30 s of one side's speech across the other side's turns:
    the report shows it as lines in time order, the caller's reply between the agent's two sentences."""
    result = stereo_result()
    first = [Word("Thanks", 1.0, 1.4, 0.9), Word("for", 1.4, 1.6, 0.9), Word("calling.", 1.6, 2.1, 0.9)]
    later = [Word("Let", 20.0, 20.2, 0.9), Word("me", 20.2, 20.4, 0.9), Word("check", 20.4, 20.8, 0.9), Word("that.", 20.8, 21.2, 0.9)]
    result.segments = [Segment("agent", 1.0, 21.2, "Thanks for calling. Let me check that.", first + later),
                       Segment("caller", 5.0, 9.0, "My parcel never came.", [Word("My", 5.0, 5.3, 0.9), Word("parcel", 5.3, 5.8, 0.9),
                                                                               Word("never", 5.8, 6.2, 0.9), Word("came.", 6.2, 9.0, 0.9)])]
    result.cues = []
    transcript = report_html.render_html(result)
    transcript = transcript[transcript.index('<div class="transcript">') :]
    rows = re.findall(r'<div class="row (agent|caller)"[^>]*><span class="time">(\d\d:\d\d)</span>', transcript)
    assert rows == [("agent", "00:01"), ("caller", "00:05"), ("agent", "00:20")]
    assert transcript.index("Thanks for calling.") < transcript.index("My parcel never came.") < transcript.index("Let me check that.")


def test_html_mono_and_silent_agent():
    mono = report_html.render_html(mono_result())
    assert "No cues: you stayed close to your own normal throughout." in mono
    assert "mono recording: agent only" in mono
    assert 'class="row caller"' not in mono
    silent = report_html.render_html(silent_agent_result())
    assert "no agent speech measured" in silent
    assert "No baseline yet" in silent
    assert "Speak up" in silent
    assert not re.search(r"\bnan\b|\binf\b", silent, re.IGNORECASE)


def test_html_long_call_stays_light():
    """An hour at 0.1 s steps: the SVG is decimated to about a point per pixel."""
    result = stereo_result()
    duration = 3600.0
    turns = [("agent" if i % 2 == 0 else "caller", i * 20.0 + 0.5, i * 20.0 + 18.0, f"turn {i}") for i in range(180)]
    tl = _timeline(duration, turns, caller=True)
    step = 0.1
    n = int(duration / step)
    idx = (np.arange(n) * step / STEP_S).astype(int)
    result.timeline = Timeline(
        step_s=step,
        t=[float(i * step) for i in range(n)],
        **{k: [getattr(tl, k)[j] for j in idx] for k in (
            "agent_speaking", "caller_speaking", "agent_rate_sps", "agent_pitch_hz", "agent_db", "caller_db")},
    )
    result.source.duration_s = duration
    result.segments = [Segment(r, a, b, text) for r, a, b, text in turns]
    page = report_html.render_html(result)
    assert len(page) < 600_000
    assert ">1:00:00</text>" in page


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("writer, suffix", [(report.write_json, ".json"), (report_html.write_html, ".html")])
def test_writes_are_atomic_and_leave_no_temp_file(tmp_path, writer, suffix):
    target = tmp_path / f"call{suffix}"
    target.write_text("previous report", encoding="utf-8")
    writer(stereo_result(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    body = target.read_text(encoding="utf-8")
    if suffix == ".json":
        assert json.loads(body)["schema"] == "poise.analysis/1"
    else:
        assert body.startswith("<!DOCTYPE html>") and body.rstrip().endswith("</html>")
    assert target.stat().st_mode & 0o644 == 0o644  # readable like any document, not a private temp file

    # A failure half-way leaves the previous file untouched and no temp file behind.
    broken = stereo_result()
    broken.cues.append(Cue(10.0, "slow_down", "Slow down", {"bad": object()}))
    broken.source = None  # to_json/render_html fail on this
    with pytest.raises(Exception):
        writer(broken, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    assert target.read_text(encoding="utf-8") == body


def test_write_failure_while_writing_cleans_up(tmp_path, monkeypatch):
    """If the disk write itself fails, the temp file is removed and the old report stays."""
    target = tmp_path / "call.json"
    target.write_text("{}", encoding="utf-8")

    def fail_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report.os, "replace", fail_replace)
    with pytest.raises(OSError):
        report.write_json(stereo_result(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["call.json"]
    assert target.read_text(encoding="utf-8") == "{}"


def _chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def test_screenshot_of_the_report(tmp_path):
    """Renders the page in headless Chromium (when installed) and checks it drew something."""
    if _chromium() is None:
        pytest.skip("chromium not installed")
    if shutil.which("convert") is None or subprocess.run(["convert", "-version"], capture_output=True).returncode != 0:
        pytest.skip("imagemagick not installed (or only a stand-in named convert)")
    page = tmp_path / "report.html"
    png = tmp_path / "report.png"
    report_html.write_html(stereo_result(), page)
    proc = subprocess.run(
        ["bash", str(SCREENSHOT_SCRIPT), str(page), str(png), "1280,1400"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    # The image is not blank: its pixels vary, and the cue red is present.
    stats = subprocess.run(
        ["convert", str(png), "-format", "%[fx:standard_deviation]", "info:"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert float(stats) > 0.05
    red = subprocess.run(
        ["convert", str(png), "-fuzz", "12%", "-fill", "white", "+opaque", theme.CUE,
         "-fill", "black", "-opaque", theme.CUE, "-negate", "-format", "%[fx:mean]", "info:"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert float(red) > 0.0005


def test_markup_in_a_file_name_transcript_or_cue_is_shown_as_text_never_run():
    """The page is rendered with autoescaping: nothing from the call becomes markup."""
    import dataclasses

    evil = "<script>alert(1)</script>"
    base = stereo_result()
    result = dataclasses.replace(
        base,
        source=dataclasses.replace(base.source, path=f"/calls/{evil}.wav"),
        segments=[dataclasses.replace(base.segments[0], text=f"hello {evil} & bye")] + list(base.segments[1:]),
        cues=[dataclasses.replace(base.cues[0], message=f"Slow {evil}", evidence={"note": evil})] + list(base.cues[1:]),
    )
    page = report_html.render_html(result)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "hello &lt;script&gt;" in page and "&amp; bye" in page


def test_html_pace_card_says_where_the_pace_lies_in_plain_words():
    import dataclasses

    result = stereo_result()  # 164 wpm: inside 125-165
    page = report_html.render_html(result)
    assert "within the comfortable 125–165 wpm range" in page
    assert page[: page.index("Agent pace")].endswith('<div class="card "><div class="ct">')
    fast = dataclasses.replace(result, agent=dataclasses.replace(result.agent, wpm=190.0))
    page = report_html.render_html(fast)
    assert "faster than the comfortable 125–165 wpm range" in page
    assert page[: page.index("Agent pace")].endswith('<div class="card warn"><div class="ct">')


def test_a_pace_is_judged_as_it_is_shown():
    from poise.report.format import band_note

    assert (band_note(165.4), band_note(165.6), band_note(124.6), band_note(124.4)) == ("comfortable", "fast", "comfortable", "slow")
