"""Redaction of what a caller must not find kept: numbers read out, e-mail addresses, phone numbers.

Applied where a transcript leaves memory (history, JSON and HTML reports), never to the
live view or the analysis itself (pace counts the words). What goes:

- any run of four or more digits, spoken as numerals ("1734", "1, 7, 3, 4"), as words
  ("one seven three four", "double nine", "oh" between digits), inside a code written with
  letters ("AB-4421-XZ") or mixed, with "and", "then", "dash", "last"... allowed between
  its digits (those joining words stay in the text: "[number] and [number]"); a
  payment-card number is such a run (13-19 digits passing the Luhn check) and is counted
  as a card;
- e-mail addresses, written ("ann@example.com") or spoken ("ann dot lee at example dot com");
- phone numbers the `phonenumbers` library finds in the text (international forms such as
  "+44 (0)20 7946 0958" whose groups are short, and any run it recognises).

A run's words become one `[number]` in a segment's text; in a segment's word list each
word of the run becomes `[number]`, so word counts and timings stay as they were.
Clock times ("10:30"), short numbers ("2 tickets", "Flat 12") and amounts of money
("1,250 pounds", "£1,250.00", "twelve hundred dollars") are kept: an amount identifies
nobody and is what a reviewer of the call needs to hear (the refund quoted); a figure read
digit by digit ("1, 2, 5, 0 pounds", "double 5") is hidden all the same, since that is how
IDs are read out (`_is_amount`).

    redact_text("my ID is 1, 7, 3, 4 and 9")  -> Redacted(text="my ID is [number]", ...)
    redact_result(result)                     -> a copy of the AnalysisResult, transcript redacted
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Iterable

import phonenumbers

from ..audio.types import AnalysisResult, Segment, Word

MIN_DIGITS = 4  # digits in a run that make it a number to hide (the issue: "any run of four or more")
CARD_DIGITS = (13, 19)  # ISO/IEC 7812 card number lengths
PHONE_REGION = "US"  # region assumed for numbers without a country code (only affects national forms)
NUMBER_MARK = "[number]"
EMAIL_MARK = "[email]"
PHONE_MARK = "[phone]"
CARD_MARK = "[card]"

_UNITS = {
    "zero": 1, "oh": 1, "o": 1, "nought": 1, "naught": 1, "nil": 1,
    "one": 1, "two": 1, "three": 1, "four": 1, "five": 1, "six": 1, "seven": 1, "eight": 1, "nine": 1,
    "ten": 2, "eleven": 2, "twelve": 2, "thirteen": 2, "fourteen": 2, "fifteen": 2, "sixteen": 2,
    "seventeen": 2, "eighteen": 2, "nineteen": 2, "twenty": 2, "thirty": 2, "forty": 2, "fourty": 2,
    "fifty": 2, "sixty": 2, "seventy": 2, "eighty": 2, "ninety": 2,
    "hundred": 2, "thousand": 3,  # "five hundred" is three digits, "two thousand" four
}
_WEAK_DIGITS = {"oh", "o"}  # a digit only after another digit ("one oh one"), else the interjection "Oh, ..."
_REPEATS = {"double": 2, "triple": 3}  # "double nine" = 99
MAX_JOINERS = 2  # words in a row allowed between two digits of one run ("and last")
_JOINERS = {"and", "then", "dash", "hyphen", "space", "last", "uh", "um", "er", "erm", "ah", "is", "slash", "point"}
_CURRENCY_SIGNS = "£$€¥"
_CURRENCY_WORDS = {"pound", "pounds", "quid", "pence", "dollar", "dollars", "bucks", "cents", "euro", "euros", "yen"}
AMOUNT_MAX_DIGITS = 7  # digits of an amount kept as spoken ("9,999.99"; more is not a sum a caller quotes but an ID)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(?:[ap]\.?m\.?)?$", re.IGNORECASE)
_TLDS = {"com", "net", "org", "edu", "gov", "io", "co", "uk", "de", "fr", "es", "it", "nl", "ca", "au", "info", "biz", "me"}
_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Redacted:
    """A redacted text and what was taken out of it (kind -> count)."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.counts)


def _core(token: str) -> str:
    """The token without surrounding punctuation, lower case ("7," -> "7", "Double" -> "double")."""
    return token.strip(".,;:!?\"'()[]{}…—–").lower()


