"""Phrase understanding, the language cues and the after-call notes, on text (issue 10).

The rules are measured on the held-out `test` split of poise/language/data/phrases.tsv (they were
tuned on `dev`); the cue rules run through the engine's real `Coach` budget, fed final segments
the way the Session feeds them.
"""

from __future__ import annotations

import time

import pytest

from benchmarks.language import load_rows, score_text
from poise.audio.coach import CUE_KINDS, CUE_MESSAGES, Coach, CoachConfig
from poise.audio.types import Segment, Word
from poise.language.coach import LANGUAGE_KINDS, SEGMENT_DELAY_S, sentences
from poise.language.phrases import FAMILIES, families
from poise.language.summary import CallNotes, FollowUp, summarize

TARGET_PRECISION = 0.9  # issue 10
TARGET_RECALL = 0.85
MAX_COST_MS = 5.0  # per segment (issue 10)


# --- the labelled set ------------------------------------------------------------------------------


def test_the_labelled_set_covers_every_family_in_both_splits() -> None:
    rows = load_rows()
    assert len(rows) >= 300
    for split in ("dev", "test"):
        part = [r for r in rows if r.split == split]
        for family in FAMILIES:
            assert sum(family in r.labels for r in part) >= 8, (split, family)
        assert {r.kind for r in part} == {"pos", "para", "neg", "look", "neutral"}


# Under the target on the held-out split since it holds the blind batches (sentences written by people who
# had read neither the rules nor the training sentences): with the classifier, confirm, boundary and abuse
# reach it; hostile, the caller's fuzziest family, does not yet (precision 0.88), and defensive not since
# the 2026-12-03g and -03h blind batches (213 defensive sentences by two new writers, recall 0.42 and 0.44;
# README, Language).
# Strict: the day a family meets the target, its mark must go.
BELOW_TARGET_ON_BLIND_SENTENCES = {"hostile", "defensive"}


@pytest.mark.parametrize("family", [
    pytest.param(f, marks=pytest.mark.xfail(strict=True, reason="under the targets on sentences written blind to the rules"))
    if f in BELOW_TARGET_ON_BLIND_SENTENCES else f for f in FAMILIES])
def test_held_out_precision_and_recall_meet_the_targets(family: str) -> None:
    scores = score_text([r for r in load_rows() if r.split == "test"]).families[family]
    assert scores.precision is not None and scores.precision >= TARGET_PRECISION, scores
    assert scores.recall is not None and scores.recall >= TARGET_RECALL, scores


@pytest.mark.xfail(strict=True, reason="32 of 285 (11.2 %): 31 since the 2026-12-03h blind batch's look-alikes (10 of 72) came in, 1 more with the defensive rules of 2026-12-04")
def test_negated_and_look_alike_sentences_are_mostly_left_alone() -> None:
    tricky = [r for r in load_rows() if r.split == "test" and r.kind in ("neg", "look") and not r.labels]
    wrong = [r for r in tricky if families(r.text, r.role)]
    assert len(tricky) >= 40
    shown = [r.text for r in wrong if not r.blind]  # a blind batch's sentences are counted, never shown
    assert len(wrong) <= 0.1 * len(tricky), f"{len(wrong)} of {len(tricky)}; not blind: {shown}"


def test_cost_per_segment_is_far_below_five_ms() -> None:
    rows = load_rows()
    start = time.perf_counter()
    for row in rows:
        families(row.text, row.role)
    per_ms = (time.perf_counter() - start) * 1000 / len(rows)
    assert per_ms < MAX_COST_MS, per_ms


# --- families on sentences written here (not in the set) -----------------------------------------


