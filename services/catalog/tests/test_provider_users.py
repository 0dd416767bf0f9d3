"""An institution's users are invited as people the identity provider knows (by user name or e-mail), and shown
with their names where the role may see them. The names are asked of the identity provider at request time and
never stored in catalog."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa
from catalog.adapters.directory import DirectoryUser, HttpDirectory
from catalog.app import CatalogSettings
from prasmes_runtime.errors import Unavailable

from .conftest import API, Catalog, refusal

PETERIS = "Pēteris Liepa"


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def test_staff_are_invited_by_user_name_or_e_mail_and_listed_with_their_names(catalog: Catalog) -> None:
    catalog.directory.know("anete", "Anete Kalna")
    catalog.directory.users[:] = [u for u in catalog.directory.users if u.subject != "peteris"]
    catalog.directory.know("peteris", PETERIS)
    a = await catalog.approved_institution("liga")
    users = f"{API}/providers/{a}/users"
    liga = catalog.user("liga")
    by_name = await catalog.client.post(users, json={"username": "peteris"}, headers=liga)
    assert by_name.status_code == 201, by_name.text
    assert by_name.json() | {"added_at": None} == {
        "institution_id": a,
        "user_id": "peteris",
        "display_name": PETERIS,
        "role": "provider_staff",
        "active": True,
        "added_at": None,
    }
    by_email = await catalog.client.post(users, json={"email": " Anete@Example.lv "}, headers=liga)
    assert by_email.status_code == 201 and by_email.json()["user_id"] == "anete"
    assert _token(liga) in catalog.directory.tokens  # asked with the caller's own token

    listed = (await catalog.client.get(users, headers=liga)).json()  # in the order they were added, then by id
    assert [(u["user_id"], u["display_name"]) for u in listed] == [
        ("anete", "Anete Kalna"),
        ("liga", "Liga"),
        ("peteris", PETERIS),
    ]
    agency = (await catalog.client.get(users, headers=catalog.user("ilze", "agency_officer"))).json()
    assert [u["display_name"] for u in agency] == ["Anete Kalna", "Liga", PETERIS]
    staff = (await catalog.client.get(users, headers=catalog.user("peteris", "provider_staff"))).json()
    assert [(u["user_id"], u["display_name"]) for u in staff] == [("anete", None), ("liga", None), ("peteris", None)]

    # The names are the identity provider's: none of them is in catalog's database.
    async with catalog.database.session() as session:
        for table in ("memberships", "outbox", "institutions"):
            dump = json.dumps([list(map(str, r)) for r in await session.execute(sa.text(f"SELECT * FROM {table}"))])
            assert PETERIS not in dump and "Anete Kalna" not in dump, table


async def test_an_unknown_or_malformed_invitation_names_the_field(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    users = f"{API}/providers/{a}/users"
    liga = catalog.user("liga")
    cases: list[tuple[dict[str, object], tuple[str, str]]] = [
        ({"username": "nobody"}, ("username", "known_user")),
        ({"email": "nobody@example.lv"}, ("email", "known_user")),
        ({"email": "not an address"}, ("email", "format")),
        ({}, ("username", "required")),
        ({"username": " "}, ("username", "required")),
        ({"username": "peteris", "email": "peteris@example.lv"}, ("username", "one_of")),
        ({"user_id": "peteris"}, ("user_id", "extra_forbidden")),  # the opaque id is no longer taken
    ]
    for body, expected in cases:
        assert refusal(await catalog.client.post(users, json=body, headers=liga)) == expected, body
    assert [m["user_id"] for m in (await catalog.client.get(users, headers=liga)).json()] == ["liga"]


async def test_the_list_answers_without_names_when_the_directory_does_not(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    users = f"{API}/providers/{a}/users"
    assert (await catalog.client.post(users, json={"username": "peteris"}, headers=catalog.user("liga"))).is_success
    catalog.directory.answers = False
    listed = await catalog.client.get(users, headers=catalog.user("liga"))
    assert listed.status_code == 200
    assert [(u["user_id"], u["display_name"]) for u in listed.json()] == [("liga", None), ("peteris", None)]
    # Inviting needs the directory: it says so, and nothing is stored.
    invite = await catalog.client.post(users, json={"username": "janis"}, headers=catalog.user("liga"))
    assert invite.status_code == 503 and invite.json()["error"] == "unavailable"
    assert len(listed.json()) == len((await catalog.client.get(users, headers=catalog.user("liga"))).json())


async def test_only_the_institutions_admin_can_ask_the_directory_through_catalog(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    await catalog.approved_institution("karlis", "3360800005")
    asked = len(catalog.directory.tokens)
    outsider = await catalog.client.post(
        f"{API}/providers/{a}/users", json={"username": "peteris"}, headers=catalog.user("karlis")
    )
    assert outsider.status_code == 404
    assert len(catalog.directory.tokens) == asked  # nobody learns through catalog who exists


# --------------------------------------------------------------------------- the HTTP directory


Handler = Callable[[httpx.Request], httpx.Response]


def _directory(handler: Handler) -> HttpDirectory:
    return HttpDirectory("http://gateway.test", transport=httpx.MockTransport(handler))


def test_the_identity_url_defaults_to_the_gateway_on_one_machine() -> None:
    assert CatalogSettings().identity_url == "http://127.0.0.1:8000"


async def test_the_http_directory_finds_a_user_with_the_callers_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("username") == "peteris" or request.url.params.get("email") == "p@example.lv":
            user = {"subject": "s-1", "username": "peteris", "display_name": PETERIS, "email": "p@example.lv"}
            return httpx.Response(200, json=user)
        return httpx.Response(404, json={"error": "not_found", "message": "no such user in the directory"})

    directory = _directory(handler)
    found = await directory.find("peteris", None, "tok")
    assert found == DirectoryUser("s-1", "peteris", PETERIS, "p@example.lv")
    assert await directory.find(None, "p@example.lv", "tok") == found
    assert await directory.find("nobody", None, "tok") is None
    assert [r.url.path for r in seen] == ["/auth/directory/users"] * 3
    assert dict(seen[0].url.params) == {"username": "peteris"} and dict(seen[1].url.params) == {"email": "p@example.lv"}
    assert {r.headers["authorization"] for r in seen} == {"Bearer tok"}


async def test_the_http_directory_names_subjects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params.get_list("subject") == ["s-1", "s-2", "s-3"]
        users = [
            {"subject": "s-1", "username": "a", "display_name": "A"},
            {"subject": "s-3", "username": "c", "display_name": "C"},
        ]
        return httpx.Response(200, json={"users": users})

    assert await _directory(handler).names(["s-1", "s-2", "s-3"], "tok") == {"s-1": "A", "s-3": "C"}
    assert await _directory(handler).names([], "tok") == {}


@pytest.mark.parametrize(
    "answer",
    [
        lambda _: httpx.Response(500),
        lambda _: httpx.Response(403, json={"error": "forbidden"}),
        lambda _: httpx.Response(200, content=b"<html>"),
        lambda _: httpx.Response(200, json={"users": "nobody"}),
        lambda _: httpx.Response(200, json=[1, 2]),
    ],
)
async def test_a_directory_that_does_not_answer_properly_is_unavailable(answer: Handler) -> None:
    with pytest.raises(Unavailable):
        await _directory(answer).names(["s-1"], "tok")
    with pytest.raises(Unavailable):
        await _directory(answer).find("peteris", None, "tok")


async def test_a_directory_that_cannot_be_reached_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(Unavailable):
        await _directory(refuse).find("peteris", None, "tok")