def _digits(token: str, previous_was_digit: bool) -> int:
    """How many digits `token` speaks (0: not a number word)."""
    core = _core(token)
    if not core or _CLOCK.match(core):
        return 0
    if any(ch.isdigit() for ch in core):
        rest = re.sub(r"[\d,.\-/#]", "", core).strip(_CURRENCY_SIGNS)
        if rest in ("", "st", "nd", "rd", "th", "s") or rest.isalpha():  # 1734, £1,734, 17-34, 2nd, AB-4421-XZ
            return sum(ch.isdigit() for ch in core)
        return 0
    parts = core.split("-")  # "twenty-one", "seventy-two"
    if len(parts) > 1 and all(p in _UNITS for p in parts):
        return sum(_UNITS[p] for p in parts)
    if core in _WEAK_DIGITS:
        return 1 if previous_was_digit else 0
    return _UNITS.get(core, 0)


def number_runs(tokens: list[str]) -> list[tuple[int, int, int]]:
    """Runs of spoken or written digits in `tokens`: (first index, last index inclusive, digits).

    Every run is returned, short ones too (the caller decides from the digit count).
    """
    runs: list[tuple[int, int, int]] = []
    i, n = 0, len(tokens)
    while i < n:
        count = _token_digits(tokens, i, False)
        if count == 0:
            i += 1
            continue
        start, end, total = i, i, 0
        j = i
        while j < n:
            count = _token_digits(tokens, j, total > 0)
            if count > 0:
                total += count
                step = 2 if _core(tokens[j]) in _REPEATS else 1
                end = j + step - 1  # "double 9": both words belong to the run
                j += step
                continue
            k = j
            while k < n and k - j < MAX_JOINERS and _core(tokens[k]) in _JOINERS:
                k += 1
            if k > j and k < n and _token_digits(tokens, k, True) > 0:
                j = k  # "and 7", "and last 1": joiners belong to the run only if a digit follows
                continue
            break
        runs.append((start, end, total))
        i = end + 1
    return runs


def _token_digits(tokens: list[str], i: int, previous_was_digit: bool) -> int:
    """Digits spoken by token i, reading "double"/"triple" with the digit after it."""
    core = _core(tokens[i])
    if core in _REPEATS:
        if i + 1 < len(tokens):
            nxt = _digits(tokens[i + 1], True)
            return nxt * _REPEATS[core] if nxt else 0
        return 0
    prev = i > 0 and _core(tokens[i - 1]) in _REPEATS
    if prev:
        return 0  # counted with its "double"
    return _digits(tokens[i], previous_was_digit)


def _is_amount(tokens: list[str], start: int, end: int, total: int) -> bool:
    """Whether the run tokens[start..end] is a sum of money: a currency sign on it or a currency
    word right after it, at most `AMOUNT_MAX_DIGITS` digits, and not read out digit by digit."""
    if total > AMOUNT_MAX_DIGITS:
        return False
    run = [_core(t) for t in tokens[start : end + 1]]
    if any(c in _REPEATS for c in run):
        return False  # "double 5": an ID's way of reading
    if any(re.search(r"[a-z]", c) and any(ch.isdigit() for ch in c) for c in run):
        return False  # a code with letters (AB-4421-XZ) is not a sum
    single_digits = sum(1 for c in run if (c.isdigit() and len(c) == 1) or _UNITS.get(c) == 1)
    if single_digits >= MIN_DIGITS:
        return False  # "1, 2, 5, 0 pounds"
    signed = tokens[start].strip("\"'(").startswith(tuple(_CURRENCY_SIGNS))
    after = _core(tokens[end + 1]) if end + 1 < len(tokens) else ""
    return signed or after in _CURRENCY_WORDS


def _hidden_runs(tokens: list[str]) -> list[tuple[int, int, int]]:
    """The runs `sensitive_tokens` hides: four digits or more, and not an amount of money."""
    return [(s, e, t) for s, e, t in number_runs(tokens) if t >= MIN_DIGITS and not _is_amount(tokens, s, e, t)]


def _luhn(digits: str) -> bool:
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _spoken_email_spans(tokens: list[str]) -> list[tuple[int, int]]:
    """'ann dot lee at example dot com': (first, last) token of each spoken address."""
    spans = []
    cores = [_core(t) for t in tokens]
    for k, core in enumerate(cores):
        if core != "at" or k == 0:
            continue
        j = k + 1
        while j + 2 < len(cores) and cores[j + 1] == "dot":
            j += 2
        if j == k + 1 or cores[j] not in _TLDS:
            continue  # "at home", "at the bank": no domain
        start = k - 1
        while start - 2 >= 0 and cores[start - 1] in ("dot", "underscore", "dash"):
            start -= 2
        spans.append((start, j))
    return spans


