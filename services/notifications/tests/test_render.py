"""The mail of a notice: one template per kind and language, saying what the notice says, in text and HTML."""

import html
import itertools
import re
import uuid
from datetime import UTC, datetime

import pytest
from markupsafe import escape
from notifications.adapters.render import CHOICES, DEFAULTS, LANGUAGES, LEGAL, VALUES, RenderedMail, render
from notifications.domain.digests import DIGEST_KIND, digest_values
from notifications.domain.mails import CATEGORIES, CATEGORY_OF
from notifications.domain.notices import (
    TEXT_KINDS,
    Notice,
    SurveyKind,
    SurveyNoticeKind,
    grant_notice,
    notice_of,
    survey_notice,
    welcome_notice,
)

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CLOSES = datetime(2026, 12, 31, 21, 59, tzinfo=UTC)  # 23:59 in Riga
LINK = "https://prasmes.example.lv/notices"
SURVEY_VALUES = {"lv_date": "31.12.2026.", "en_date": "31 December 2026"}
DAY = {"lv_date": "15.01.2027.", "en_date": "15 January 2027"}
SAMPLES: dict[str, dict[str, str]] = {
    "welcome": {},
    **{
        kind: {"project": "IMK 2026", "amount": "320.00"}
        for kind in ("application_approved", "application_lapsed", "grant_spent", "grant_released")
    },
    "survey_invited": SURVEY_VALUES,
    "survey_reminded": SURVEY_VALUES,
    "application_submitted": {"project": "IMK 2026"},
    "application_rejected": {"project": "IMK 2026"},
    "enrolment_confirmed": {"project": "IMK 2026"},
    "provider_approved": {},
    "provider_rejected": {},
    "provider_user_added": {},
    "provider_user_welcome": {},
    "offer_received": {},
    "clarification_requested": {"criteria": "I2, P3", **DAY},
    "offer_approved": {},
    "offer_rejected": {"criteria": "I2, P3"},
    "agreement_signed": DAY,
    "programme_published": {"lv_title": "Datu analīze & <Python>", "en_title": "Data analysis & <Python>"},
    "offer_assigned": {"call": "IMK-4"},
    "clarification_answered": {"call": "IMK-4"},
    "registration_waiting": {"institution": "Mācību centrs & <Co>", **DAY},
    "quality_flagged": {"value": "3.4", "threshold": "4.0", "over": "12"},
}
DIGEST_TITLES = [{"lv": "Piedāvājums nodots vērtēšanai", "en": "Offer assigned <for> evaluation"}] * 2
VALUES_OF_DIGEST = digest_values(DIGEST_TITLES, 7)
"""The values of each kind `notice_of` writes, but those that are one of a few codes (every code is a case)."""


def cases() -> list[tuple[str, dict[str, str], Notice]]:
    """Every kind (and each code of a value that is one of a few) with its values, beside the notice the domain
    makes of the same values."""
    found: list[tuple[str, dict[str, str], Notice]] = [("welcome", {}, welcome_notice("anna", uuid.uuid4(), NOW, "e"))]
    for kind in ("application_approved", "application_lapsed", "grant_spent", "grant_released"):
        values = {"project": "IMK 2026", "amount": "320.00"}
        found.append((kind, values, grant_notice(kind, "anna", values["project"], values["amount"], NOW, "e")))
    survey_notice_kinds: tuple[SurveyNoticeKind, ...] = ("survey_invited", "survey_reminded")
    survey_kinds: tuple[SurveyKind, ...] = ("completion", "discontinuation")
    for notice_kind in survey_notice_kinds:
        for survey_kind in survey_kinds:
            notice = survey_notice(notice_kind, survey_kind, "anna", uuid.uuid4(), CLOSES, NOW, "e")
            found.append((notice_kind, {"survey_kind": survey_kind, **SURVEY_VALUES}, notice))
    for kind in TEXT_KINDS:
        choices = CHOICES.get(kind, {})
        for codes in itertools.product(*choices.values()):
            values = SAMPLES[kind] | dict(zip(choices, codes, strict=True))
            found.append((kind, values, notice_of(kind, "anna", values, NOW, "e")))
    return found


