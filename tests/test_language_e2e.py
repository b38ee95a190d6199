"""Language cues on spoken calls (issue 10): built heated calls spoken by espeak-ng, transcribed by the
bundled Whisper model, through `poise analyze` (review) and the live pipeline in real time (a demo-kind
LiveCall: file source paced as live, streaming transcriber); and no language cue on the real booking
call and on the demo call.

Every call's JSON is checked against the contract wherever this checkout finds it: ../shared/contracts
beside the clone, beside the speech folder (POISE_SPEECH_DIR), else the copy in tests/data, so the
check runs in CI too (the copy is compared with the shared file whenever that is found)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from benchmarks.language import BuiltCall, build_call, judge_call
from conftest import REPO, SPEECH_DIR, speech_path
from test_cli import run_poise

MAX_LATENCY_S = 3.0  # s from the end of the words the cue answers (issue 10)
LANGUAGE_KINDS = ("acknowledge", "avoid_defensive", "set_boundary", "next_steps")
DEMO_CALL = REPO / "poise" / "assets" / "demo_call.ogg"
BOOKING_CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"

SCHEMA_NAME = "poise.analysis-1.schema.json"
SCHEMA_COPY = REPO / "tests" / "data" / SCHEMA_NAME  # the contract as of issue 10, for checkouts without ../shared
SHARED_SCHEMAS = (REPO.parent / "shared" / "contracts" / SCHEMA_NAME, SPEECH_DIR.parent / "contracts" / SCHEMA_NAME)
LINE = "pcm16k"  # the built calls as a line carries them: the other side leaking in, a noise floor, hum

pytestmark = pytest.mark.slow


def shared_schema() -> Path | None:
    """The team's contract file where this checkout can see it, else None."""
    return next((p for p in SHARED_SCHEMAS if p.is_file()), None)


def validate(doc: dict) -> None:
    """`doc` against the JSON contract (the shared file if found, else the checked-in copy)."""
    schema = json.loads((shared_schema() or SCHEMA_COPY).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(doc)


def test_the_contract_copy_is_the_shared_contract() -> None:
    copy = json.loads(SCHEMA_COPY.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(copy)
    shared = shared_schema()
    if shared is not None:  # CI without ../shared checks against the copy; with it, the copy must not drift
        assert copy == json.loads(shared.read_text(encoding="utf-8")), f"update {SCHEMA_COPY} from {shared}"


def analyze(call: BuiltCall, tmp_path: Path) -> dict:
    """`poise analyze CALL --json` as a subprocess: its document, checked against the contract."""
    out = tmp_path / f"{call.name}.json"
    proc = run_poise("analyze", call.path, "--json", out, "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate(doc)
    return doc


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: the built calls are spoken by it")
    return tmp_path_factory.mktemp("language_calls")


def test_analyze_cues_calm_down_and_the_missing_acknowledgement(built: Path, tmp_path: Path) -> None:
    call = build_call("calm_down", built)
    doc = analyze(call, tmp_path)  # the contract schema still holds with the new kinds and the language section
    verdict = judge_call(call, doc["cues"])
    assert verdict["ok"], verdict
    assert verdict["latency_s"] <= MAX_LATENCY_S
    # the agent never acknowledges: "Acknowledge" follows her last turn in the heat
    last_agent_end = max(end for role, _, _, end in call.turns if role == "agent")
    ack = [c for c in doc["cues"] if c["kind"] == "acknowledge"]
    assert ack and ack[0]["t"] - last_agent_end <= MAX_LATENCY_S, doc["cues"]
    language = doc["language"]
    assert any(m["family"] == "hostile" and m["role"] == "caller" for m in language["moments"])
    assert [d["phrase"] for d in language["defensive_phrases"]]
    assert language["next_steps_stated"] is False
    assert language["summary"][0].startswith("Not acknowledged after the caller's first complaint")
    assert language["notes"]["concern"]


def test_analyze_sets_a_boundary_when_the_caller_turns_abusive(built: Path, tmp_path: Path) -> None:
    call = build_call("abusive", built, line=LINE)
    doc = analyze(call, tmp_path)
    verdict = judge_call(call, doc["cues"])
    assert verdict["ok"], verdict
    (cue,) = [c for c in doc["cues"] if c["kind"] == "set_boundary"]  # once: the agent then sets the boundary herself
    abusive_turn = call.turns[6]
    assert abusive_turn[2] <= cue["evidence"]["said_at"] <= abusive_turn[3], (cue, abusive_turn)
    assert "respectful" in cue["message"]
    moments = doc["language"]["moments"]
    assert any(m["family"] == "abuse" and m["role"] == "caller" for m in moments), moments
    assert any(m["family"] == "boundary" and m["role"] == "agent" for m in moments), moments
    assert not [c for c in doc["cues"] if c["kind"] in ("acknowledge", "next_steps")], doc["cues"]  # she apologised, and stated a step


def test_analyze_asks_for_next_steps_when_the_call_winds_down_without_one(built: Path, tmp_path: Path) -> None:
    call = build_call("no_next_step", built, line=LINE)
    doc = analyze(call, tmp_path)
    verdict = judge_call(call, doc["cues"])
    assert verdict["ok"], verdict
    assert 0 <= verdict["latency_s"] <= MAX_LATENCY_S, verdict  # after "anything else I can help you with?" ends
    assert [c["kind"] for c in doc["cues"] if c["kind"] in LANGUAGE_KINDS] == ["next_steps"], doc["cues"]  # acknowledged: no other
    language = doc["language"]
    assert language["next_steps_stated"] is False
    assert any(line.startswith("Next steps stated: no") for line in language["summary"]), language["summary"]


def test_live_replay_cues_calm_down_within_three_seconds(built: Path) -> None:
    from poise.app.calls import LiveCall
    from poise.app.spec import CallKind, CallSpec

    call = build_call("short_calm_down", built)
    events: list = []
    live = LiveCall(CallSpec(kind=CallKind.DEMO, file=call.path, speed=1.0, transcribe=True), on_event=events.append, save=False)
    live.begin()  # loads Whisper and opens the file off this thread, then runs in real time
    outcome = live.wait(timeout=120)
    live.join_workers()
    assert outcome is not None and outcome.error is None, outcome
    cues = [{"t": e.t, "kind": e.kind} for e in events if getattr(e, "kind", None) in LANGUAGE_KINDS]
    verdict = judge_call(call, cues)
    assert verdict["ok"], (verdict, [getattr(e, "text", None) for e in events if hasattr(e, "text")])


@pytest.mark.parametrize("which", ["booking", "demo"])
def test_no_language_cue_on_the_booking_and_demo_calls(which: str) -> None:
    from poise.audio.analysis import analyze_file

    path = speech_path(BOOKING_CALL) if which == "booking" else DEMO_CALL
    result = analyze_file(path)
    assert result.segments, "the call was transcribed"
    assert [c for c in result.cues if c.kind in LANGUAGE_KINDS] == []
    if which == "booking":  # "The train should leave on Saturday": a timetable, not anyone's promise
        from poise.language.summary import summarize

        steps = [m.text for m in summarize(result.segments, result.cues).moments if m.family == "next_steps"]
        assert steps == [], steps
