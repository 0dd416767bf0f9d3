"""A newcomer's first ten minutes: the demo data is seeded once however often the platform starts, and the
README's "Try it" commands work as printed against a freshly started platform."""

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prasmes_devtools.devstack import Stack, free_base_port, seed_demo

pytestmark = pytest.mark.e2e
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(var_dir=tmp_path_factory.mktemp("newcomer"), base_port=free_base_port())
    stack.start()
    yield stack
    stack.stop()


def _login(client: httpx.Client, username: str) -> dict[str, str]:
    token = client.post("/auth/dev-login", json={"username": username}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _try_it_commands() -> str:
    """The shell block that follows "Try it" in the README, as a reader would copy it."""
    found = re.search(r"Try it:\n```\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert found, "the README has a 'Try it' block"
    return found.group(1)


def test_the_demo_is_seeded_once_however_often_the_platform_starts(stack: Stack) -> None:
    seed_demo(stack)
    seed_demo(stack)  # a second and a third start of `make run`
    seed_demo(stack)
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as client:
        anna, ilze = _login(client, "anna"), _login(client, "ilze")
        applications = client.get("/api/accounts/applications", headers=anna).json()
        assert [(a["project_code"], a["state"]) for a in applications] == [("IMK", "approved")]
        everyone = client.get("/api/accounts/agency/applications", headers=ilze).json()
        assert everyone["total"] == 1, "no application of anyone else was made or approved by the seed"
        assert client.get("/api/accounts/accounts/me", headers=_login(client, "janis")).status_code == 404
        _assert_the_programme_was_published_once_by_the_demonstration_call(client)
        _assert_the_seeds_survey_answers_are_there_once(client)


def _assert_the_seeds_survey_answers_are_there_once(client: httpx.Client) -> None:
    ilze, liga = _login(client, "ilze"), _login(client, "liga")
    platform = client.get("/api/surveys/survey-results/platform", headers=ilze).json()
    assert platform["answered"] == {"completion": 1446, "discontinuation": 69}, "the seed's answers, once"
    means = [platform["completion"]["aspects"][a]["mean"] for a in platform["completion"]["aspects"]]
    assert means == ["4.4", "4.5", "4.6", "4.5"]
    institution = client.get("/api/catalog/providers/me", headers=liga).json()["institution"]["id"]
    mine = client.get(f"/api/surveys/survey-results/institutions/{institution}", headers=liga)
    assert mine.status_code == 200 and mine.json()["discontinuation"]["reasons"]["content"] == "42"

    def rated() -> bool:
        items = client.get("/api/catalog/public/programmes").json()["items"]
        return any(p["rating"]["raters"] == 1446 and p["rating"]["overall"] == "4.5" for p in items)

    deadline = time.monotonic() + 30
    while not rated():
        assert time.monotonic() < deadline, "the demo programme's public rating did not reach the catalogue"
        time.sleep(0.2)


def _assert_the_programme_was_published_once_by_the_demonstration_call(client: httpx.Client) -> None:
    martins, liga = _login(client, "martins"), _login(client, "liga")
    calls = client.get("/api/calls/calls", headers=martins).json()["items"]
    demonstration = [c for c in calls if c["code"] == "DEMO-2025"]
    assert len(demonstration) == 1 and "I4" not in [c["code"] for c in demonstration[0]["institution_criteria"]]
    offers = client.get(f"/api/calls/calls/{demonstration[0]['id']}/offers", headers=martins).json()["items"]
    assert [o["state"] for o in offers] == ["approved"]
    agreement = client.get(f"/api/calls/offers/{offers[0]['id']}/agreement", headers=liga).json()
    assert agreement["signed"] and agreement["signed_at"].startswith("2025-07-30")
    for programme_id in agreement["programme_ids"]:
        public = client.get(f"/api/catalog/public/programmes/{programme_id}").json()
        assert len(public["groups"]) == 1


def test_the_readme_try_it_commands_work_as_printed(stack: Stack) -> None:
    seed_demo(stack)
    script = _try_it_commands().replace("localhost:8000", f"127.0.0.1:{stack.base_port}")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"error"' not in done.stdout, done.stdout
    assert '"personal_code"' in done.stdout or '"id"' in done.stdout, done.stdout
