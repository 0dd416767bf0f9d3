"""The seed scenario's plan and the figures it must end with: the seed's at scale 1, consistent at every scale."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prasmes_devtools.scenario.plan import (
    GROUP_CAPACITY,
    KINDS,
    PROJECTS,
    Season,
    answerers,
    compare,
    expected,
    flatten,
    plan,
    scaled,
    studies,
    talak_grants,
)
from prasmes_devtools.scenario.state import State, StateError, numbers, ranges
from surveys.domain.seed import (
    KNOWLEDGE_SKILLS,
    SEED_REASONS,
    counts,
    seed_completion_answers,
    seed_discontinuation_answers,
)

SCALES = (0.001, 0.005, 0.01, 0.05, 0.1, 0.37, 1, 2.5)


def _answers(scale: float) -> dict[str, list[dict[str, Any]]]:
    """Surveys' seed answers for the plan, as `GET /dev/seed-answers` serves them."""
    wanted = plan(scale).answers
    return {
        "completion": list(seed_completion_answers(wanted["completion"])),
        "discontinuation": list(seed_discontinuation_answers(wanted["discontinuation"])),
    }


def test_at_scale_1_every_figure_is_the_seeds() -> None:
    e = expected(1, _answers(1))
    assert e["accounts_opened"] == 28063 and e["applications_total"] == 25429
    imk = {k.removeprefix("projects.IMK."): v for k, v in e.items() if k.startswith("projects.IMK.")}
    assert imk == {
        "applicants": 7574, "applications_submitted": 7580, "granted": 7574, "rejected": 6, "withdrawn": 0,
        "lapsed": 0, "pending": 0, "started": 5360, "discontinued": 217, "completed": 2228,
        "rounds.DEMO-2025.applicants": 2091, "rounds.DEMO-2025.granted": 2091,
        "rounds.DEMO-2025.started": 1531, "rounds.DEMO-2025.completed": 1411,
        "rounds.IMK-4.applicants": 5483, "rounds.IMK-4.granted": 5483,
        "rounds.IMK-4.started": 3829, "rounds.IMK-4.completed": 817,
    }  # fmt: skip
    assert [e[f"projects.VARAM.{k}"] for k in ("applicants", "started", "discontinued", "completed")] == [
        9153, 4091, 305, 2639,
    ]  # fmt: skip
    assert [e[f"projects.TALAK.{k}"] for k in ("applicants", "started", "discontinued", "granted")] == [
        418, 276, 34, 416,
    ]  # fmt: skip
    assert [e[f"projects.4242.{k}"] for k in ("applicants", "applications_submitted", "granted", "rejected")] == [
        8284, 8302, 7031, 561,
    ]  # fmt: skip
    assert e["projects.4242.pending"] == 710
    assert (e["surveys.answers.completion"], e["surveys.answers.discontinuation"]) == (1446, 69)
    knowledge = [e[f"surveys.stars.knowledge_skills.{s}"] for s in range(1, 6)]
    assert knowledge == counts(KNOWLEDGE_SKILLS, 1446)
    assert {r: e[f"surveys.reasons.{r}"] for r in SEED_REASONS} == {
        r: round(Decimal(share * 69) / 100) for r, share in SEED_REASONS.items()
    }
    assert e["surveys.mean_rating.knowledge_skills"] == Decimal("4.4")


@pytest.mark.parametrize("scale", SCALES)
def test_every_breakdown_is_consistent_at_every_scale(scale: float) -> None:
    e = expected(scale, _answers(scale))
    found = plan(scale)
    for project in PROJECTS:
        p = {k.removeprefix(f"projects.{project}."): v for k, v in e.items() if k.startswith(f"projects.{project}.")}
        rounds = {k.split(".")[1] for k in p if k.startswith("rounds.")}
        for figure in ("applicants", "granted", "started", "completed"):
            assert sum(p[f"rounds.{r}.{figure}"] for r in rounds) == p[figure]
        assert p["applicants"] <= p["applications_submitted"]
        assert p["applications_submitted"] == p["granted"] + p["rejected"] + p["pending"] + p["withdrawn"]
        assert p["granted"] >= p["started"] >= p["completed"] + p["discontinued"]
        for r in rounds:
            assert p[f"rounds.{r}.granted"] >= p[f"rounds.{r}.started"] >= p[f"rounds.{r}.completed"]
    assert e["applications_total"] == sum(e[f"projects.{p}.applicants"] for p in PROJECTS) <= e["accounts_opened"]
    for kind, ended in (("completion", "completed"), ("discontinuation", "discontinued")):
        assert 0 < e[f"surveys.answers.{kind}"] <= e[f"projects.IMK.{ended}"]
    assert sum(e[f"surveys.stars.teacher.{s}"] for s in range(1, 6)) == e["surveys.answers.completion"]
    assert found.cohort("talak").granted == min(found.cohort("talak").persons, talak_grants(scale))


