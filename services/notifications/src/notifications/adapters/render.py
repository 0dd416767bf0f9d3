"""The mail of a notice: its subject, plain text and HTML, in Latvian or English, from Jinja2 templates.

Each notice kind has `templates/<kind>.<lang>.txt.j2` and `templates/<kind>.<lang>.html.j2`. The text template's
first line is `Subject: ...`, the subject of the mail (the notice's title); the rest is the text part. Both extend a
shared base (`base.txt.j2`, `base.html.j2`) that adds the platform's name, the link back to the platform and a
footer saying why the mail came (and, for the legal notices, that those are always sent: on a learner's application
or grant, or on an institution's registration or offers). HTML templates are autoescaped; text templates are not.

The values are the ones the domain formats the notice's texts with (`notifications.domain.notices`), so the
service can pass the notice's own dict (which keeps `survey_kind` for the survey notices, and the codes of a reason
or a role that the texts put in words).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, UndefinedError, select_autoescape

from notifications.domain.digests import DIGEST_KIND
from notifications.domain.mails import category_of, is_legal
from notifications.domain.notices import CHOICES as DOMAIN_CHOICES

LANGUAGES = ("lv", "en")

VALUES: dict[str, tuple[str, ...]] = {
    "welcome": (),
    "application_submitted": ("project",),
    "application_approved": ("project", "amount"),
    "application_rejected": ("project", "reason"),
    "application_lapsed": ("project",),
    "grant_spent": ("project", "amount"),
    "grant_released": ("project", "amount"),
    "enrolment_confirmed": ("project",),
    "survey_invited": ("survey_kind", "lv_date", "en_date"),
    "survey_reminded": ("survey_kind", "lv_date", "en_date"),
    "provider_approved": (),
    "provider_rejected": ("reason",),
    "provider_user_added": ("role",),
    "provider_user_welcome": ("role",),
    "offer_received": (),
    "clarification_requested": ("criteria", "lv_date", "en_date"),
    "offer_approved": (),
    "offer_rejected": ("criteria",),
    "agreement_signed": ("lv_date", "en_date"),
    "programme_published": ("lv_title", "en_title"),
    "offer_assigned": ("call",),
    "clarification_answered": ("call",),
    "registration_waiting": ("institution", "lv_date", "en_date"),
    "quality_flagged": ("reason", "value", "threshold", "over"),
    DIGEST_KIND: ("count", "lv_titles", "en_titles"),
}
"""The values each notice kind's mail needs: `project` (the project's name), `amount` (EUR, as `320.00`),
`survey_kind` (`completion` or `discontinuation`), `reason` (a rejection's reason code), `role` (`provider_admin` or
`provider_staff`), `criteria` (an offer's criteria codes, as `I2, P3`), `lv_date` and `en_date` (a day as
`30.11.2026.` and as `30 November 2026`: a survey's closing day, a clarification's due day, an agreement's last
day), `lv_title` and `en_title` (a programme's title in each language), `call` (an offer's call by its code, as
`IMK-4`), `institution` (an institution's name, as registered), `value`, `threshold` and `over` (a quality flag's
figure, the rule's threshold, how many people the figure is over), and the staff's daily digest's `count` (how many
notices wait) with `lv_titles` and `en_titles` (their titles, one a line). Values beyond these are ignored."""

CHOICES: dict[str, dict[str, tuple[str, ...]]] = DOMAIN_CHOICES
"""Kind -> the values that must be one of a few codes (the template says each code's words)."""

DEFAULTS: dict[str, dict[str, str]] = {"application_rejected": {"reason": "other"}}
"""Values a mail written before they were kept goes without: a rejection queued without its reason says where the
reason is shown."""

LEGAL = frozenset(kind for kind in VALUES if is_legal(category_of(kind)))
"""The kinds of a legal category (decisions on a learner's application, any use of their grant, the agency's
decisions on an institution): always mailed, whatever the recipient's mail preferences; their footer says so."""

_SUBJECT = "Subject: "

_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def render(kind: str, language: str, values: Mapping[str, str], *, link: str) -> RenderedMail:
    """The mail of a notice of `kind` in `language`, saying what the notice says, with `link` (the absolute URL
    back to the platform) as a button in HTML and a line in the text.

    Raises `KeyError` for an unknown kind and `ValueError` for an unknown language, a link that is not an absolute
    http(s) URL, or a required value missing, empty or not one of its choices (each naming the culprit)."""
    if kind not in VALUES:
        raise KeyError(f"no mail template for notice kind {kind!r}; known kinds: {', '.join(VALUES)}")
    if language not in LANGUAGES:
        raise ValueError(f"no mail in language {language!r}; languages: {', '.join(LANGUAGES)}")
    if not link.startswith(("https://", "http://")):
        raise ValueError(f"the link must be an absolute http(s) URL, not {link!r}")
    values = {**DEFAULTS.get(kind, {}), **{name: value for name, value in values.items() if value}}
    missing = [name for name in VALUES[kind] if not values.get(name)]
    if missing:
        raise ValueError(f"the mail for {kind} lacks the value(s): {', '.join(missing)}")
    for name, choices in CHOICES.get(kind, {}).items():
        if values[name] not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}, not {values[name]!r}")

    context: dict[str, Any] = {name: values[name] for name in VALUES[kind]}
    context.update(lang=language, link=link, legal=kind in LEGAL, category=category_of(kind))
    try:
        head, _, text = _environment.get_template(f"{kind}.{language}.txt.j2").render(context).partition("\n")
        if not head.startswith(_SUBJECT):
            raise ValueError(f"the template {kind}.{language}.txt.j2 must begin with a line {_SUBJECT!r}")
        subject = head.removeprefix(_SUBJECT).strip()
        html = _environment.get_template(f"{kind}.{language}.html.j2").render(context, subject=subject)
    except UndefinedError as exc:  # a template using a value not in VALUES[kind]
        raise ValueError(f"the mail for {kind} in {language} lacks a value: {exc.message}") from exc
    return RenderedMail(subject=subject, text=text.lstrip("\n"), html=html)