CASES = cases()


def _id(case: tuple[str, dict[str, str], Notice]) -> str:
    kind, values, _ = case
    return "-".join([kind, *(values[name] for name in CHOICES.get(kind, {}))])


def test_the_cases_cover_every_kind() -> None:
    assert {kind for kind, _, _ in CASES} == set(VALUES) - {DIGEST_KIND}  # the digest is no notice: below


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_mail_says_what_the_notice_says(case: tuple[str, dict[str, str], Notice], language: str) -> None:
    kind, values, notice = case
    mail = render(kind, language, values, link=LINK)
    assert isinstance(mail, RenderedMail)
    assert mail.subject == notice.title[language]
    assert notice.body[language] in mail.text
    assert notice.body[language] in html.unescape(mail.html)  # the values escaped: below
    assert f"<title>{escape(notice.title[language])}</title>" in mail.html
    other_language = {"lv": "en_", "en": "lv_"}[language]
    for name in VALUES[kind]:
        if name in CHOICES.get(kind, {}) or name.startswith(other_language):
            continue  # a code the texts put in words; the other language's date or title
        assert values[name] in mail.text
        assert str(escape(values[name])) in mail.html
    assert render(kind, language, notice.values, link=LINK) == mail, "the service can pass the notice's own values"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", VALUES)
def test_every_mail_links_back_in_both_parts_and_says_why_it_came(kind: str, language: str) -> None:
    mail = render(kind, language, values_for(kind), link=LINK)
    assert f"{LINK}\n" in mail.text
    assert f'<a href="{LINK}"' in mail.html
    assert f'<html lang="{language}">' in mail.html
    assert "Prasmes" in mail.text and "Prasmes" in mail.html
    assert not mail.text.startswith("Subject:") and "\n" not in mail.subject
    always = {"lv": "vienmēr", "en": "always sent"}[language]
    preferences = {"lv": "iestatījumus varat mainīt", "en": "change your email preferences"}[language]
    for part in (mail.text, mail.html):
        assert (always in part, preferences in part) == (kind in LEGAL, kind not in LEGAL)


def test_the_legal_notices_are_the_ones_of_a_legal_category() -> None:
    assert {"application_approved", "application_rejected", "application_lapsed", "grant_spent"} <= LEGAL
    assert {"provider_approved", "provider_rejected", "clarification_requested", "offer_approved"} <= LEGAL
    assert "offer_rejected" in LEGAL
    assert not LEGAL & {"welcome", "survey_invited", "survey_reminded", "enrolment_confirmed"}
    assert not LEGAL & {"provider_user_added", "provider_user_welcome", "offer_received", "agreement_signed"}
    assert "programme_published" not in LEGAL
    assert not LEGAL & {"offer_assigned", "clarification_answered"}  # the officers' own work


def test_every_kind_has_a_category_of_the_one_list_and_a_mail() -> None:
    assert set(CATEGORY_OF) == set(VALUES) - {DIGEST_KIND}
    assert set(CATEGORY_OF.values()) <= set(CATEGORIES)
    assert set(CATEGORIES) - set(CATEGORY_OF.values()) == set(), "a category no notice is in"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_legal_mail_to_an_institution_says_it_concerns_the_institution(language: str) -> None:
    mail = render("offer_approved", language, {}, link=LINK)
    learner = render("application_submitted", language, {"project": "IMK"}, link=LINK)
    institution = {"lv": "izglītības iestādes reģistrāciju vai piedāvājumu", "en": "institution's registration"}
    application = {"lv": "jūsu pieteikumu vai finansējumu", "en": "your application or grant"}
    assert institution[language] in mail.text and institution[language] in mail.html
    assert application[language] not in mail.text and application[language] in learner.text


