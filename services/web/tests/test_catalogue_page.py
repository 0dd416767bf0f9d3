"""The catalogue page's own work, on a page of results as catalog answers it: paging links that keep the search,
amounts and ratings in the page's language, and the rating's rule (shown from 10 raters)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from starlette.requests import Request
from web.pages.public import LEVELS
from web.rendering import LANGUAGE_COOKIE, Pages

CHOSEN = {"q": "dati", "project": [], "language": [], "digcomp_level": [], "city": "", "form": "", "starts_from": "",
          "starts_until": "", "free_places": False, "sort": "title"}  # fmt: skip


def _programme(raters: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "title": {"lv": "Datu analīze ar Python", "en": "Data analysis with Python"},
        "institution": {"id": str(uuid.uuid4()), "name": "Rīgas Datorikas mācību centrs"},
        "funding_projects": ["IMK"],
        "cost_per_participant": "1320.00",
        "total_hours": 160,
        "digcomp_level": 5,
        "groups": [{"start_date": "2027-01-11", "city": "Rīga"}],
        "rating": {"shown": raters >= 10, "overall": "4.5" if raters >= 10 else None, "raters": raters},
    }


def _render(language: str, page: int, chosen: dict[str, Any] | None = None) -> str:
    cookie = f"{LANGUAGE_COOKIE}={language}".encode()
    scope = {"type": "http", "method": "GET", "path": "/catalogue", "query_string": f"q=dati&page={page}".encode(),
             "headers": [(b"cookie", cookie)], "session": {}, "state": {}}  # fmt: skip
    found = {"items": [_programme(1446), _programme(3)], "total": 95}
    answer = Pages("http://127.0.0.1:8000").render(
        Request(scope), "catalogue.html", chosen=CHOSEN | (chosen or {}), found=found, page=page, pages=5,
        page_link=lambda n: f"/catalogue?q=dati&page={n}", project_options=[("IMK", "IMK")],
        level_options=[(level, level) for level in LEVELS],
    )  # fmt: skip
    return bytes(answer.body).decode()


@pytest.mark.parametrize(("language", "found", "money", "rated", "unrated"), [
    ("lv", "Atrastas 95 programmas", "1\u00a0320,00\u00a0€", "4,5 no 5, vērtējuši 1446", "mazāk nekā 10 vērtētāju"),
    ("en", "95 programmes found", "€1,320.00", "4.5 of 5 from 1446 raters", "fewer than 10 raters"),
])  # fmt: skip
def test_a_page_of_results_in_each_language(language: str, found: str, money: str, rated: str, unrated: str) -> None:
    html = _render(language, page=3)
    assert f'<html lang="{language}"' in html and found in html and money in html
    assert rated in html and unrated in html


def test_the_filters_keep_what_was_chosen() -> None:
    html = _render("en", page=1, chosen={"project": ["IMK"], "language": ["ru"], "digcomp_level": [5]})
    ticked = re.findall(r'id="([a-z-]+-\w+)" name="\w+" type="checkbox" value="\w+" checked', html)
    assert ticked == ["project-IMK", "language-ru", "digcomp-level-5"]
    assert re.search(r'id="digcomp-level-4" name="digcomp_level" type="checkbox" value="4">', html)


def test_the_paging_links_keep_the_search_and_mark_the_current_page() -> None:
    html = _render("en", page=3)
    links = re.findall(r'href="(/catalogue\?q=dati&amp;page=\d)"', html)
    assert links == [f"/catalogue?q=dati&amp;page={n}" for n in (2, 1, 2, 3, 4, 5, 4)]
    assert re.search(r'href="/catalogue\?q=dati&amp;page=3"[^>]*aria-current="page"', html)
    first = _render("en", page=1)
    assert 'rel="prev"' not in first and 'rel="next"' in first
