"""The notices without I/O: what they say, and when one is read."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from notifications.domain.notices import (
    APPLICATION_REJECTIONS,
    PROVIDER_ROLES,
    REGISTRATION_REJECTIONS,
    SILENT_RELEASES,
    Reference,
    SurveyKind,
    SurveyNoticeKind,
    closing_day,
    day_values,
    grant_notice,
    known,
    notice_of,
    programme_title,
    survey_notice,
    welcome_notice,
)
from notifications.domain.providers import activated_by_approval

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_a_notice_is_read_once_and_keeps_the_first_time() -> None:
    notice = welcome_notice("anna", uuid.uuid4(), NOW, "event-1")
    read = notice.read(NOW + timedelta(minutes=5))
    assert (notice.read_at, read.read_at) == (None, NOW + timedelta(minutes=5))
    assert read.read(NOW + timedelta(days=1)) is read


def test_a_grant_notice_names_the_project_and_the_amount_in_both_languages() -> None:
    notice = grant_notice("grant_spent", "anna", "IMK", "320.00", NOW, "event-2")
    assert notice.body == {
        "lv": "No jūsu finansējuma projektā IMK samaksāti 320.00 EUR par mācībām.",
        "en": "320.00 EUR of your grant in IMK paid for your studies.",
    }
    assert (notice.kind, notice.recipient_id, notice.cause_event_id) == ("grant_spent", "anna", "event-2")


def test_a_lapsed_grant_gets_only_the_lapse_notice() -> None:
    assert "lapsed" in SILENT_RELEASES
    assert not SILENT_RELEASES & {"withdrawn", "remainder", "discontinued"}


SURVEY = uuid.UUID("6f1c2a8e-0000-4000-8000-000000000001")


@pytest.mark.parametrize(
    ("kind", "survey_kind", "title", "body"),
    [
        (
            "survey_invited",
            "completion",
            {"lv": "Novērtējiet savas mācības", "en": "Evaluate your studies"},
            {
                "lv": "Aicinām jūs novērtēt pabeigtās mācības. Aptaujai var atbildēt līdz 31.12.2026.",
                "en": "You are invited to evaluate the studies you completed. "
                "The survey is open until 31 December 2026.",
            },
        ),
        (
            "survey_invited",
            "discontinuation",
            {"lv": "Novērtējiet savas mācības", "en": "Evaluate your studies"},
            {
                "lv": "Aicinām jūs novērtēt mācības, kuras pārtraucāt. Aptaujai var atbildēt līdz 31.12.2026.",
                "en": "You are invited to evaluate the studies you discontinued. "
                "The survey is open until 31 December 2026.",
            },
        ),
        (
            "survey_reminded",
            "completion",
            {"lv": "Atgādinājums: novērtējiet savas mācības", "en": "Reminder: evaluate your studies"},
            {
                "lv": "Aptauja par jūsu pabeigtajām mācībām vēl gaida atbildes. Tai var atbildēt līdz 31.12.2026.",
                "en": "The survey on the studies you completed still awaits your answers. "
                "It is open until 31 December 2026.",
            },
        ),
        (
            "survey_reminded",
            "discontinuation",
            {"lv": "Atgādinājums: novērtējiet savas mācības", "en": "Reminder: evaluate your studies"},
            {
                "lv": "Aptauja par mācībām, kuras pārtraucāt, vēl gaida atbildes. Tai var atbildēt līdz 31.12.2026.",
                "en": "The survey on the studies you discontinued still awaits your answers. "
                "It is open until 31 December 2026.",
            },
        ),
    ],
)
def test_a_survey_notice_says_which_studies_until_the_riga_day_it_closes_and_links_the_survey(
    kind: SurveyNoticeKind,
    survey_kind: SurveyKind,
    title: dict[str, str],
    body: dict[str, str],
) -> None:
    closes_at = datetime(2026, 12, 30, 22, 30, tzinfo=UTC)  # 00:30 on 31 December in Riga
    notice = survey_notice(kind, survey_kind, "anna", SURVEY, closes_at, NOW, "event-3")
    assert (notice.kind, notice.recipient_id, notice.cause_event_id) == (kind, "anna", "event-3")
    assert (notice.title, notice.body) == (title, body)
    assert notice.reference == Reference("survey", str(SURVEY))
    assert notice.reference.path == f"/surveys/{SURVEY}"


def test_the_closing_day_is_the_day_in_riga_in_summer_and_winter() -> None:
    assert closing_day(datetime(2027, 6, 30, 20, 59, tzinfo=UTC)) == date(2027, 6, 30)  # 23:59 EEST
    assert closing_day(datetime(2027, 6, 30, 21, 0, tzinfo=UTC)) == date(2027, 7, 1)  # 00:00 EEST
    assert closing_day(datetime(2027, 1, 31, 21, 59, tzinfo=UTC)) == date(2027, 1, 31)  # 23:59 EET
    assert closing_day(datetime(2027, 1, 31, 22, 0, tzinfo=UTC)) == date(2027, 2, 1)  # 00:00 EET


def test_a_reason_the_texts_do_not_know_says_where_the_reason_is_shown() -> None:
    assert known(APPLICATION_REJECTIONS, "budget_exhausted") == "budget_exhausted"
    assert known(APPLICATION_REJECTIONS, "conflict_of_interest") == "other"
    assert known(REGISTRATION_REJECTIONS, "duplicate") == "duplicate"
    assert set(REGISTRATION_REJECTIONS) == {
        "register_mismatch",
        "statement_invalid",
        "not_an_education_institution",
        "duplicate",
        "other",
    }, "catalog's RejectionReason codes"
    assert set(APPLICATION_REJECTIONS) == {"not_eligible", "budget_exhausted", "incomplete", "other"}
    for phrases in (APPLICATION_REJECTIONS, REGISTRATION_REJECTIONS, PROVIDER_ROLES):
        assert all(set(words) == {"lv", "en"} and all(words.values()) for words in phrases.values())


def test_a_notice_of_the_table_says_its_phrased_value_in_each_language() -> None:
    notice = notice_of(
        "application_rejected",
        "anna",
        {"project": "IMK", "reason": "incomplete"},
        NOW,
        "event-4",
        Reference("application", "a-1"),
    )
    assert notice.body == {
        "lv": "Jūsu pieteikums projektā IMK ir noraidīts. Pieteikumā trūka nepieciešamās informācijas vai dokumentu.",
        "en": "Your application in IMK was rejected. The application lacked required information or documents.",
    }
    assert notice.values == {"project": "IMK", "reason": "incomplete"}, "the codes stay, for the mail"
    assert (notice.cause_event_id, notice.reference) == ("event-4", Reference("application", "a-1"))
    assert notice.reference is not None and notice.reference.path == "/applications/a-1"
    with pytest.raises(KeyError):
        notice_of("application_rejected", "anna", {"project": "IMK", "reason": "weather"}, NOW, "event-5")
    with pytest.raises(KeyError):
        notice_of("offer_rejected", "ilze", {}, NOW, "event-6")


def test_a_day_is_said_in_each_language_and_a_title_falls_back_to_latvian() -> None:
    assert day_values(date(2027, 1, 5)) == {"lv_date": "05.01.2027.", "en_date": "5 January 2027"}
    assert programme_title({"lv": "Datu analīze", "en": "Data analysis"}, "en") == "Data analysis"
    assert programme_title({"lv": "Datu analīze"}, "en") == "Datu analīze"
    assert programme_title({"lv": "Datu analīze", "en": ""}, "en") == "Datu analīze"


def test_the_members_an_approval_activates_are_those_added_at_its_instant() -> None:
    assert activated_by_approval(NOW, NOW)
    assert not activated_by_approval(NOW, NOW + timedelta(microseconds=1))
    assert not activated_by_approval(None, NOW)