def sensitive_tokens(tokens: list[str]) -> list[str | None]:
    """For each token, the mark that replaces it (None: keep). Runs share one mark."""
    marks: list[str | None] = [None] * len(tokens)
    text = " ".join(tokens)
    for start, end, total in _hidden_runs(tokens):
        digits = "".join(ch for t in tokens[start : end + 1] for ch in _core(t) if ch.isdigit())
        card = CARD_DIGITS[0] <= total <= CARD_DIGITS[1] and len(digits) == total and _luhn(digits)
        for k in range(start, end + 1):
            if _core(tokens[k]) not in _JOINERS:  # "and", "last" hold no digit: they stay
                marks[k] = CARD_MARK if card else NUMBER_MARK
    for k, token in enumerate(tokens):
        if _EMAIL.search(token):
            marks[k] = EMAIL_MARK
    for start, end in _spoken_email_spans(tokens):
        for k in range(start, end + 1):
            marks[k] = EMAIL_MARK
    offsets, pos = [], 0
    for token in tokens:
        offsets.append(pos)
        pos += len(token) + 1
    for match in phonenumbers.PhoneNumberMatcher(text, PHONE_REGION, leniency=phonenumbers.Leniency.POSSIBLE):
        for k, off in enumerate(offsets):
            if off < match.end and off + len(tokens[k]) > match.start and marks[k] in (None, NUMBER_MARK):
                marks[k] = PHONE_MARK
    return marks


def redact_text(text: str) -> Redacted:
    """`text` with its sensitive runs replaced by one mark each (trailing punctuation kept)."""
    matches = list(_TOKEN.finditer(text))
    tokens = [m.group() for m in matches]
    marks = sensitive_tokens(tokens)
    out: list[str] = []
    counts: Counter[str] = Counter()
    last = 0
    k = 0
    previous: tuple[str, int] | None = None  # the last mark and the token that ended it
    while k < len(tokens):
        mark = marks[k]
        if mark is None:
            k += 1
            continue
        j = k
        while j + 1 < len(tokens) and marks[j + 1] == mark:
            j += 1
        tail = tokens[j][len(tokens[j].rstrip(".,;:!?")):]
        out.append(text[last : matches[k].start()])
        out.append(mark + tail)
        last = matches[j].end()
        same_run = previous is not None and previous[0] == mark and all(
            _core(t) in _JOINERS for t in tokens[previous[1] + 1 : k])  # "[number] and [number]": one run
        if not same_run:
            counts[mark.strip("[]")] += 1
        previous = (mark, j)
        k = j + 1
    out.append(text[last:])
    return Redacted("".join(out), dict(counts))


def _redact_words(words: list[Word]) -> list[Word]:
    """Each run's first word becomes its mark (with the run's closing punctuation), the rest empty words: the
    words read as the text does ("[number]." rather than "[number] [number]", which also told the digits'
    count), and keep their count and times."""
    marks = sensitive_tokens([w.word.strip() or "_" for w in words])
    result = []
    for k, (w, mark) in enumerate(zip(words, marks)):
        if mark is None:
            result.append(w)
        elif k > 0 and marks[k - 1] == mark:
            result.append(replace(w, word=""))
        else:
            end = k
            while end + 1 < len(words) and marks[end + 1] == mark:
                end += 1
            last = words[end].word.strip()
            lead = w.word[: len(w.word) - len(w.word.lstrip())]
            result.append(replace(w, word=lead + mark + last[len(last.rstrip(".,;:!?")):]))
    return result


def redact_segment(segment: Segment) -> Segment:
    """A copy of `segment` with its text and its words redacted."""
    return replace(segment, text=redact_text(segment.text).text, words=_redact_words(list(segment.words)))


def redact_result(result: AnalysisResult) -> AnalysisResult:
    """A copy of `result` whose transcript is redacted (the measures are the same)."""
    return replace(result, segments=[redact_segment(s) for s in result.segments])


def for_storage(result: AnalysisResult | None, keep_numbers: bool | None = None) -> AnalysisResult | None:
    """What may be stored or exported: `result` redacted unless the user chose to keep numbers.

    `keep_numbers=None` reads the setting (`AppSettings.keep_numbers`, default False).
    """
    if result is None:
        return None
    if keep_numbers is None:
        from .settings import load_settings

        keep_numbers = load_settings().keep_numbers
    return result if keep_numbers else redact_result(result)


def count_digit_runs(texts: Iterable[str], min_digits: int = MIN_DIGITS) -> int:
    """How many runs of `min_digits` or more spoken or written digits `texts` still hold
    (amounts of money, which redaction keeps, not counted)."""
    count = 0
    for text in texts:
        tokens = _TOKEN.findall(text)
        count += sum(1 for s, e, total in number_runs(tokens) if total >= min_digits and not _is_amount(tokens, s, e, total))
    return count


__all__ = [
    "AMOUNT_MAX_DIGITS", "MIN_DIGITS", "Redacted", "count_digit_runs", "for_storage", "number_runs", "redact_result",
    "redact_segment", "redact_text", "sensitive_tokens",
]
