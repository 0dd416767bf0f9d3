"""The seed scenario (`prasmes_devtools.scenario`) at a hundredth of the seed's size, end to end: its own stack of
processes on the embedded defaults, every request through the gateway. Interrupted after its first round of
applications and made to forget that it had done the accounts and the round (as a kill before it wrote its state
would), it runs again to the end without doubling anything: the dashboard it reads at the end shows every figure
`expected(scale)` gives (with surveys' own seed answers), figure by figure, and nothing else."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from prasmes_devtools.scenario import run as scenario
from prasmes_devtools.scenario.plan import Figures, expected, plan
from prasmes_devtools.scenario.state import State
from surveys.domain.seed import seed_completion_answers, seed_discontinuation_answers

pytestmark = pytest.mark.e2e
SCALE = 0.01


def _expected() -> Figures:
    """The figures at the scale, with surveys' own seed answers for the plan's answerers."""
    wanted = plan(SCALE).answers
    answers = {
        "completion": seed_completion_answers(wanted["completion"]),
        "discontinuation": seed_discontinuation_answers(wanted["discontinuation"]),
    }
    return expected(SCALE, answers)


def test_the_scenario_ends_with_its_figures_and_resumes_without_doubling(tmp_path: Path) -> None:
    options = scenario.Options(scale=SCALE, var_dir=tmp_path / "scenario", concurrency=8, check_seconds=120)
    stopped = scenario.run(replace(options, stop_after="round-1"))
    assert stopped.comparison is None
    state = State.open(options.var_dir, SCALE)
    assert state.is_done("round-1") and not state.is_done("round-2")
    state.forget("accounts")
    state.forget("round-1")

    report = scenario.run(options)
    assert report.comparison is not None  # it ran to the check

    want, found = _expected(), report.dashboard
    differing = {path: (value, found.get(path)) for path, value in want.items() if found.get(path) != value}
    assert differing == {}, "\n".join(f"{p}: expected {w}, dashboard {f}" for p, (w, f) in differing.items())
    unexpected = {p: v for p, v in found.items() if p not in want and v not in (0, None)}
    assert unexpected == {}
    assert want["projects.IMK.rounds.IMK-4.applicants"] == 56 and want["accounts_opened"] == 282
    assert want["surveys.mean_rating.knowledge_skills"] == Decimal("4.5")
