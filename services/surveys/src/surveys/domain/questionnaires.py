"""The questionnaires as versioned data: every question with its kind, its texts in Latvian and English, and the
rule its answer follows. A survey keeps the version it was invited with; a new version is added beside the old."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from prasmes_runtime.errors import NotFound

Kind = Literal["completion", "discontinuation"]
QuestionKind = Literal["stars", "yes_no", "level", "text", "choices"]
LANGUAGES = ("lv", "en")
TEXT_LIMIT = 2000
"""The longest free text an answer may hold (characters)."""

ASPECTS = ("knowledge_skills", "content_quality", "teacher", "learning_process")
"""The four aspects a completer rates on 1-5 stars (DOMAIN.md)."""
OTHER = "other"


@dataclass(frozen=True)
class Option:
    code: str
    text: dict[str, str]


@dataclass(frozen=True)
class Question:
    id: str
    kind: QuestionKind
    text: dict[str, str]
    required: bool = True
    options: tuple[Option, ...] = ()
    required_with: tuple[str, str] | None = None
    """(question, option): this question is answered exactly when that option of that question is chosen."""

    @property
    def range(self) -> tuple[int, int]:
        return (1, 5) if self.kind == "stars" else (1, 8)


@dataclass(frozen=True)
class Questionnaire:
    kind: Kind
    version: int
    title: dict[str, str]
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


def _q(qid: str, kind: QuestionKind, lv: str, en: str, **rest: object) -> Question:
    return Question(qid, kind, {"lv": lv, "en": en}, **rest)  # type: ignore[arg-type]


IMPROVE = _q("improvement", "text", "Kas būtu jāuzlabo?", "What should be improved?", required=False)

COMPLETION_V1 = Questionnaire(
    "completion",
    1,
    {"lv": "Mācību novērtējuma aptauja", "en": "Study evaluation survey"},
    (
        _q("knowledge_skills", "stars", "Iegūtās zināšanas un prasmes", "Knowledge and skills gained"),
        _q("content_quality", "stars", "Mācību satura kvalitāte", "Quality of the content"),
        _q("teacher", "stars", "Pasniedzēja darbs un kompetence", "The teacher's work and competence"),
        _q(
            "learning_process",
            "stars",
            "Mācību process (temps, materiāli, grafiks)",
            "The learning process (pace, materials, schedule)",
        ),
        _q(
            "description_matched",
            "yes_no",
            "Vai programmas apraksts atbilda tās faktiskajam saturam?",
            "Did the programme's description match its real content?",
        ),
        _q(
            "prior_knowledge_right",
            "yes_no",
            "Vai norādītās nepieciešamās priekšzināšanas bija atbilstošas?",
            "Was the stated prior knowledge right?",
        ),
        _q(
            "equipment_right",
            "yes_no",
            "Vai norādītais aprīkojums un operētājsistēma bija atbilstoši?",
            "Were the stated equipment and operating system right?",
        ),
        _q(
            "digcomp_after",
            "level",
            "Jūsu digitālo prasmju līmenis pēc mācībām (DigComp, 1–8)",
            "Your digital skills after the studies (DigComp, 1-8)",
        ),
        IMPROVE,
    ),
)

REASONS: tuple[Option, ...] = tuple(
    Option(code, {"lv": lv, "en": en})
    for code, lv, en in (
        ("content", "Saturs neapmierināja", "The content did not satisfy me"),
        (
            "learning_difficulty",
            "Grūtības apgūt (priekšzināšanas, temps, valoda)",
            "Difficulty learning (prior knowledge, pace, language)",
        ),
        ("time", "Grūti atrast laiku", "Finding the time"),
        ("personal", "Personiski iemesli", "Personal reasons"),
        ("teacher", "Pasniedzēja darbs", "The teacher's work"),
        ("job_change", "Darba maiņa", "A change of job"),
        ("motivation", "Zuda motivācija", "I lost motivation"),
        ("organisation", "Mācību organizācija", "The organisation of the studies"),
        ("employer_support", "Nebija darba devēja atbalsta", "No support from my employer"),
        ("technical_means", "Tehniskie līdzekļi", "Technical means"),
        (OTHER, "Cits", "Other"),
    )
)
"""The eleven reasons of discontinuation (DOMAIN.md), several may be chosen; "other" asks for a text."""

DISCONTINUATION_V1 = Questionnaire(
    "discontinuation",
    1,
    {"lv": "Aptauja par mācību pārtraukšanu", "en": "Survey on discontinued studies"},
    (
        _q("reasons", "choices", "Kāpēc pārtraucāt mācības?", "Why did you discontinue your studies?", options=REASONS),
        _q(
            "other_reason",
            "text",
            "Cits iemesls",
            "Another reason",
            required=False,
            required_with=("reasons", OTHER),
        ),
        IMPROVE,
    ),
)

QUESTIONNAIRES: dict[tuple[Kind, int], Questionnaire] = {
    (q.kind, q.version): q for q in (COMPLETION_V1, DISCONTINUATION_V1)
}
CURRENT: dict[Kind, int] = {"completion": 1, "discontinuation": 1}
"""The version a new survey of each kind is invited with."""


def questionnaire(kind: Kind, version: int) -> Questionnaire:
    try:
        return QUESTIONNAIRES[(kind, version)]
    except KeyError:
        raise NotFound(f"no {kind} questionnaire version {version}") from None


def current(kind: Kind) -> Questionnaire:
    return questionnaire(kind, CURRENT[kind])
