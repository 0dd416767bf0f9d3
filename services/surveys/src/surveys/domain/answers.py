"""An answer checked against its questionnaire: a partial answer (a draft) holds only valid values; a submitted one
also every required question. Every problem is reported at once, each naming its question and rule."""

from __future__ import annotations

from collections.abc import Mapping

from prasmes_runtime.errors import InvalidInput, Violation

from surveys.domain.questionnaires import TEXT_LIMIT, Question, Questionnaire

Value = int | bool | str | list[str]
Answers = dict[str, Value]


def _field(question_id: str) -> str:
    return f"answers.{question_id}"


def _integer(question: Question, value: object) -> Violation | None:
    low, high = question.range
    if isinstance(value, bool) or not isinstance(value, int):
        return Violation(_field(question.id), "int_type", f"{question.id} takes a whole number {low} to {high}")
    if not low <= value <= high:
        rule = "stars_range" if question.kind == "stars" else "level_range"
        return Violation(_field(question.id), rule, f"{question.id} is {low} to {high}, not {value}")
    return None


def _choices(question: Question, value: object) -> Violation | None:
    field = _field(question.id)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return Violation(field, "list_type", f"{question.id} takes a list of option codes")
    known = {o.code for o in question.options}
    unknown = sorted(set(value) - known)
    if unknown:
        return Violation(
            field,
            "unknown_option",
            f"{', '.join(unknown)}: not an option of {question.id} ({', '.join(sorted(known))})",
        )
    if len(set(value)) != len(value):
        return Violation(field, "duplicate_option", f"{question.id} names an option twice")
    if not value:
        return Violation(field, "too_short", f"{question.id} takes at least one option")
    return None


def _value(question: Question, value: object) -> Violation | None:
    field = _field(question.id)
    if question.kind in ("stars", "level"):
        return _integer(question, value)
    if question.kind == "yes_no":
        return None if isinstance(value, bool) else Violation(field, "bool_type", f"{question.id} is true or false")
    if question.kind == "choices":
        return _choices(question, value)
    if not isinstance(value, str):
        return Violation(field, "string_type", f"{question.id} is a text")
    if len(value) > TEXT_LIMIT:
        return Violation(field, "string_too_long", f"{question.id} is at most {TEXT_LIMIT} characters")
    return None


def _normalised(value: Value) -> Value | None:
    """A text of only spaces is no answer."""
    if isinstance(value, str):
        return value.strip() or None
    return value


def _applies(question: Question, answers: Mapping[str, Value]) -> bool | None:
    """Whether a conditional question applies to these answers (None: it is not conditional)."""
    if question.required_with is None:
        return None
    other, option = question.required_with
    chosen = answers.get(other)
    return isinstance(chosen, list) and option in chosen


def _completeness(questionnaire: Questionnaire, answers: Answers, *, complete: bool) -> list[Violation]:
    problems: list[Violation] = []
    for question in questionnaire.questions:
        applies = _applies(question, answers)
        if applies is False and question.id in answers:
            other, option = question.required_with or ("", "")
            problems.append(
                Violation(
                    _field(question.id), "not_applicable", f"{question.id} is answered only with {other} {option}"
                )
            )
        needed = question.required if applies is None else applies
        if complete and needed and question.id not in answers:
            problems.append(Violation(_field(question.id), "missing", f"{question.id} must be answered to submit"))
    return problems


def checked(questionnaire: Questionnaire, values: Mapping[str, object], *, complete: bool) -> Answers:
    """The answers of `values` (texts trimmed, empty ones dropped), or an InvalidInput naming every problem.
    `complete`: every required question must be answered (a submission), else a draft of any subset."""
    problems: list[Violation] = []
    answers: Answers = {}
    for question_id, value in values.items():
        question = questionnaire.question(question_id)
        if question is None:
            problems.append(
                Violation(_field(question_id), "unknown_question", f"{question_id} is not a question of this survey")
            )
            continue
        problem = _value(question, value)
        if problem is not None:
            problems.append(problem)
            continue
        kept = _normalised(value)  # type: ignore[arg-type]
        if kept is not None:
            answers[question_id] = kept
    if not problems:
        problems = _completeness(questionnaire, answers, complete=complete)
    if problems:
        raise InvalidInput(*problems)
    return answers