def test_a_rejection_mail_written_before_its_reason_was_kept_points_to_the_application() -> None:
    assert DEFAULTS["application_rejected"] == {"reason": "other"}
    mail = render("application_rejected", "en", {"project": "IMK", "amount": ""}, link=LINK)
    assert "Your application in IMK was rejected. The reason is shown in your application." in mail.text


@pytest.mark.parametrize(("kind", "name"), [("application_rejected", "reason"), ("provider_user_added", "role")])
def test_a_code_must_be_one_the_texts_know(kind: str, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        render(kind, "lv", SAMPLES[kind] | {name: "weather"}, link=LINK)


def test_the_text_part_is_plain_text() -> None:
    mail = render("application_approved", "lv", {"project": "A & B <script>", "amount": "320.00"}, link=LINK)
    assert "A & B <script>" in mail.text
    assert not re.search(r"<(p|a|html|br)\b", mail.text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_html_escapes_the_values(language: str) -> None:
    values = {"project": '<script>alert("x")</script>', "amount": "1 & 2"}
    mail = render("grant_released", language, values, link="https://prasmes.example.lv/?a=1&b=<2>")
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in mail.html
    assert "1 &amp; 2" in mail.html
    assert 'href="https://prasmes.example.lv/?a=1&amp;b=&lt;2&gt;"' in mail.html


def test_a_missing_value_is_named() -> None:
    with pytest.raises(ValueError, match="amount"):
        render("application_approved", "en", {"project": "IMK"}, link=LINK)
    with pytest.raises(ValueError, match="project"):
        render("grant_spent", "lv", {"project": "", "amount": "10.00"}, link=LINK)
    with pytest.raises(ValueError, match="en_date"):
        render("survey_invited", "en", {"survey_kind": "completion", "lv_date": "31.12.2026."}, link=LINK)


def test_a_survey_kind_must_be_known() -> None:
    with pytest.raises(ValueError, match="survey_kind"):
        render("survey_reminded", "lv", {"survey_kind": "graduation", **SURVEY_VALUES}, link=LINK)


def test_an_unknown_kind_or_language_is_refused() -> None:
    with pytest.raises(KeyError, match="application_pending"):
        render("application_pending", "lv", {}, link=LINK)
    with pytest.raises(KeyError, match="base"):
        render("../templates/base", "lv", {}, link=LINK)
    with pytest.raises(ValueError, match="ru"):
        render("welcome", "ru", {}, link=LINK)


@pytest.mark.parametrize("link", ["/notices", "javascript:alert(1)", ""])
def test_the_link_must_be_absolute(link: str) -> None:
    with pytest.raises(ValueError, match="absolute"):
        render("welcome", "en", {}, link=link)


def test_values_beyond_the_needed_ones_are_ignored() -> None:
    plain = render("welcome", "en", {}, link=LINK)
    assert render("welcome", "en", {"lang": "lv", "link": "https://evil.example"}, link=LINK) == plain


def values_for(kind: str) -> dict[str, str]:
    if kind == DIGEST_KIND:
        return VALUES_OF_DIGEST
    return next(values for found, values, _ in CASES if found == kind)


def test_a_template_using_an_undeclared_value_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(VALUES, "application_submitted", ())
    with pytest.raises(ValueError, match="'project' is undefined"):
        render("application_submitted", "en", {"project": "IMK"}, link=LINK)


@pytest.mark.parametrize(
    ("language", "line", "head"),
    [
        ("lv", "Piedāvājums nodots vērtēšanai", "Jūs gaida nelasīti paziņojumi: 7."),
        ("en", "Offer assigned <for> evaluation", "Unread notices waiting for you: 7."),
    ],
)
def test_the_digest_lists_the_titles_in_the_recipients_language(language: str, line: str, head: str) -> None:
    mail = render(DIGEST_KIND, language, VALUES_OF_DIGEST, link=LINK)
    assert head in mail.text and mail.text.count(f"\n- {line}") == 2
    assert html.unescape(mail.html).count(f"• {line}") == 2 and str(escape(line)) in mail.html
    assert ("vienu e-pastu dienā" if language == "lv" else "one email a day") in mail.text
