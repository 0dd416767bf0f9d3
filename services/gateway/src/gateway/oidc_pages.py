"""The identity provider's pages (server-rendered, no script, no external asset), in Latvian or English."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

Language = str
LANGUAGES = ("lv", "en")
# No form-action: browsers apply it to the redirect after a post too, and the sign-in post ends at the client.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
TEXT: dict[Language, dict[str, str]] = {
    "en": {
        "sign_in": "Sign in to Prasmes",
        "for_client": "The application “{client}” asks you to sign in.",
        "dev_users": "Development users",
        "dev_note": "Development sign-in: these seeded users exist only in development mode.",
        "choose_user": "Choose the user to sign in as",
        "roles": "roles",
        "submit": "Sign in",
        "eid": "Sign in with the national eID",
        "eid_note": "You are taken to the national eID (Latvija.lv) and brought back here.",
        "unavailable": "Sign-in is not available",
        "unavailable_text": "No way to sign in is set up at this identity provider. Please try again later.",
        "error": "The sign-in cannot continue",
        "unknown_client": "The application that sent you here is not known to the identity provider.",
        "unknown_redirect_uri": "The address the application asked to return to is not registered for it.",
        "sign_in_expired": "The sign-in page has expired or was not sent from this browser. Start again from the "
        "application.",
        "upstream_failed": "The national eID's answer could not be accepted. Start again from the application.",
        "no_user": "Choose one of the users listed on the sign-in page.",
        "method_unavailable": "This way of signing in is not available here.",
        "bad_logout": "The sign-out request names an application this identity provider did not sign you in to.",
        "signed_out": "You have signed out",
        "signed_out_text": "Your session at the identity provider has ended. You may close this window.",
        "not_returned": "The application's return address is not registered for it, so you are not sent back.",
    },
    "lv": {
        "sign_in": "Pieslēgties Prasmēm",
        "for_client": "Lietotne “{client}” lūdz jūs pieslēgties.",
        "dev_users": "Izstrādes lietotāji",
        "dev_note": "Izstrādes pieslēgšanās: šie lietotāji ir tikai izstrādes režīmā.",
        "choose_user": "Izvēlieties lietotāju",
        "roles": "lomas",
        "submit": "Pieslēgties",
        "eid": "Pieslēgties ar valsts eID",
        "eid_note": "Jūs tiksiet novirzīti uz valsts eID (Latvija.lv) un pēc tam atpakaļ šeit.",
        "unavailable": "Pieslēgšanās nav pieejama",
        "unavailable_text": "Šajā identitātes pakalpojumā nav iestatīts neviens pieslēgšanās veids. Lūdzu, mēģiniet "
        "vēlāk.",
        "error": "Pieslēgšanos nevar turpināt",
        "unknown_client": "Lietotne, kas jūs šeit novirzīja, identitātes pakalpojumam nav zināma.",
        "unknown_redirect_uri": "Adrese, uz kuru lietotne lūdza atgriezties, tai nav reģistrēta.",
        "sign_in_expired": "Pieslēgšanās lapa ir novecojusi vai nav sūtīta no šīs pārlūkprogrammas. Sāciet no "
        "lietotnes vēlreiz.",
        "upstream_failed": "Valsts eID atbildi nevarēja pieņemt. Sāciet no lietotnes vēlreiz.",
        "no_user": "Izvēlieties vienu no pieslēgšanās lapā norādītajiem lietotājiem.",
        "method_unavailable": "Šis pieslēgšanās veids šeit nav pieejams.",
        "bad_logout": "Atslēgšanās pieprasījumā minēta lietotne, kurai identitātes pakalpojums jūs nav pieslēdzis.",
        "signed_out": "Sesija ir beigta",
        "signed_out_text": "Jūsu sesija identitātes pakalpojumā ir beigta. Šo logu var aizvērt.",
        "not_returned": "Lietotnes atgriešanās adrese tai nav reģistrēta, tāpēc atpakaļ jūs nenovirzām.",
    },
}


@dataclass(frozen=True)
class UserChoice:
    username: str
    display_name: str
    roles: list[str]


class Pages:
    def __init__(self, directory: Path = Path(__file__).parent / "templates") -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, template: str, language: Language, *, status: int = 200, **context: Any) -> HTMLResponse:
        text = TEXT[language]
        html = self._env.get_template(template).render(lang=language, t=text, **context)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def message(self, language: Language, title: str, *lines: str, status: int = 200) -> HTMLResponse:
        """A page of a heading and paragraphs, each a key of `TEXT`."""
        return self.render("message.html", language, status=status, title=title, lines=lines)


def language_of(request: Request, ui_locales: str | None = None) -> Language:
    """The page's language: the first of `ui_locales` we have, else the browser's Accept-Language, else Latvian."""
    for tag in (ui_locales or "").split():
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    weighted: list[tuple[float, str]] = []
    for part in request.headers.get("accept-language", "")[:512].split(","):
        tag, _, params = part.strip().partition(";")
        quality = params.strip().removeprefix("q=")
        try:
            weight = float(quality) if params else 1.0
        except ValueError:
            continue
        weighted.append((weight, tag.split("-")[0].strip().lower()))
    for _, primary in sorted(weighted, key=lambda pair: -pair[0]):
        if primary in LANGUAGES:
            return primary
    return "lv"
