"""What a scenario run has done, kept in its var dir so that a run stopped anywhere (Ctrl-C, a kill, a crash)
continues where it was: the phases and steps finished, the persons each step has done, and what the setup made.

Written whole to a temporary file and renamed over the old one, so that a kill leaves the previous state, never half
of one. A person done but not yet recorded is done again by the next run: every step checks what the platform
already has (a 409 that says it exists is done), so nothing is doubled; the state only saves the work of asking.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FILE = "scenario-state.json"
VERSION = 1


class StateError(Exception):
    """The var dir holds another scenario's state."""


def ranges(numbers: Iterable[int]) -> list[list[int]]:
    """Sorted numbers as [first, last] runs: a step's done persons are mostly consecutive."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return runs


def numbers(runs: Iterable[Iterable[int]]) -> set[int]:
    found: set[int] = set()
    for first, last in runs:
        found.update(range(first, last + 1))
    return found


@dataclass
class State:
    path: Path
    scale: float
    finished: list[str] = field(default_factory=list)
    """Phases and steps done, in order."""
    begun: list[str] = field(default_factory=list)
    """Steps started: a step begun before checks what the platform has for each person it has not recorded."""
    persons: dict[str, set[int]] = field(default_factory=dict)
    """Step -> the persons it has done."""
    made: dict[str, Any] = field(default_factory=dict)
    """What the setup made or found (institution, programme, groups) and what the platform chose (TĀLĀK's starters)."""
    dirty: bool = False

    @classmethod
    def open(cls, var_dir: Path, scale: float) -> State:
        """The var dir's state, or a new one; refused when it is of another scale."""
        path = var_dir / FILE
        if not path.exists():
            return cls(path, scale)
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != VERSION or raw.get("scale") != scale:
            raise StateError(
                f"{var_dir} holds a scenario at scale {raw.get('scale')} (state version {raw.get('version')}): "
                f"run it at that scale, or give another --var-dir"
            )
        persons = {step: numbers(runs) for step, runs in raw.get("persons", {}).items()}
        return cls(path, scale, raw.get("finished", []), raw.get("begun", []), persons, raw.get("made", {}))

    def is_done(self, name: str) -> bool:
        return name in self.finished

    def was_begun(self, step: str) -> bool:
        return step in self.begun

    def begin(self, step: str) -> None:
        if step not in self.begun:
            self.begun.append(step)
            self.save()

    def finish(self, name: str) -> None:
        if name not in self.finished:
            self.finished.append(name)
        self.save()

    def done_by(self, step: str) -> set[int]:
        return self.persons.setdefault(step, set())

    def person_done(self, step: str, person: int) -> None:
        self.done_by(step).add(person)
        self.dirty = True

    def keep(self, key: str, value: Any) -> None:
        self.made[key] = value
        self.save()

    def save(self) -> None:
        body = {
            "version": VERSION,
            "scale": self.scale,
            "finished": self.finished,
            "begun": self.begun,
            "persons": {step: ranges(done) for step, done in self.persons.items()},
            "made": self.made,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)
        self.dirty = False

    def forget(self, phase: str) -> None:
        """As if nothing of `phase` had been recorded but that its steps began: what a run killed at the end of the
        phase, before it wrote its state, leaves behind."""
        mine = [n for n in self.finished if n == phase or n.startswith(f"{phase}/")]
        self.finished = [n for n in self.finished if n not in mine]
        self.persons = {step: done for step, done in self.persons.items() if not step.startswith(f"{phase}/")}
        self.save()
