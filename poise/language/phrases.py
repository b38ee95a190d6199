"""Phrase understanding: which de-escalation families a final transcript sentence carries.

Rules over a normalised token string (lower case, contractions expanded, digits and number
words kept), and beside them a small model trained on the labelled sentences (`classifier.py`)
for the phrasing the rules do not reach. Each family is a handful of regular patterns for its paraphrases,
a negation check before the match ("I'm not saying calm down", "I won't be able to call you
tomorrow") and guards for the look-alikes that share its words ("I can't calm down the
system", "your policy number", "Sorry, could you repeat that?"). Measured on the hand-labelled
set in poise/language/data/phrases.tsv (benchmarks/language.py); a sentence costs well
under a millisecond, and nothing is downloaded at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

FAMILIES: tuple[str, ...] = (
    "acknowledge",  # the caller's feeling named or accepted ("I hear you", "that must be frustrating")
    "apology",  # regret without admitting fault ("I'm sorry you had this experience")
    "defensive",  # defensive or dismissive ("calm down", "not my fault", "it's our policy", "as I said")
    "confirm",  # repeat-back to check understanding ("just to confirm...", "so you're saying...")
    "next_steps",  # a commitment with a time ("I'll send it by Friday", "within two days")
    "escalation",  # a transparent offer to refer or escalate ("I can transfer you to a supervisor")
    "boundary",  # a calm boundary ("I need us to keep this respectful")
    "abuse",  # insults, threats or profanity aimed at the agent
    "hostile",  # the caller's hostile or distressed words ("ridiculous", "unacceptable", "your manager")
)
AGENT_FAMILIES = frozenset({"acknowledge", "apology", "defensive", "confirm", "next_steps", "escalation", "boundary"})
CALLER_FAMILIES = frozenset({"abuse", "hostile", "next_steps"})  # a caller may promise too ("I'll call back tomorrow")
ROLE_FAMILIES = {"agent": AGENT_FAMILIES, "caller": CALLER_FAMILIES}

NEGATION_WINDOW_TOKENS = 4  # a negator this close before a match (same clause) cancels it: "not really saying calm down"
_NEGATORS = re.compile(r"\b(not|never|no|nobody|without|hardly)\b")

_CONTRACTIONS = (
    (r"\bcan't\b", "can not"), (r"\bcannot\b", "can not"), (r"\bwon't\b", "will not"), (r"\bshan't\b", "shall not"),
    (r"\bain't\b", "is not"), (r"n't\b", " not"), (r"\bi'm\b", "i am"), (r"'re\b", " are"), (r"'ve\b", " have"),
    (r"'ll\b", " will"), (r"'d\b", " would"), (r"\b(it|that|this|there|what|here|he|she|who|where|how)'s\b", r"\1 is"),
    (r"\blet's\b", "let us"),
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def normalize(text: str) -> str:
    """Lower case, contractions expanded, punctuation other than clause marks dropped."""
    s = text.translate(_APOSTROPHES).lower()
    for pattern, repl in _CONTRACTIONS:
        s = re.sub(pattern, repl, s)
    s = re.sub(r"\bf\*+\w*", "fuck", s)  # Whisper sometimes stars profanity out
    s = re.sub(r"(\d)\s*(am|pm)\b", r"\1 \2", s)
    s = re.sub(r"(?<=\w)-(?=\w)", " ", s)  # rip-off, mix-up, back-and-forth
    s = re.sub(r"[^a-z0-9'?!.,;:\s]", " ", s)
    s = s.replace("'", "")
    return re.sub(r"\s+", " ", s).strip()


def clauses(norm: str) -> list[str]:
    """The normalised text cut at clause marks; a question keeps its "?" at the end."""
    parts = re.split(r"(?<=[?])|[.!;:,]", norm)
    return [p.strip() for p in parts if p and p.strip(" ?")]


# --- shared vocabulary ---------------------------------------------------------------------------
_FEEL = (
    r"(frustrat\w*|upset\w*|annoy\w*|stress\w*|difficult|hard|worr\w*|angry|anger|furious|inconvenien\w*|"
    r"disappoint\w*|hassle|concern\w*|confus\w*|unfair|awful|terrible|horrible|exhausting|infuriating|maddening|"
    r"scary|nightmare|pain|rubbish|distress\w*|fed up|cross(?! (?:check|reference))|gutted|worked up|a lot|through a lot|the same way|"
    r"how you feel|feelings?)"
)
_INTENS = r"(?:(?:really|so|very|incredibly|extremely|pretty|quite|such|a|an|completely|totally|absolutely|truly|just|bit|little|real) )*"
_NUM = (
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|forty eight|seventy two|twenty four|a couple of|a few|few|couple of)"
)
_HOUR_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
_ORD = r"(?:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|\w+teenth|twentieth|thirtieth)"
_TIME = (
    r"(?:\b(?:by|before|on|until|within|in|over|no later than|after|from|at|between)\b (?:the )?(?:next |end of |close of |this |tomorrow )*"
    r"(?:(?:the )?end of (?:the )?(?:day|week|month)|today|tonight|tomorrow|" + _DAY + r"|next (?:week|month|" + _DAY + r")|"
    r"(?:about |around |roughly |the next |the )?" + _NUM + r"(?: to " + _NUM + r")? (?:business |working )?(?:minutes?|hours?|days?|weeks?|months?)|"
    r"\d{1,2}(?: \d\d)?(?: am| pm| oclock| o clock)?|" + _HOUR_WORD + r" (?:oclock|o clock|am|pm|thirty|fifteen|forty five)|noon|midday|lunch(?:time)?|"
    r"the weekend|close of business|" + _ORD + r"|" + _MONTH + r"|the hour|the morning|the afternoon|the evening|"
    r"this (?:afternoon|evening|morning|week)|your next bill|the next (?:hour|day|week))"
    r"|\b(?:today|tonight|tomorrow|this afternoon|this evening|this morning|later today|first thing|right now|straight away)\b"
    r"|\b(?:next|on|by) " + _DAY + r"|\b" + _DAY + r" (?:morning|afternoon|evening)|\b(?:the )?" + _ORD + r" of " + _MONTH + r")"
)
_COMMIT = (
    r"\b(?:i|we|someone|somebody|an engineer|a technician|the engineer|the technician|our team|the team|my colleague|"
    r"a specialist|they|it|that|this|the \w+|your \w+(?: \w+)?|you)\b(?: \w+)? "
    r"(?:will|shall|am going to|are going to|is going to|should|is scheduled to|are scheduled to)\b(?! not| be (?:at work|at home|in the office|in a meeting|away|off|busy|out of|on holiday|honest|able)\b| say\b| only\b| just\b)"
    r"|\b(?:i|we) (?:have|am|are) (?:booked|scheduled|arranged|sending|posting|booking|raising|dispatching|going)\b"
    r"|\b(?:i am|we are) (?:sending|posting|booking|raising|dispatching|emailing|calling)\b"
    r"|\bexpect (?:a|an|the|it|your)\b|\blet me (?:book|schedule|arrange|send)\b|\bi will make sure\b"
    # Whisper drops a spoken "'ve" ("I've booked a technician" -> "I book technician"): a visit booked for a time
    r"|\b(?:i|we) (?:book|booked|schedule|scheduled|arrange|arranged)\b(?= (?:(?:a|an|the|your|you|in) )?(?:\w+ )?(?:technician|engineer|visit|appointment|callback|call|delivery|collection|replacement|courier)\b)"
    r"|\b(?:is|are) scheduled\b|\bwill be (?:dispatched|sent|posted|delivered|with you|out)\b"
    r"|\b(?:the|your|an?) \w+ (?:is |are |has been |have been )?(?:booked|scheduled|arranged) (?:in )?(?:for|on)\b"
)
_STAFF = r"(?:supervisor|manager|team leader|specialists?|senior advisor|someone senior|(?:complaints?|technical|claims|fraud|billing|escalations?|specialist|resolutions?) (?:team|department)|formal complaint)"


# The caller's abuse going on as the condition of a boundary: "if you keep swearing", "unless you stop
# shouting", "if you carry on calling me names" (the audit's "If you keep swearing I will have to end the call").
_ABUSIVE_ACT = r"(?:swear\w*|shout\w*|yell\w*|insult\w*|curs\w*|threaten\w*|abus\w*|using (?:that|this|such|bad|foul|abusive)\b|" \
    r"calling me\b|talking to me like|speaking to me like|being (?:abusive|rude|offensive|aggressive|insulting))"
_IF_ABUSE_GOES_ON = (
    r"\b(?:if|unless) you (?:(?:keep|carry on|continue|go on|start|persist in)(?: on)?(?: with)? |(?:are going to|want to) (?:keep|carry on) |do not stop |can not stop )" + _ABUSIVE_ACT +
    r"|\bunless you stop " + _ABUSIVE_ACT +
    r"|\bif (?:the|this|that) (?:language|swearing|shouting|abuse|insults?|behaviour|yelling|cursing) (?:keeps (?:up|on|going)|goes on|does not stop|continues|carries on)\b"
)


@dataclass(frozen=True)
class Rule:
    """One pattern of a family; `negatable` rules are cancelled by a negator just before them."""

    family: str
    name: str
    pattern: re.Pattern[str]
    negatable: bool = True
    unless: re.Pattern[str] | None = None  # a look-alike: the match is discarded when this also matches the clause
    needs_question: bool = False  # only as a question ("So you were charged twice?")


def _r(family: str, name: str, pattern: str, negatable: bool = True, unless: str | None = None, needs_question: bool = False) -> Rule:
    return Rule(family, name, re.compile(pattern), negatable, re.compile(unless) if unless else None, needs_question)


_CLAUSE_START = r"(?:^|\b(?:please|just|ok|okay|look|sir|madam|mam|now|so|well|oh|alright|all right|hey|listen)\s)"
_TO_PERSON = r"(?:you (?:need|have|got|gotta|must|should) to|i need you to|can you|could you|will you|would you|try to|you really need to)"
# Telling the caller to soothe themselves: "calm down" and the verbs said the same way (an audit's
# "just settle down"); each is the verb + "down"/"out"/"it" an imperative takes, not "settle the bill".
_SOOTHE = r"(?:settle|cool|simmer|quiet|pipe) down|chill(?: out)?|cool it|calm yourself(?: down)?|get a grip"
# Blame passed on: "that is not on me", "not down to us", "not my call", "take it up with the courier".
_NOT_MINE = (
    r"\bnot (?:on|down to|up to) (?:me|us)\b|\bnot (?:my|our) (?:call|decision|area|remit|doing)\b|"
    r"\b(?:it|that) was not (?:me|us)\b|\b(?:i am|i was|we are|we were) not the (?:one|ones) who\b|"
    r"\b(?:somebody|someone) elses (?:fault|problem|job|department|responsibility|issue|mistake)\b|"
    r"\btake (?:it|that|this) up with (?:the|them|your|someone|another)\b|"
    r"\b(?:it is|that is|this is|its|thats) (?:all |entirely |really )?(?:the|their) (?:couriers?|banks?|systems?|manufacturers?|suppliers?|other departments?|post offices?) (?:fault|problem|mistake|doing)\b"
)
# A rule hidden behind: "our rules do not allow that", "that is against our procedures" (not "I am not
# allowed to give that out": a security answer, not a deflection).
_RULEBOOK = r"(?:rules?|regulations?|procedures?|guidelines|terms and conditions|policy|policies)"

RULES: tuple[Rule, ...] = (
    # acknowledge
    _r("acknowledge", "i hear you", r"\bi (?:really |do )?hear (?:you|what you are saying|what youre saying)\b(?!(?: \w+)? (?:are|have|had|were|want|moved|is))"),
    _r("acknowledge", "understand the feeling",
       r"\bi (?:completely |totally |really |fully |do |can |definitely |absolutely |only )*(?:understand|get|see|know|appreciate|imagine|tell|hear)\b(?: (?:why|how|that|what|this|it|you))?.{0,50}?\b" + _FEEL,
       unless=r"\b" + _FEEL + r" to (?!hear|deal|go|sort|handle|take|accept|be)"),
    _r("acknowledge", "that must be", r"\b(?:(?:that|it|this)(?: \w+)? (?:must|would|sounds?|has|seems?|can|could|will|might)|that (?:is|was)) (?:have )?(?:be |been |like |to be )?" + _INTENS + _FEEL,
       unless=r"^(?:this is|it is|it was|this was)\b|\b" + _FEEL + r" to (?!hear|deal|go through|sort|handle|take|accept)"),
    _r("acknowledge", "i can not imagine", r"\bi can not (?:even |begin to )?imagine (?:how|what)\b.{0,50}?\b" + _FEEL),
    _r("acknowledge", "i would feel it too", r"\bi (?:would |might )?(?:be|feel) (?:\w+ )?(?:upset|frustrated|annoyed|angry|worried|cross|furious|the same)\b(?! about)"),
    _r("acknowledge", "every right", r"\b(?:every (?:right|reason)|right|good reason) to be (?:\w+ )?(?:upset|angry|frustrated|annoyed|cross|worried|disappointed)"),
    _r("acknowledge", "understandable", r"\b(?:completely |totally |perfectly |very )?understandable\b|\bmakes? (?:complete |total |perfect )?sense\b(?=.*\b(?:frustrat|upset|angry|annoy|worr|feel))"),
    _r("acknowledge", "anyone would", r"\b(?:anyone|anybody) would (?:be|feel) (?:\w+ )?(?:frustrated|upset|annoyed|angry|worried)"),
    _r("acknowledge", "you must have been", r"\byou (?:must|would) have (?:been|felt) (?:\w+ )?(?:worried|stressed|frustrated|upset|scared|anxious|annoyed|angry|disappointed|shocked)"),
    _r("acknowledge", "your frustration", r"\byour (?:frustration|concern|anger|disappointment|worry|feelings?)\b(?! (?:is not|are not|does not))", negatable=False),
    # apology
    _r("apology", "i am sorry", r"\b(?:i am|i am so|i am really|i am very|i am truly|i am terribly|im|really|so|very|truly|terribly|extremely) (?:(?!not\b)\w+ )?sorry\b",
       unless=r"sorry (?:to (?:bother|interrupt|trouble|say|tell you|inform)|but\b)|\bbut\b.*\b(?:policy|nothing|can not)"),
    _r("apology", "sorry for", r"(?:^|\b)sorry (?:about|for|to hear|that|you|this|it|we|if|again for)\b", unless=r"sorry (?:to (?:bother|interrupt|trouble)|but\b)"),
    _r("apology", "apologise", r"\b(?:i|we) (?:\w+ )?apologi[sz]e\b|\b(?:my|our|accept my|accept our) (?:sincere |deepest )?apologies\b|(?:^|\b(?:so|and|again|many) )apologies (?:for|about)\b",
       unless=r"\bbut\b.*\b(?:policy|nothing)"),
    # defensive
    _r("defensive", "calm down", _CLAUSE_START + r"?(?:" + _TO_PERSON + r" )?(?:just )?calm down\b(?! (?:the|this|that|it|my|your|a|an|once|when|after|on its own|by itself)\b)",
       unless=r"\b(?:i am|i was|trying|try|hard|easy|difficult|impossible|help you|helps? me|while|time)\b(?: to)? calm down|\bcalm down (?:the|this|that|it|my|your|a|an)\b|\b(?:should|will|would|might) calm down\b"),
    # the other soothing verbs only as an imperative: at the clause's start (after "sir", "just", "okay"...) or told ("I need you to")
    _r("defensive", "settle down", r"(?:^(?:(?:please|just|ok|okay|look|sir|madam|mam|now|so|well|oh|alright|all right|hey|listen|right|come on) )*|\b" + _TO_PERSON + r" (?:just )?)(?:" + _SOOTHE + r")\b(?! (?:the|this|that|it|my|your|a|an|in|into|with|here|there)\b)"),
    # Whisper hears "calm down" as "come down" now and then (tiny.en on the built calls): only the bare imperative at a clause end
    _r("defensive", "calm down", r"(?:^|\b(?:please|just|sir|madam|okay|ok)\s|\b(?:you need to|i need you to|you have to|you must) )(?:just )?(?:come (?:down|town)|calm town)(?: first| now| please| sir| madam)?$"),
    _r("defensive", "relax", _CLAUSE_START + r"?(?:" + _TO_PERSON + r" )?relax\b(?! (?:the|your|a))", unless=r"\b(?:can|may|could) relax\b"),
    _r("defensive", "not my fault", r"\bnot (?:my|our|the companys|our companys|my own) (?:fault|problem|department|job|responsibility|issue|concern)\b|\bnothing to do with (?:me|us)\b|\bdo not blame (?:me|us)\b|" + _NOT_MINE, negatable=False,
       unless=r"\b(?:do not|did not|does not|never) (?:have|has|had|keep|carry|got) (?:it|that|them|one|my \w+|the \w+) (?:\w+ )?on (?:me|us)\b|\bthis (?:one|call|coffee|round) is (?:not )?on (?:me|us)\b"),
    _r("defensive", "your fault", r"\b(?:it is|that is|this is|its|thats) (?:all |entirely |really )?(?:your|your own) (?:fault|mistake|problem|doing)\b"),
    _r("defensive", "policy", r"\b(?:it is|that is|this is|thats|its|because of|according to|against) (?:just )?(?:the |our |a )?(?:company|company policy|companys|store|our)? ?(?:policy|policies|rules)\b(?! to (?!not))|\b(?:company|our) policy (?:is|says|states|does not|will not|allows?|requires?)\b|\bi do not make the rules\b|\brules are rules\b|"
       r"\b(?:our|the|company|the companys|our companys|store|bank|banks)(?: \w+)? " + _RULEBOOK + r" (?:do|does|will|would|can|simply) not (?:allow|permit|let|cover|accept)\b|"
       r"\b(?:it is|that is|this is|thats|its|that would be|that is) (?:just |simply |strictly )?(?:against|outside|not within|not in line with) (?:the |our |company |the companys )?" + _RULEBOOK + r"\b", negatable=False),
    _r("defensive", "nothing i can do", r"\bnothing (?:more |else |further )?(?:i|we) can (?:do|help)\b|\b(?:i|we) can not do anything\b|\bmy hands are tied\b|\bout of my hands\b", negatable=False),
    _r("defensive", "as i said", r"\b(?:as|like) i (?:already |just |have |did )?(?:said|told you|mentioned|explained|say)\b|\bi (?:already|just|have already|did already) (?:told|explained|said)\b|\bi (?:did|have) explain(?:ed)? (?:that|this|it) (?:to you )?already\b|\bhow many times\b", negatable=False),
    _r("defensive", "blame", r"\byou (?:must|should|probably|obviously|clearly|must not|would) (?:have )?(?:entered|typed|done|made|forgotten|forgot|misread|missed|deleted|clicked|put|used|ignored|misunderstood|changed|given|written|read|checked|called|known|noticed|paid|set|"
       r"ticked|selected|chosen|chose|picked|pressed|tapped|skipped|overlooked|mistyped|mixed)\b(?! (?:been|received))",
       unless=r"\bshould have (?:received|got|gotten)\b"),
    _r("defensive", "dismissive", r"\byou are (?:overreacting|wrong|not listening|being (?:unreasonable|ridiculous|difficult|silly))\b|\bthat is (?:just )?(?:how|the way) (?:it|things) (?:works?|is|are)\b|\b(?:it is|that is) not (?:that|so|very|exactly) (?:complicated|hard|difficult|bad|big)\b|\b(?:it is|that is|this is) (?:really |honestly )?not (?:a |that |such a )?big deal\b|\bno need to (?:get|be) (?:so )?(?:worked up|upset|angry|rude|dramatic)\b|\bi do not know what (?:else )?you want\b|\bi do not (?:understand|see|get|know) why you are (?:so |this |that )?(?:upset|angry|annoyed|frustrated|worked up|shouting)\b|\bit should not be (?:that|so) (?:hard|difficult)\b|(?:^|\bjust )stop (?:shouting|yelling|complaining|interrupting)\b|\bnot (?:going to|gonna) apologi[sz]e\b|\bi am not sorry\b", negatable=False),
    # Said to a caller in many words (four writers who had read only the guide, their phrasings not reached above):
    # the same point made again, minimising, blame by comparison or hindsight, the rulebook or the messenger.
    _r("defensive", "as i said", r"\bi have (?:now )?(?:told|explained (?:it|this|that) to) you (?:twice|(?:two|three|four|several|many|a few|multiple) times)\b|"
       r"\b(?:as|like) i (?:keep|kept) (?:saying|telling you|explaining)\b|\bas per my (?:previous|last|earlier) (?:explanation|email|message|answer)\b|"
       r"\bi did already (?:tell|explain|say)\b|\bfor the (?:second|third|last|hundredth) time\b", negatable=False),
    _r("defensive", "it is not a big deal", r"\bno biggie\b|\bnot the end of the world\b|\bmountain out of a molehill\b|\bworked up (?:over|about) nothing\b|"
       r"\b(?:what|why) (?:is |all )?(?:the|this) (?:big )?fuss\b|\bbig fuss\b|\boverreaction\b|\byou are overthinking\b|\bit is what it is\b|"
       r"\bmost (?:customers|people|callers) (?:would not|do not) (?:even )?notice\b|\b(?:no need to|stop) get(?:ting)? (?:so |all )?(?:hysterical|emotional|upset|worked up|angry)\b"),
    _r("defensive", "calm down", r"\b(?:calm|" + _SOOTHE + r")(?: down)? a (?:bit|minute|little|second|moment|touch)\b|" + _CLAUSE_START + r"(?:just )?take a (?:deep )?breath\b",
       unless=r"\b(?:i am|i was|trying|try|hard|easy|help you|helps? me|while|time)\b(?: to)? calm down\b"),
    _r("defensive", "blame", r"\b(?:everyone|everybody|nobody|no one|most people) else (?:manages|seems to manage|can|copes|has (?:had )?(?:no|a|any) (?:problem|issue|trouble))\b|"
       r"\bsomething (?:on|at) your end\b|\bmust be your (?:phone|end|device|computer|browser|connection|bank|router)\b|"
       r"\bif you (?:had|would|would have) (?:bothered|read|checked|sent|looked|listened|followed|filled|returned)\b|\byou just did not (?:look|read|check|listen|bother)\b|"
       r"\bnobody forced you\b|\byou (?:will|would) have (?:ticked|clicked|entered|typed|selected|pressed|missed|deleted|left|plugged)\b|"
       r"\byou (?:probably|obviously|must have|clearly) (?:left|plugged|lost|switched|turned|installed|broke|sent)\b"),
    _r("defensive", "policy", r"\bpolicy is policy\b|\b(?:the |our )?terms and conditions are (?:very |quite |perfectly )?clear\b|\bcomputer says no\b|"
       r"\b(?:i|we) can only go by (?:what is in )?(?:the|our) (?:guidelines|rules|policy|terms)\b|\b(?:simply |just )?how our (?:procedure|process|policy) works\b|"
       r"\bi can not go against (?:it|the|our)\b", negatable=False),
    _r("defensive", "not my fault", r"\bi can not help (?:it )?(?:if|that)\b|\bi am (?:just|only) the messenger\b|\bi was not (?:even )?(?:on shift|working|here) when\b|"
       r"\b(?:we are|i am) not responsible for what\b|\bdepartment,? not mine\b", negatable=False),
    # confirm
    _r("confirm", "just to confirm", r"\bjust (?:so i am clear|to (?:confirm|make sure|check|clarify|recap|be clear|be sure|summari[sz]e)\b(?! (?:your|the system|that the system))|to (?:check|make sure) i (?:understood|understand|have|got)\b)", negatable=False),
    _r("confirm", "what i am hearing", r"\b(?:so )?what i am hearing\b|\bwhat i understand is\b|\bso you are saying\b|\bif i (?:understand|understood|have|got|heard)(?: you| this| that| it)? (?:correctly|right)\b|\bcorrect me if i am wrong\b|\b(?:so )?to (?:recap|summari[sz]e|sum up)\b", negatable=False),
    _r("confirm", "make sure i understand", r"\blet me (?:just )?(?:make sure|check|confirm) (?:that )?i (?:understand|understood|have|got|heard)\b|\blet me (?:just )?(?:repeat|read) (?:that|this|it|them)(?: \w+)? back\b|\b(?:did|have) i (?:got|get|understood|understand)(?: that| this| it| you)? (?:right|correctly)\b", negatable=False),
    _r("confirm", "is that right", r"\b(?:is that|was that|was it|is it) (?:right|correct)\s*\??$", negatable=False),
    # the tag misheard (tiny.en on espeak: ", is that correct?" -> ", is not correct."): a subjectless clause is only a tag
    _r("confirm", "is that right", r"^(?:is|was) not (?:right|correct)$", negatable=False),
    _r("confirm", "just to confirm", r"^just so unclear\b", negatable=False),  # "just so I'm clear" as Whisper hears espeak say it
    _r("confirm", "so you ...?", r"^(?:ok |okay |right |alright )?so (?:you|the|basically|your)\b", negatable=False, needs_question=True),
    # a reflected statement without its "?" (Whisper often drops it): "okay, so you've tried restarting it"
    _r("confirm", "so you have ...", r"^(?:ok |okay |right |alright )?so you (?:have|had|were|did|are saying|mean|paid|ordered|received|got|called|tried|never)\b", negatable=False),
    _r("confirm", "it sounds like you", r"\bit sounds like (?:you|the|your)\b(?!.*\b" + _FEEL + r")"),
    # next steps (a commitment in the same sentence as a time: see classify)
    # escalation
    _r("escalation", "offer",
       r"\b(?:i can|i could|i will|i am going to|let me|i would be happy to|i am happy to|i can certainly|shall i|should i|do you want me to|would you like me to|(?:would|will) it help if i|i can have|i am|i have)(?: \w+)? (?:transfer|transferr\w*|put|pass|connect|escalat\w*|refer\w*|rais\w*|bring|get|got|ask|hand|open|call)\b.{0,40}?\b" + _STAFF + r"\b",
       unless=r"\b(?:transfer|put|pass|get|ask) (?:the|your) (?:money|funds|payment|refund|balance)\b|\bpriority list\b"),
    _r("escalation", "see if staff is free", r"\b(?:let me|i will|i can|i could|i am going to) (?:just )?(?:see|check|find out) if (?:my|a|the|our) " + _STAFF + r"s? (?:is |are )?(?:free|available|around|in)\b"),
    _r("escalation", "escalate", r"\b(?:i|we) (?:will|can|am going to|could|shall|am|are)(?: \w+)? escalat\w* (?:this|it|your)\b|\bescalat\w* (?:it|this) (?:today|now|for you)\b"),
    _r("escalation", "would you like to speak", r"\bwould you (?:like|prefer) to (?:speak|talk) (?:to|with) (?:my|a|the|our)\b|\bwould you like me to (?:transfer|escalate|get)\b|\bi can have (?:a|my|the) (?:supervisor|manager|team leader|specialist)\b|\bformal complaint for you\b|\bopen a (?:formal )?complaint\b"),
    # boundary
    _r("boundary", "keep it respectful", r"\bkeep (?:this|it|things|the conversation|the call) (?:\w+ )?(?:respectful|civil|polite|professional|calm)\b|\b(?:speak|talk) to me (?:respectfully|with respect)\b", negatable=False),
    _r("boundary", "will not accept", r"\b(?:i|we) (?:will not|do not|can not|am not going to) (?:accept|tolerate|put up with) (?:being|that|this|abuse|language|swearing|insults|personal|shouting)\b|\bi am not going to be (?:spoken|talked|sworn) (?:to|at)\b", negatable=False),
    _r("boundary", "do not swear", r"\bplease (?:do not|stop) (?:swear\w*|shout\w*|yell\w*|use that (?:kind of )?language|call me names|speak to me like that|talk to me like that)\b|\bplease do not call me (?:names|that)\b|\bdo not (?:talk|speak) to me like that\b", negatable=False),
    _r("boundary", "end the call if", r"\b(?:have|need) to end (?:this|the) call if\b|\bif (?:you continue|the (?:language|swearing|shouting|abuse|insults) (?:continues?|carr\w+ on))\b|" + _IF_ABUSE_GOES_ON + r"|"
       r"\b(?:have|need|going) to (?:end|terminate|disconnect|close|finish) (?:this|the|our) (?:call|conversation)\b(?! (?:now|there|here)\b(?!.*\b(?:language|swearing|shouting|abuse|insults|behaviour)\b))(?=.*\b(?:if|unless|language|swearing|shouting|abus\w*|insult\w*|behaviour|threat\w*|rude|spoken to)\b)|"
       r"\b(?:end|terminate|disconnect|close) (?:this|the|our) (?:call|conversation) (?:if|unless|because of (?:the|your) (?:language|swearing|abuse|behaviour))\b|\bone more (?:insult|swear word|threat) and\b", negatable=False),
    _r("boundary", "i need you to stop", r"\bi need you to (?:stop (?:shouting|swearing|yelling|using that)|lower your voice|speak to me respectfully|not swear)\b|\bno need for (?:that|this|such|(?:that|this|\w+) (?:kind|sort) of|(?:that|this) (?:bad|foul|abusive)) language\b|\b(?:that|this|your|such) (?:kind of |sort of |type of )?(?:language|swearing|behaviour) (?:is|was) (?:not (?:acceptable|okay|ok)|unacceptable)\b", negatable=False),
    # abuse
    _r("abuse", "insult", r"\byou(?: are| re|r)? (?:(?:an?|such an?|a total|a complete|an absolute|a bunch of|complete|total|absolutely|completely|so|just|bloody|fucking) )*(?:idiot|moron|useless|incompetent|pathetic|joke|clown|liar|liars|thie\w+|worthless|clueless|stupid|thick|disgrace|coward|imbecile)\b|\byou (?:people|lot|guys) are (?:\w+ )?(?:pathetic|useless|a joke|a disgrace|idiots|incompetent|thieves)\b|\b(?:you|your) (?:stupid|useless|incompetent|idiot|lying|fucking|bloody) (?:\w+)\b|\bare you (?:thick|stupid|deaf|an idiot)\b|\bwhat kind of idiot\b|\bin(?:competent)? moron\b|\bmoron\b|\byou coward\b", negatable=False,
       unless=r"\bi (?:am|feel like|was|felt like) (?:such |a |an |bit of )*(?:idiot|moron|joke)|\bidiot light\b"),
    _r("abuse", "profanity at you", r"\bfuck (?:you|off|this|that)\b|\bscrew you\b|\bgo to hell\b|\bshut up\b|\bget lost\b|\bbastard|\bbitch|\basshole|\bidiot\b", negatable=False,
       unless=r"\bi (?:am|feel like|was|felt like) (?:such |a |an |bit of )*(?:idiot|moron)|\bidiot light\b"),
    _r("abuse", "threat", r"\b(?:i hope you|i will (?:make sure|see to it) (?:that )?you) (?:get fired|lose your job|are fired)\b|\bi will (?:have you|get you) fired\b|\bi will find you\b|\bi know where (?:you (?:live|work)|your (?:office|branch|shop|store|house|home) is)\b|\bdo not you dare\b", negatable=False),
    # hostile / distressed
    _r("hostile", "judgement", r"\b(?:ridiculous|unacceptable|not acceptable|outrageous|disgrace\w*|pathetic|appalling|shocking|disgusting|scandalous|unbelievable|a joke|a scam|scam|rip off|useless|shambles|absurd|insane|rubbish service|a nightmare)\b",
       unless=r"\bridiculously (?:good|cheap|fast|easy|quick)\b|\bunbelievably\b"),
    _r("hostile", "feeling", r"\bi am (?:(?!not\b)\w+ )?(?:angry|furious|livid|fed up|sick of|sick and tired|frustrated|upset|annoyed|fuming|disgusted|worried|desperate|stressed|scared|at my wits|beyond|so done|done with|appalled|outraged|really struggling|(?:\w+ )?in tears|beside myself|at the end of my tether)\b|\bi (?:just |honestly |really )?do not know what (?:else )?to do(?: anymore)?$"),
    _r("hostile", "this is frustrating", r"^(?:this|it) (?:is|was) (?:\w+ )?(?:\w+ )?(?:frustrating|stressful|infuriating|maddening|a nightmare|a mess|terrible|awful|horrible|the worst)\b"),
    _r("hostile", "repeat calls", r"\b(?:second|third|fourth|fifth|sixth|tenth|\d+(?:st|nd|rd|th)) time (?:i have|ive|i am|that i have|i) (?:called|rung|phoned|calling|had to)\b|\bi have been waiting (?:for )?(?:\w+ )?(?:hours|days|weeks|months|an hour|ages|forever)\b|\bon hold for (?:an hour|ages|\w+ hours|forever|\w+ minutes)\b|\b(?:nobody|no one|no body)(?: at \w+(?: \w+)?)? (?:ever |has ever |has |have |seems to |actually )?(?:calls?|called|rings?|rang|gets?|got back|listens|listened|"
       r"helps|helped|cares|bothers|bothered|knows?|done|did|does|fixed|answers?|answered|replies|replied|responds?|responded|turned up|showed up|seems)\b", negatable=False),
    _r("hostile", "manager demand", r"\b(?:i want|i need|i demand|let me|can i|could i|i would like) (?:to )?(?:speak|talk) (?:to|with) (?:your|a|the|someone) (?:manager|supervisor|boss|senior|in charge)\b|\bget me (?:your|a|the) (?:manager|supervisor|boss)\b|\bput me through to (?:your|a) (?:manager|supervisor)\b", negatable=False),
    _r("hostile", "threat to leave", r"\b(?:i am going to|i will|i am gonna) (?:take my business elsewhere|go elsewhere|sue|report you|leave a (?:\w+ )?review|cancel everything|complain)\b|\bi (?:want|would like) to (?:make|file|lodge|raise) a complaint\b|\btake my business elsewhere\b", negatable=False),
    _r("hostile", "exclamations", r"\bare you (?:kidding|joking|serious)\b|\bwhat the (?:hell|heck|fuck)\b|\bi have had enough\b|\bi can not believe\b|\byou have ruined\b|\bfucking\b|\bbloody\b|\bdamn\b|\bshit\w*\b|\bfor gods sake\b|\bwits end\b|\btaking the (?:mick|mickey|piss)\b|\bwhy is it so (?:hard|difficult)\b|\bhow hard (?:is it|can it be)\b", negatable=False),
)

_TIME_RE = re.compile(_TIME)
_HEDGED = re.compile(r"\b(?:can not|could not|not) (?:promise|guarantee)\b")
_SORRY_BUT = re.compile(r"\bsorry\W+but\b")
_COMMIT_RE = re.compile(_COMMIT)
_PAST_ONLY = re.compile(r"\b(?:yesterday|last (?:week|month|" + _DAY + r")|ago|since)\b")
# A third-party subject ("the train should leave on Saturday", "it will close at 5") states a fact
# or an expectation, not the agent's promise, unless it is something her side delivers to the caller
# ("the refund will reach your account", "the new router will be dispatched", "it will arrive by Monday").
_THING_SUBJECT = re.compile(r"^(?:the|a|an) (\w+)(?: (\w+))?\b|^(?:it|that|this|they)\b")
_DELIVERED = frozenset({
    "refund", "credit", "replacement", "router", "modem", "card", "form", "letter", "parcel", "package", "order",
    "delivery", "engineer", "technician", "team", "money", "payment", "email", "text", "confirmation", "link", "code",
    "repair", "fix", "cheque", "voucher", "invoice", "statement", "contract", "paperwork", "documents", "device",
    "part", "box", "callback", "call", "visit", "appointment", "booking", "reservation", "tickets", "ticket", "courier",
    "kit", "sim", "account", "request", "claim", "complaint", "case", "service", "line", "connection", "application",
    "specialist", "colleague", "manager", "supervisor", "advisor", "adviser", "agent", "driver", "installer", "someone",
})
_FOR_CALLER = re.compile(r"\b(?:you|your|yours)\b")
_DELIVERY_VERB = re.compile(r"\b(?:arrive|reach|be (?:delivered|sent|dispatched|posted|credited|refunded|fixed|repaired|restored|"
                            r"back|ready|processed|done|sorted|resolved|active|working|live|confirmed)|show|come through|go out|be within)\b")  # "be with you in", heard as "be within"


def _for_the_caller(clause: str, commit: re.Match[str]) -> bool:
    """Whether a commitment is one made to the caller (see `_THING_SUBJECT`)."""
    subject = _THING_SUBJECT.match(commit.group(0))
    if subject is None:
        return True  # i, we, you, your ..., someone, an engineer: the agent's side or the caller's own
    rest = clause[commit.start():]
    if _FOR_CALLER.search(rest):
        return True
    nouns = {w for w in subject.groups() if w}
    nouns |= {w[:-1] for w in nouns if w.endswith("s")}  # "the engineer's booked": the apostrophe is gone
    if nouns:  # "the train", "the new router"
        return bool(nouns & _DELIVERED)
    return bool(_DELIVERY_VERB.search(rest))  # "it will arrive by Monday"


_COMMIT_NEGATED = re.compile(r"\b(?:will not|would not|can not|could not|not be able|unable|not going to|no|promise)\b")


@dataclass(frozen=True)
class PhraseMatch:
    """One family found in a sentence: the family, the rule that found it and the words it covers."""

    family: str
    rule: str
    text: str  # the matched words (normalised)


def _negated(clause: str, start: int) -> bool:
    before = clause[:start].split()[-NEGATION_WINDOW_TOKENS:]
    return any(_NEGATORS.fullmatch(tok) for tok in before)


def _next_steps(sentence_clauses: list[str], cancelled: set[str] | None = None) -> PhraseMatch | None:
    """A commitment and a time in one sentence, the commitment not negated or asked ("Will you call me tomorrow?").
    A negated or hedged commitment adds "next_steps" to `cancelled` (the model may not find it either)."""
    joined = " , ".join(sentence_clauses)
    for clause in sentence_clauses:
        if clause.endswith("?"):
            continue
        commit = _COMMIT_RE.search(clause)
        if commit is None:
            continue
        if _negated(clause, commit.start()) or _COMMIT_NEGATED.search(clause[: commit.end() + 12]) or _HEDGED.search(joined):
            if cancelled is not None:
                cancelled.add("next_steps")
            continue
        if not _for_the_caller(clause, commit):
            continue
        time = _TIME_RE.search(clause) or _TIME_RE.search(joined[joined.find(clause):])
        if time is None or _PAST_ONLY.search(clause):
            continue
        return PhraseMatch("next_steps", "commitment with a time", f"{commit.group(0)} … {time.group(0)}".strip())
    return None


# Whisper often ends a question with "." (flat intonation: 4 of 84 spoken dev sentences lost their "?"),
# so a sentence that asks by its form is read as a question: it opens with an inverted auxiliary
# ("will you call me tomorrow.") or ends on a tag ("..., is that right."). What hangs on it: a question
# states no next step, "sorry?" asks for a repeat, and "so you ...?" repeats back.
_ASKS = re.compile(
    r"^(?:(?:ok|okay|so|and|right|sorry|alright|all right) )?(?:do|does|did|is|are|was|were|will|would|can|could|shall|"
    r"should|have|has|may|might) (?:i|you|we|they|he|she|it|that|this|there|your|my)\b"
)
_TAG = re.compile(r"(?:^|, )(?:is that|was that|did i|have i|am i) (?:right|correct|ok|okay|it|true|so|the case)\s*[.!]?$"
                  r"|(?:^|, )(?:right|correct)\s*[.!]?$")


def _as_question(sentence: str) -> str:
    """The sentence with its "?" back when Whisper dropped it and the words still ask."""
    if sentence.endswith("?"):
        return sentence
    bare = sentence.rstrip(".!").strip()
    if _ASKS.search(bare) or _TAG.search(bare):
        return bare + "?"
    return sentence


# A statement checked with a tag: "And that was the forty nine ninety nine charge, yeah?"
_TAGGED_STATEMENT = re.compile(r"^(?:(?:and|so|okay|ok|right) )?(?:that|it|this|you|your|the|they)\b(?: \w+){3,}, (?:yeah|yes|right|correct)\?$")


def _split_sentences(norm: str) -> list[str]:
    return [_as_question(s) for s in re.split(r"(?<=[.!?])\s+", norm) if s.strip()]


def classify(text: str, role: str | None = None, use_model: bool = True) -> list[PhraseMatch]:
    """Every family the text carries (at most one match per family), in FAMILIES order.

    With a `role`, only that role's families are looked for: "as I said" from the caller is not
    the agent being defensive, "so I have to wait again?" is not a repeat-back. `use_model=False`:
    the rules alone (the classifier's thresholds are fitted against them).
    """
    from .classifier import model_families  # here: the model imports this module's normaliser

    norm = normalize(text)
    wanted = ROLE_FAMILIES.get(role or "", frozenset(FAMILIES))
    found: dict[str, PhraseMatch] = {}
    for sentence in _split_sentences(norm):
        sentence_clauses = clauses(sentence)
        cancelled: set[str] = set()  # families a rule matched here and its own guard refused
        for clause in sentence_clauses:
            bare = clause.rstrip("?").strip()
            for rule in RULES:
                if rule.family in found or rule.family not in wanted:
                    continue
                if rule.needs_question and not sentence.endswith("?"):
                    continue
                m = rule.pattern.search(bare)
                if m is None:
                    continue
                if rule.family == "apology" and _SORRY_BUT.search(sentence):
                    cancelled.add(rule.family)  # "I'm sorry, but that's our policy" is not an apology
                    continue
                if (rule.unless is not None and rule.unless.search(bare)) or (rule.negatable and _negated(bare, m.start())):
                    cancelled.add(rule.family)
                    continue
                if rule.family == "apology" and clause.endswith("?") and len(bare.split()) <= 3:
                    continue  # "I'm sorry?" asks for a repeat
                found[rule.family] = PhraseMatch(rule.family, rule.name, m.group(0).strip())
        if "confirm" not in found and "confirm" in wanted and _TAGGED_STATEMENT.search(sentence):
            found["confirm"] = PhraseMatch("confirm", "tagged statement", sentence)
        if "next_steps" not in found and "next_steps" in wanted:
            match = _next_steps(sentence_clauses, cancelled)
            if match is not None:
                found["next_steps"] = match
        # the model adds the phrasing the rules do not reach, never what their negation or look-alike guards
        # refused ("I'm not telling you to calm down", "I can't calm down the system")
        for family in model_families(sentence, role) if use_model else ():
            if family in wanted and family not in found and family not in cancelled:
                found[family] = PhraseMatch(family, "model", sentence)
    if "abuse" in found and "hostile" in found and found["hostile"].text in found["abuse"].text:
        del found["hostile"]  # "you're useless" is abuse; its word is not a second finding
    return [found[f] for f in FAMILIES if f in found]


def families(text: str, role: str | None = None, use_model: bool = True) -> set[str]:
    """The set of families in `text` (said by `role`, if given)."""
    return {m.family for m in classify(text, role, use_model)}


def classify_all(texts: Iterable[str], role: str | None = None) -> list[set[str]]:
    """`families` of each text."""
    return [families(t, role) for t in texts]
