"""The seed scenario: a synthetic population driven through the gateway until the statistics dashboard shows the
seed's figures (DOMAIN.md, "Platform statistics") — 28 063 accounts; IMK 7 574 granted (2 091 + 5 483 by round),
6 rejected, 5 360 started, 217 discontinued, 2 228 completed; VARAM, TĀLĀK and 4242 likewise; 25 429 applications
in all; 1 446 completion and 69 discontinuation survey answers with the seed's stars and reasons.

    python -m prasmes_devtools.scenario [--scale S] [--var-dir D] [--concurrency N] [--stop-after PHASE]
    make scenario [SCALE=0.1]

Who does what is `plan.plan(scale)` and the figures it ends with `plan.expected(scale, answers)` (the rounding and
the cohorts are described there); at the end the tool reads `GET /api/statistics/dashboard` with an agency token,
prints every figure beside the expected one and exits with 1 when one differs.

**Its own stack.** The tool starts the platform (`devstack.Stack`: every service but notifications, on the embedded
bus, the gateway's rate limit lifted) in its own var dir (default `var/scenario-<scale>`), and everything goes
through the gateway: learners with tokens signed by the stack's identity key (one subject and one valid personal
code per person), Ilze, Mārtiņš and Līga with the dev login. The demo of `make run` is not seeded there (Anna's
account and application would be counted).

**The application rounds.** Statistics places an application in a round by its submission day in Riga, within a
call's learners' application period (`CallOpened.applications_open_on..applications_close_on`). IMK's two calls are
the two the platform has: calls' demonstration call DEMO-2025 (2-13 Jun 2025), which the setup replays anyway (its
signed agreement is what publishes the institution's programme in the catalogue), and the seeded fourth call IMK-4
(10-19 Sep 2025, `POST /api/calls/calls/seed`, opened before round 2 so that IMK's applications name its approved
learning needs from then on). Accounts stamps a submission with its own clock, which dev mode lets configuration
start anywhere (`CLOCK_START`, then at real speed): the tool restarts accounts alone into each phase, on 2 Jun 2025
09:00 for the accounts and round 1, on 10 Sep 2025 09:00 for round 2 and on 3 Nov 2025 09:00 for the studies (after
the groups' last days, so that every start and end may be recorded). A phase therefore has the days left in its
period (ten, nine) to finish in: the full size takes well under an hour. Applications to the other projects are in
round 1's phase too, outside any call of theirs. Catalog and calls run on a clock from 1 Aug 2025 (after the
demonstration's agreement, before the summer groups, which catalog schedules from its today only), surveys from
3 Nov 2025; statistics and the gateway on real time, so the dashboard "now" is after all of it. Nothing here needs a
date of the machine: every phase gives the platform the dates it expects, whenever it runs; a phase interrupted and
run again starts from its period's first morning again.

TĀLĀK allocates (`window_then_rank`): the setup closes its window on 30 Jun 2025 (agency admin, `PATCH
/funding-projects/TALAK`) and sets its budget to the seeded 250 000 EUR times the scale; round 2 allocates it, which
grants 416 of the 418 applicants at scale 1 (600 EUR each) and rejects 2 for the budget; its starters are the first
of the granted. A project whose budget cannot hold the plan's grants (a scale over 1) gets it raised.

**Resumption.** `scenario-state.json` in the var dir records the phases and steps done and, for a step over persons,
which persons it has done (written every 2 s and at every stop); Ctrl-C or a kill stops the stack and keeps it, and a
run with the same var dir starts the stack on the same databases and event log and goes on where it was. A person
in flight when it stopped is done again: a step that began in an earlier run first asks what the person has (their
applications, enrolments, surveys), a 409 that says the thing exists counts as done, and a person applies again
after a rejection only while the platform shows them the rejected application and no open one. `--stop-after PHASE`
stops cleanly after a phase (a rehearsal of an interruption).
"""