@pytest.mark.parametrize(
    "role, text, expected",
    [
        ("agent", "Honestly, I hear you.", {"acknowledge"}),
        ("agent", "That sounds so stressful for you.", {"acknowledge"}),
        ("agent", "I'm not telling you to calm down.", set()),
        ("agent", "Look, calm down.", {"defensive"}),
        ("agent", "Restart the router so it can calm down the connection.", set()),
        ("agent", "That's just our policy.", {"defensive"}),
        ("agent", "Your policy renews in June.", set()),
        ("agent", "Sorry, could you spell that?", set()),
        ("agent", "I'm sorry about the confusion.", {"apology"}),
        ("agent", "I'll email you the details by Thursday.", {"next_steps"}),
        ("agent", "I emailed you the details on Thursday.", set()),
        ("agent", "I'm afraid I can't promise it by Thursday.", set()),
        ("agent", "I can put you through to my supervisor.", {"escalation"}),
        ("agent", "Please don't swear at me.", {"boundary"}),
        ("caller", "You're an absolute idiot.", {"abuse"}),
        ("caller", "I'm such an idiot, I forgot.", set()),
        ("caller", "This is absolutely outrageous.", {"hostile"}),
        ("caller", "I'm not furious, just tired.", set()),
        ("caller", "As I said, it's the blue one.", set()),  # the caller's "as I said" is not the agent's defence
    ],
)
def test_families_of_new_sentences(role: str, text: str, expected: set[str]) -> None:
    assert families(text, role) == expected


@pytest.mark.parametrize(
    "text, expected",
    [  # an audit's misses (2026-12-01): a soothing imperative, a conditional end of the call, a rule, blame passed on
        ("Just settle down.", {"defensive"}),
        ("If you keep swearing I will have to end the call.", {"boundary"}),
        ("Our rules do not allow that.", {"defensive"}),
        ("That is not on me.", {"defensive"}),
    ],
)
def test_the_audits_misses(text: str, expected: set[str]) -> None:
    assert families(text, "agent") == expected


@pytest.mark.parametrize(
    "heard, expected",
    [  # tiny.en's mishearings of espeak-ng that every voice tried gave (benchmarks/language.py --spoken), and look-alikes
        ("You said the charge was for the pounds, is not correct.", {"confirm"}),  # ", is that correct?"
        ("That is not correct.", set()),  # a denial has a subject; the tag has none
        ("Just so unclear, you didn't authorize that payment.", {"confirm"}),  # "Just so I'm clear"
        ("It is just so unclear.", set()),
        ("I book technician for Monday afternoon.", {"next_steps"}),  # "I've booked a technician"
        ("I booked the holiday on Monday.", set()),
        ("Will it help if I got a manager to look at this?", {"escalation"}),  # "Would it help if I"
        ("There's no need for net kind of language.", {"boundary"}),  # "that kind of language"
        ("There is no need for language skills.", set()),
        ("Sir, you need to come town.", {"defensive"}),  # "calm down"
        ("Sir, you need to calm town.", {"defensive"}),  # the same over a line with the caller leaking in
        ("It's a calm town.", set()),
        ("We need to come to town tomorrow.", set()),
        ("I'm sending the confirmation now. It should be within five minutes.", {"next_steps"}),  # "with you in"
        ("The price should be within five pounds of the quote.", set()),
    ],
)
def test_whispers_usual_mishearings_keep_their_family(heard: str, expected: set[str]) -> None:
    assert families(heard, "agent") == expected


# --- the cues through the engine's budget ----------------------------------------------------------


def _seg(role: str, start: float, end: float, text: str) -> Segment:
    return Segment(role, start, end, text)  # type: ignore[arg-type]


def _run(segments: list[Segment], until: float, config: CoachConfig | None = None) -> list:
    """The coach's language rules every 100 ms of audio up to `until`, segments admitted as a recording's."""
    coach = Coach(config or CoachConfig(), has_caller=True)
    coach.language.schedule(segments, SEGMENT_DELAY_S)
    cues = []
    for step in range(int(until * 10) + 1):
        t = step / 10
        cues += coach.language.step(step * 10, t, None, coach._offer)  # no frames: heat from the words only
    return cues


def test_new_kinds_are_in_the_catalogue() -> None:
    for kind in LANGUAGE_KINDS:
        assert kind in CUE_KINDS and CUE_MESSAGES[kind]


