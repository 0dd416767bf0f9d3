"""The learner's surveys through the API: invited from accounts' study events, answered once, reminded and closed
by the clock; every refusal a clear 4xx."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.messaging import outbox

from .conftest import NOW, World

COMPLETE: dict[str, Any] = {
    "knowledge_skills": 5,
    "content_quality": 4,
    "teacher": 5,
    "learning_process": 3,
    "description_matched": False,
    "prior_knowledge_right": True,
    "equipment_right": False,
    "digcomp_after": 5,
    "improvement": "Vairāk prakses; Mac netika atbalstīts.",
}


async def _outbox(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    async with world.svc.app.state.runtime.context.database.session() as session:
        rows = await session.execute(
            sa.select(outbox.c.event_type, outbox.c.topic, outbox.c.data).order_by(outbox.c.id)
        )
        return [(t, topic, json.loads(d)) for t, topic, d in rows]


async def test_completed_studies_invite_to_one_survey_per_enrolment(world: World) -> None:
    enrolment = uuid.uuid4()
    survey_id = await world.ended("completed", enrolment_id=enrolment)
    await world.ended("completed", enrolment_id=enrolment)  # accounts' event again: still one survey
    page = (await world.client.get("/surveys/mine", headers=world.learner())).json()
    assert [s["id"] for s in page["items"]] == [str(survey_id)] and page["total"] == 1
    assert page["items"][0]["closes_at"].startswith((NOW + timedelta(days=30)).date().isoformat())
    (invited,) = [e for e in await _outbox(world) if e[0].endswith("SurveyInvited.v1")]
    assert invited[1] == "surveys.invitations"
    assert invited[2]["learner_id"] == "learner-1" and invited[2]["kind"] == "completion"


async def test_the_questionnaire_comes_in_the_requested_language(world: World) -> None:
    survey_id = await world.ended("discontinued")
    lv = (await world.client.get(f"/surveys/{survey_id}", headers=world.learner())).json()
    en = (await world.client.get(f"/surveys/{survey_id}?lang=en", headers=world.learner())).json()
    assert lv["questionnaire"]["questions"][0]["text"] == "Kāpēc pārtraucāt mācības?"
    assert en["questionnaire"]["questions"][0]["text"] == "Why did you discontinue your studies?"
    assert len(en["questionnaire"]["questions"][0]["options"]) == 11
    bad = await world.client.get(f"/surveys/{survey_id}?lang=de", headers=world.learner())
    unknown = await world.client.get(f"/surveys/{survey_id}?language=en", headers=world.learner())
    assert bad.status_code == 422 and unknown.status_code == 422


async def test_a_draft_is_resumed_then_submitted_once_and_the_event_holds_no_free_text(world: World) -> None:
    survey_id = await world.ended("completed")
    url, me = f"/surveys/{survey_id}", world.learner()
    saved = await world.client.put(f"{url}/draft", json={"answers": {"teacher": 4}}, headers=me)
    assert saved.status_code == 200, saved.text
    resumed = (await world.client.get(url, headers=me)).json()
    assert resumed["answers"] == {"teacher": 4} and resumed["status"] == "open"
    submitted = await world.client.post(f"{url}/submission", json={"answers": COMPLETE}, headers=me)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    again = await world.client.post(f"{url}/submission", json={"answers": COMPLETE | {"teacher": 1}}, headers=me)
    draft = await world.client.put(f"{url}/draft", json={"answers": {"teacher": 1}}, headers=me)
    assert again.status_code == 409 and draft.status_code == 409
    assert "cannot be changed" in again.json()["message"]
    assert (await world.client.get(url, headers=me)).json()["answers"]["teacher"] == 5
    (answered,) = [e for e in await _outbox(world) if e[0].endswith("SurveyAnswered.v1")]
    assert answered[1] == "surveys.answers"
    assert answered[2]["stars"] == {"knowledge_skills": 5, "content_quality": 4, "teacher": 5, "learning_process": 3}
    text = json.dumps(answered[2])
    assert "prakses" not in text and "learner-1" not in text and str(survey_id) not in text


async def test_someone_elses_survey_is_not_found(world: World) -> None:
    survey_id = await world.ended("completed", learner="learner-1")
    other = world.learner("learner-2")
    for response in (
        await world.client.get(f"/surveys/{survey_id}", headers=other),
        await world.client.put(f"/surveys/{survey_id}/draft", json={"answers": {}}, headers=other),
        await world.client.post(f"/surveys/{survey_id}/submission", json={"answers": COMPLETE}, headers=other),
        await world.client.get(f"/surveys/{uuid.uuid4()}", headers=other),
    ):
        assert response.status_code == 404
    assert (await world.client.get("/surveys/mine", headers=other)).json()["total"] == 0
    staff = world.svc.as_("liga", "provider_admin")
    assert (await world.client.get(f"/surveys/{survey_id}", headers=staff)).status_code == 403


async def test_bad_answers_are_422s_naming_the_question(world: World) -> None:
    survey_id = await world.ended("discontinued")
    url, me = f"/surveys/{survey_id}", world.learner()
    cases = [
        ({"reasons": ["weather"]}, "answers.reasons", "unknown_option"),
        ({"improvement": "x" * 2001}, "answers.improvement", "string_too_long"),
        ({"colour": 3}, "answers.colour", "unknown_question"),
    ]
    for answers, field, rule in cases:
        response = await world.client.put(f"{url}/draft", json={"answers": answers}, headers=me)
        assert response.status_code == 422
        assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [(field, rule)]
    completed = await world.ended("completed")
    stars = await world.client.post(
        f"/surveys/{completed}/submission", json={"answers": COMPLETE | {"teacher": 6}}, headers=me
    )
    assert stars.status_code == 422 and stars.json()["errors"][0]["rule"] == "stars_range"
    extra = await world.client.put(f"{url}/draft", json={"answers": {}, "learner_id": "x"}, headers=me)
    assert extra.status_code == 422


async def test_the_clock_reminds_once_and_closes_and_a_late_answer_names_the_closing_time(world: World) -> None:
    survey_id = await world.ended("completed")
    url, me = f"/surveys/{survey_id}", world.learner()
    world.clock.at = NOW + timedelta(days=7)
    await world.tick()
    await world.tick()
    reminded = [e for e in await _outbox(world) if e[0].endswith("SurveyReminded.v1")]
    assert len(reminded) == 1 and reminded[0][1] == "surveys.invitations"
    world.clock.at = NOW + timedelta(days=30, minutes=1)
    late = await world.client.post(f"{url}/submission", json={"answers": COMPLETE}, headers=me)
    assert late.status_code == 409
    closes_at = (NOW + timedelta(days=30)).isoformat()
    assert closes_at in late.json()["message"]
    await world.tick()
    assert (await world.client.get(url, headers=me)).json()["status"] == "closed"
