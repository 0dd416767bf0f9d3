"""The identity provider's directory: staff find a user by exact user name or e-mail, and name subjects."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import FastAPI
from gateway.identity import DEV_USERS
from prasmes_runtime.auth import TokenIssuer

URL = "/auth/directory/users"


def _as(app: FastAPI, username: str) -> dict[str, str]:
    issuer: TokenIssuer = app.state.token_issuer
    user = DEV_USERS[username]
    return {"Authorization": f"Bearer {issuer.issue(user.subject, user.roles)}"}


async def test_staff_find_a_user_by_user_name_or_e_mail(gateway: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    liga = _as(gateway_app, "liga")
    by_name = await gateway.get(URL, params={"username": "peteris"}, headers=liga)
    by_email = await gateway.get(URL, params={"email": "Peteris@example.lv "}, headers=_as(gateway_app, "ilze"))
    assert by_name.status_code == 200 and by_email.status_code == 200
    assert by_name.json() == by_email.json()
    assert by_name.json()["subject"] == DEV_USERS["peteris"].subject
    assert by_name.json()["display_name"] == DEV_USERS["peteris"].display_name


async def test_subjects_are_named_and_unknown_ones_left_out(gateway: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    subjects = [DEV_USERS["peteris"].subject, "no-such-subject", DEV_USERS["liga"].subject]
    answer = await gateway.get(URL, params={"subject": subjects}, headers=_as(gateway_app, "liga"))
    assert answer.status_code == 200
    assert [u["username"] for u in answer.json()["users"]] == ["peteris", "liga"]


async def test_an_unknown_user_is_not_found_and_a_query_needs_exactly_one_key(
    gateway: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    liga = _as(gateway_app, "liga")
    assert (await gateway.get(URL, params={"username": "nobody"}, headers=liga)).status_code == 404
    both = await gateway.get(URL, params={"username": "liga", "email": "liga@example.lv"}, headers=liga)
    assert both.status_code == 422 and both.json()["errors"][0]["rule"] == "one_of"
    assert (await gateway.get(URL, headers=liga)).status_code == 422


async def test_learners_partners_and_anonymous_callers_cannot_look_people_up(
    gateway: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    for who in ("anna", "partner-nva"):
        refused = await gateway.get(URL, params={"username": "liga"}, headers=_as(gateway_app, who))
        assert refused.status_code == 403, who
    assert (await gateway.get(URL, params={"username": "liga"})).status_code == 401


async def test_outside_dev_mode_the_seeded_users_are_not_in_the_directory(
    make_gateway: Callable[..., tuple[FastAPI, httpx.AsyncClient]],
) -> None:
    app, client = make_gateway(dev_mode=False)
    answer = await client.get(URL, params={"username": "liga"}, headers=_as(app, "liga"))
    assert answer.status_code == 404