def test_calm_down_gets_a_better_phrase_within_two_seconds_of_the_words() -> None:
    cues = _run([_seg("caller", 1.0, 3.0, "This is ridiculous."), _seg("agent", 3.5, 5.0, "Calm down, please.")], 12.0)
    (cue,) = [c for c in cues if c.kind == "avoid_defensive"]
    assert 5.0 + SEGMENT_DELAY_S <= cue.t <= 5.0 + 2.0
    assert cue.message.startswith("Try:") and "calm down" in cue.evidence["phrase"]


def test_a_policy_defence_gets_its_own_better_phrase() -> None:
    (cue,) = _run([_seg("agent", 1.0, 2.0, "That's company policy.")], 6.0)
    assert cue.kind == "avoid_defensive" and "what I can do" in cue.message


def test_negated_calm_down_gives_no_cue() -> None:
    assert _run([_seg("agent", 1.0, 3.0, "I'm not saying calm down, I'm saying let's go step by step.")], 8.0) == []


def test_abuse_gets_a_boundary_and_a_heated_caller_without_acknowledgement_gets_acknowledge() -> None:
    segments = [
        _seg("caller", 1.0, 3.0, "You're useless, all of you."),
        _seg("agent", 6.0, 8.0, "Can I have your postcode?"),
    ]
    cues = _run(segments, 20.0)
    kinds = [c.kind for c in cues]
    assert kinds[0] == "set_boundary" and 3.0 + SEGMENT_DELAY_S <= cues[0].t <= 3.0 + 2.0
    assert "acknowledge" in kinds
    ack = next(c for c in cues if c.kind == "acknowledge")
    assert ack.t <= 8.0 + 3.0  # within 3 s of her turn's words ending


def test_an_acknowledgement_keeps_acknowledge_quiet() -> None:
    segments = [
        _seg("caller", 1.0, 3.0, "This is unacceptable, I'm furious."),
        _seg("agent", 4.0, 6.0, "I'm so sorry, that must be really frustrating."),
        _seg("agent", 8.0, 10.0, "Can I have your postcode?"),
    ]
    assert [c.kind for c in _run(segments, 20.0)] == []


def test_winding_down_after_a_complaint_without_a_next_step_gets_next_steps_once() -> None:
    segments = [
        _seg("caller", 1.0, 3.0, "This is ridiculous."),
        _seg("agent", 4.0, 6.0, "I understand how frustrating that is."),
        _seg("agent", 30.0, 32.0, "Is there anything else I can help with?"),
        _seg("agent", 34.0, 35.0, "Have a nice day."),
    ]
    cues = _run(segments, 45.0)
    assert [c.kind for c in cues] == ["next_steps"] and cues[0].t == pytest.approx(32.0 + SEGMENT_DELAY_S, abs=0.11)


def test_a_stated_next_step_or_a_calm_call_gets_no_next_steps() -> None:
    stated = [
        _seg("caller", 1.0, 3.0, "This is ridiculous."),
        _seg("agent", 4.0, 6.0, "I'll send the engineer tomorrow morning."),
        _seg("agent", 30.0, 32.0, "Is there anything else I can help with?"),
    ]
    calm = [_seg("caller", 1.0, 3.0, "I'd like to book a table."), _seg("agent", 30.0, 32.0, "Anything else I can help with today?")]
    assert "next_steps" not in [c.kind for c in _run(stated, 40.0)]  # (it does get "acknowledge": nobody named the feeling)
    assert _run(calm, 40.0) == []


def test_a_muted_kind_never_fires_and_the_budget_holds_a_second_one_back() -> None:
    config = CoachConfig()
    config.enabled["avoid_defensive"] = False
    assert _run([_seg("agent", 1.0, 2.0, "Calm down.")], 6.0, config) == []
    twice = [_seg("agent", 1.0, 2.0, "Calm down."), _seg("agent", 5.0, 6.0, "As I said, it's our policy.")]
    assert [c.kind for c in _run(twice, 15.0)] == ["avoid_defensive"]  # one per kind per 20 s


