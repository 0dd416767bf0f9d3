"""A notice links to the page of what it is about as its reader sees that thing: an offer is the institution's offer
page to its users and the evaluation workspace to the agency; a reference the reader has no page for links nowhere."""

from __future__ import annotations

import pytest
from web.pages.notices import _link
from web.session import User

OFFER = "0ffe0000-0000-4000-8000-000000000001"


def _user(*roles: str) -> User:
    return User("s", "n", roles, "lv", "token", "id-token", 2e9)


@pytest.mark.parametrize(
    ("roles", "kind", "expected"),
    [
        (("provider_admin",), "offer", f"/institution/offers/{OFFER}"),
        (("provider_staff",), "programme", f"/institution/programmes/{OFFER}"),
        (("agency_officer",), "offer", f"/agency/offers/{OFFER}"),
        (("agency_admin",), "institution", f"/agency/registrations/{OFFER}"),
        (("learner",), "survey", f"/surveys/{OFFER}"),
        (("learner",), "offer", ""),
        (("agency_officer",), "survey", ""),
    ],
)
def test_a_notice_links_to_its_readers_page_of_what_it_is_about(
    roles: tuple[str, ...], kind: str, expected: str
) -> None:
    assert _link({"reference": {"type": kind, "id": OFFER}}, _user(*roles)) == expected


def test_a_reference_that_is_no_id_links_nowhere() -> None:
    assert _link({"reference": {"type": "offer", "id": "../../signout"}}, _user("provider_admin")) == ""