@pytest.mark.parametrize("scale", (0.01, 1))
def test_the_studies_fill_each_seasons_groups_in_turn_and_the_answerers_ended_that_way(scale: float) -> None:
    found = plan(scale)
    talak = found.cohort("talak")
    every = studies(found, {"talak": list(talak.members[-talak.started :])})
    assert len(every) == sum(c.started for c in found.cohorts)
    for season in Season:
        places = [s.group for s in every if s.season is season]
        assert max(places, default=-1) + 1 == found.groups(season)
        assert all(places.count(g) <= GROUP_CAPACITY for g in set(places))
    ended = {s.person: s.outcome for s in every}
    chosen = answerers(found, every)
    assert {k: len(v) for k, v in chosen.items()} == found.answers
    assert all(ended[p] == "completed" for p in chosen["completion"])
    assert all(ended[p] == "discontinued" for p in chosen["discontinuation"])
    assert {s.person for s in every if s.project == "TALAK"} == set(talak.members[-talak.started :])


def test_counts_scale_half_up_and_never_to_nothing() -> None:
    assert [scaled(n, 0.01) for n in (0, 1, 49, 50, 150, 2091)] == [0, 1, 1, 1, 2, 21]
    assert scaled(5483, 1) == 5483
    with pytest.raises(ValueError):
        plan(0)


def _dashboard(**rounds: dict[str, int]) -> dict[str, Any]:
    surveys = {"answers": {}, "response_rate": {}, "mean_rating": {}, "stars": {}, "reasons": {}}
    project = {"project_code": "IMK", "figures": {"applicants": 2, "granted": 2}, "rounds": rounds}
    return {
        "accounts_opened": 3,
        "applications_total": 2,
        "projects": [project],
        "surveys": surveys,
        "surveys_by_project": {},
    }


def test_a_figure_the_plan_does_not_make_is_a_mismatch() -> None:
    found = flatten(_dashboard(**{"IMK-4": {"applicants": 1, "granted": 1}, "": {"applicants": 1, "granted": 1}}))
    want = {k: v for k, v in found.items() if ".rounds.(no call)." not in k} | {"projects.IMK.rounds.IMK-4.granted": 2}
    wrong = {m.path: (m.expected, m.found) for m in compare(want, found).mismatches}
    assert wrong == {
        "projects.IMK.rounds.IMK-4.granted": (2, 1),
        "projects.IMK.rounds.(no call).applicants": (0, 1),
        "projects.IMK.rounds.(no call).granted": (0, 1),
    }
    assert found["surveys.answers.completion"] == 0 and found["surveys.mean_rating.teacher"] is None
    assert set(KINDS) == {"completion", "discontinuation"}


def test_the_state_keeps_runs_of_persons_and_refuses_another_scale(tmp_path: Path) -> None:
    assert ranges([5, 1, 2, 3, 7, 6, 10]) == [[1, 3], [5, 7], [10, 10]]
    assert numbers(ranges({4, 8, 9})) == {4, 8, 9}
    state = State.open(tmp_path, 0.01)
    state.begin("round-1/apply")
    state.person_done("round-1/apply", 3)
    state.finish("round-1/apply")
    state.finish("round-1")
    again = State.open(tmp_path, 0.01)
    assert again.is_done("round-1") and again.done_by("round-1/apply") == {3}
    again.forget("round-1")
    forgotten = State.open(tmp_path, 0.01)
    assert not forgotten.is_done("round-1") and not forgotten.is_done("round-1/apply")
    assert forgotten.was_begun("round-1/apply") and forgotten.done_by("round-1/apply") == set()
    with pytest.raises(StateError):
        State.open(tmp_path, 1)
