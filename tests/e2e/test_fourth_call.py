"""The fourth call to education institutions (IMK-4) as its seed describes it, end to end through the gateway.

The gateway, catalog and calls run as processes (each service as its api and worker) on the embedded defaults and
on Kafka + PostgreSQL, driven over real HTTP with the development users' tokens (the gateway's dev login). IMK-4's
timeline lies in 2025, so calls runs on a clock set by configuration (`CLOCK_START`, dev mode only): it starts
inside the offer window and is restarted alone into the evaluation period and then into the decision phase. Catalog
and every token stay on real time.

Līga registers the Rīgas Datorikas mācību centrs (3360800001, which passes every rule of catalog's registers data)
and its three licensed professional-development programmes in catalog; Ilze approves it. Criterion I4 counts
programmes the platform saw delivered (accounts' `StudiesCompleted`): accounts is not part of this test, so that
past is put on the bus by hand, as accounts published it, before the offer is checked — two of the three
programmes each had a group of ten completers in an earlier round (2024). Mārtiņš seeds the call; Līga drafts the
offer in three steps with its documents; the checks name the one programme whose hours split differs from its
licensed curriculum; fixed, the offer is submitted. After the deadline a submission is refused naming it in Riga
time. Mārtiņš assigns Ilze, who records a finding per criterion; Mārtiņš (not the evaluator) approves, makes the
agreement and uploads its signed document; calls' `CooperationAgreementSigned` publishes the three programmes in the
public catalogue. The steps are story_support's, which test_seed_story tells too.
"""

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from prasmes_devtools.devstack import Stack
from prasmes_testing.events import events_on

from tests.e2e import story_support as story
from tests.e2e.leak_check import stack_bus
from tests.e2e.story_support import (
    ADMIN_EMAIL,
    AGREEMENT,
    CALLS,
    DECISION,
    EVALUATION,
    INSTITUTION_NAME,
    LICENCES,
    OFFER_WINDOW,
    RIGA,
    Users,
    login,
    ok,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["embedded", "kafka"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp(f"fourth-call-{request.param}")
    service_env = {"calls": {"CLOCK_START": OFFER_WINDOW.isoformat()}}
    names = ("gateway", "catalog", "calls")
    with story.running_stack(request, var_dir, request.param, names, "imk4", service_env) as stack:
        yield stack


async def test_the_fourth_call_from_offers_to_the_public_catalogue(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        (liga, _), (ilze, ilze_id), (martins, _) = [await login(client, u) for u in ("liga", "ilze", "martins")]
        users = Users(liga, ilze, ilze_id, martins)
        institution_id, location_id = await story.institution(client, liga, ilze)
        programmes = await story.programmes(client, liga, institution_id, location_id)
        await story.publish_history(stack, institution_id, programmes)
        (call,) = ok(await client.post(f"{CALLS}/calls/seed", headers=martins))
        assert (call["code"], call["phase"]) == ("IMK-4", "offers")  # calls' clock is in IMK-4's offer window
        offer_id = await story.offer_checked_fixed_and_submitted(stack, client, users, call["id"], programmes)
        story.restart_calls(stack, EVALUATION)
        await story.late_and_evaluated(client, users, offer_id)
        story.restart_calls(stack, DECISION)
        await story.approved_and_signed(client, users, offer_id, programmes)
        public = await story.public(stack, client, programmes)
    for licence, programme in programmes.items():
        shown = public[programme["id"]]
        assert shown["title"] == LICENCES[licence]["title"]
        assert (shown["institution"]["id"], shown["institution"]["name"]) == (institution_id, INSTITUTION_NAME)
        assert shown["cost_per_participant"] == programme["cost"]["per_participant"]
        assert datetime.fromisoformat(shown["published_at"]).astimezone(RIGA).date() == DECISION.date()  # calls' clock
    await _check_topics(stack, offer_id, {p["id"] for p in programmes.values()})


async def _check_topics(stack: Stack, offer_id: str, programme_ids: set[str]) -> None:
    """Calls' offer events in order, the agreement naming the programmes; the administrator's address in no log."""
    offers = [e for e in await events_on(stack_bus(stack), "calls.offers") if e.data.get("offer_id") == offer_id]
    assert [e.type.split(".")[3] for e in offers] == [
        "OfferSubmitted",
        "OfferEvaluated",
        "OfferApproved",
        "CooperationAgreementSigned",
    ]
    assert set(offers[-1].data["programme_ids"]) == programme_ids
    assert offers[-1].data["valid_until"] == AGREEMENT["valid_until"]
    for log in (stack.var_dir / "logs").glob("*.log"):
        assert ADMIN_EMAIL not in log.read_text(errors="replace"), log.name