def test_a_recordings_long_piece_is_cut_into_sentences_with_their_own_times() -> None:
    words = [Word(w, s, s + 0.3) for w, s in (("Thank", 0.0), ("you.", 0.3), ("Calm", 5.0), ("down.", 5.3))]
    pieces = sentences(Segment("agent", 0.0, 5.6, "Thank you. Calm down.", words))
    assert [(p.text, p.start, p.end) for p in pieces] == [("Thank you.", 0.0, 0.6), ("Calm down.", 5.0, 5.6)]


# --- after the call ----------------------------------------------------------------------------------


def test_summary_lines_and_draft_notes() -> None:
    segments = [
        _seg("caller", 2.0, 5.0, "I'm calling about a payment that went out twice."),
        _seg("caller", 6.0, 8.0, "This is completely unacceptable."),
        _seg("agent", 9.0, 10.0, "As I said, refunds take time."),
        _seg("agent", 12.0, 14.0, "I'm sorry, that must be frustrating."),
        _seg("agent", 15.0, 18.0, "I'll refund the second payment and you'll get an email by Friday."),
    ]
    summary = summarize(segments)
    assert summary.first_complaint_t == 6.0 and summary.acknowledged_after_s == pytest.approx(4.0)
    lines = summary.lines()
    assert lines[0] == "Acknowledged within 4 s of the caller's first complaint (00:06)."
    assert lines[1].startswith("Defensive phrases: 1") and "as i said" in lines[1]
    assert lines[2].startswith("Next steps stated: yes")
    notes = summary.notes
    assert notes.concern == "I'm calling about a payment that went out twice."
    assert "I'll refund the second payment and you'll get an email by Friday." in notes.offered
    assert [f.when for f in notes.follow_up] == ["by friday"]
    doc = summary.to_json()
    assert doc["next_steps_stated"] is True and doc["defensive_phrases"][0]["phrase"] == "as i said"
    assert {m["family"] for m in doc["moments"]} == {"hostile", "defensive", "apology", "acknowledge", "next_steps"}


def test_draft_notes_read_as_sentences_without_empty_brackets() -> None:
    notes = CallNotes("My bill is wrong.", ["I'll check it.", "I can credit you"],
                      [FollowUp(10.0, "It will be with you within five working days.", ""), FollowUp(12.0, "I'll ring you", "by friday")])
    assert notes.as_text().splitlines() == [
        "Concern: My bill is wrong.",
        "Offered: I'll check it. I can credit you",
        "Follow-up: It will be with you within five working days. I'll ring you (by friday)",
    ]


@pytest.mark.xfail(strict=True, reason="since training batch F the model reads this calm opener 0.98 hostile ('this', 'because', "
                   "'i am' weigh in); under cross-validation 3.5 % of the callers' no-family training sentences read hostile")
def test_a_calm_opener_is_not_hostile() -> None:
    assert families("I'm calling because I was charged twice this month.", "caller") == set()


@pytest.mark.parametrize("said", ["You're welcome.", "You are welcome.", "Ah, you're welcome, take care."])
def test_a_callers_polite_reply_is_not_abuse(said: str) -> None:
    """The model read a caller's "You're welcome." as abuse (its "you're" + one word is mostly an insult in training),
    which put "Set a boundary" on a real call."""
    assert families(said, "caller") == set()


def test_a_calm_call_has_no_complaint_line_and_says_no_next_step() -> None:
    summary = summarize([_seg("caller", 1.0, 2.0, "A table for two, please."), _seg("agent", 3.0, 4.0, "Of course.")])
    assert summary.lines() == ["Defensive phrases: none.", "Next steps stated: no."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Will you call me tomorrow.", set()),  # Whisper's "." on a question: it states no next step
        ("Can I book an engineer for tomorrow.", set()),  # an offer asked, not a step stated
        ("I will call you tomorrow, is that ok.", {"next_steps"}),  # the step stated, then asked about
        ("Did I get that right.", {"confirm"}),
        ("So you were charged twice, is that right.", {"confirm"}),
        ("I'll call you tomorrow.", {"next_steps"}),  # a statement stays one
    ],
)
def test_a_question_whisper_ended_with_a_full_stop_is_still_a_question(text: str, expected: set[str]) -> None:
    assert families(text, "agent") == expected


# --- statements of fact and the notes' concern and offer (the real booking call, the built calls) ------


@pytest.mark.parametrize("said", [
    "The train should leave on Saturday and should go to the Cambridge.",  # the booking call's caller, as Whisper wrote it
    "The train should leave on Saturday.", "The shop is going to close on Friday.", "They will leave on Saturday.",
])
def test_a_timetable_is_not_a_next_step(said: str) -> None:
    assert "next_steps" not in families(said, "agent") and "next_steps" not in families(said, "caller")


@pytest.mark.parametrize("said", [
    "It will arrive by Monday.", "The new router will be dispatched tonight.", "The refund will reach your account in three days.",
    "That will be with you tomorrow.", "A specialist will be in touch tomorrow.", "They will call you tomorrow.",
])
def test_what_the_agents_side_delivers_stays_a_next_step(said: str) -> None:
    assert "next_steps" in families(said, "agent")


def test_the_booking_calls_caller_states_no_next_step() -> None:
    pieces = [_seg("caller", 20.0, 27.0, "I'm looking for a train. The train should leave on Saturday and should go to the Cambridge.")]
    assert not [m for m in summarize(pieces).moments if m.family == "next_steps"]


def test_the_concern_is_the_problem_not_the_greeting_and_a_look_is_an_offer() -> None:
    segments = [
        _seg("caller", 0.0, 3.0, "Hi, I'm calling about my internet connection at home."),
        _seg("agent", 4.0, 6.0, "Thanks. What seems to be the problem?"),
        _seg("caller", 7.0, 10.0, "The connection keeps dropping in the evening, every evening this week."),
        _seg("agent", 11.0, 13.0, "Okay, let me have a look at the line for you."),
        _seg("caller", 14.0, 17.0, "This is ridiculous! This is completely unacceptable!"),
    ]
    notes = summarize(segments).notes
    assert notes.concern == "The connection keeps dropping in the evening, every evening this week."
    assert notes.offered == ["Okay, let me have a look at the line for you."]
    hostile_only = [segments[0], segments[4]]  # no sentence names the problem: the complaint does
    assert summarize(hostile_only).notes.concern == "This is ridiculous! This is completely unacceptable!"
    assert summarize(segments[:1]).notes.concern == "Hi, I'm calling about my internet connection at home."  # only the topic


def test_every_training_sentence_belongs_to_one_writers_batch() -> None:
    """`benchmarks/language.py --by-writer` holds each writer's batch out whole: a comment inside a batch that
    lost its "training batch X" mark would put that writer's later sentences on both sides."""
    from benchmarks.language import training_writers

    tagged = list(zip(load_rows(), training_writers(), strict=True))
    assert all(writer for row, writer in tagged if row.split == "train")
    assert all(row.split == "train" for row, writer in tagged if writer)
    assert len({writer for _, writer in tagged if writer}) >= 5


@pytest.mark.parametrize("text, defensive", [
    # phrasings four guide-only writers used that the rules had missed, said in other words here
    ("I've told you several times now, the fee stands.", True),
    ("As I keep saying, the order has shipped.", True),
    ("It's honestly not the end of the world.", True),
    ("Everybody else manages to log in fine.", True),
    ("If you'd checked your inbox you'd have seen it.", True),
    ("Computer says no, I'm afraid.", True),
    ("I'm only the messenger here.", True),
    ("Could you calm down a little, please?", True),
    # look-alikes and negations
    ("I'm not saying it's not the end of the world.", False),
    ("Everyone else on the account can see the letter too.", False),
    ("I can help you with that if you like.", False),
    ("If you had a reference number, that would speed things up.", False),
])
def test_defensive_phrasings_beyond_the_first_rules(text: str, defensive: bool) -> None:
    assert ("defensive" in families(text, "agent", use_model=False)) is defensive
