"""Sampling profiles of running stack processes with py-spy, while wrk drives a load.

For each target process two recordings follow each other under the same load: `-f raw` (collapsed stacks with
line numbers: the top costs are computed from them) and `-f flamegraph` (the SVG to look at). py-spy samples at
200 Hz. Its own idle detection does not work on this machine: threads blocked on a lock or a queue (anyio's and
the executor's worker threads in `Condition.wait`, aiosqlite's connection threads waiting for their next
statement) are sampled as if they ran; with `--native` (used here) it leaves out most of them, and native code
shows: SQLite's (libsqlite3), the event loop's (uvloop), the interpreter's. `top_costs` also drops the samples
whose innermost Python frame is such a wait (`IDLE_FUNCTIONS`, on a line that blocks: `.get(`, `.wait(`,
`.acquire(`, ...) with only native frames below it, and gives the shares of the rest; the flame graphs still show
those stacks (ignore towers ending under `Condition.wait` or aiosqlite's `_connection_worker_thread` at its
`tx.get()`). Native frames without a symbol count as `[native] (library)`. Beside each profile: the CPU the
process used in the raw window, in % of one core. py-spy pauses the process for each sample: figures
measured under a profile are not comparable with the others, and `bench.hotpath` profiles only after measuring.
"""

from __future__ import annotations

import linecache
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench import procs

RATE = 200
TOP = 15
IDLE_FUNCTIONS = frozenset(
    {"Condition.wait", "Event.wait", "Semaphore.acquire", "Thread.join", "_worker", "_connection_worker_thread"}
)
"""Innermost frames that are a thread waiting, when on a BLOCKING line."""
BLOCKING = re.compile(r"\.(get|wait|acquire|join|select|poll)\(")
OUTER_FILES = frozenset(
    {
        "<frozen runpy>",
        "click/core.py",
        "uvicorn/__main__.py",
        "uvicorn/main.py",
        "uvicorn/server.py",
        "uvicorn/_compat.py",
        "asyncio/runners.py",
        "threading.py",
    }
)
"""Frames under which every sample of a thread sits (start-up, the server's main loop, a thread's bootstrap): left
out of the cumulative top, where they would only say 100 %."""
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is not installed: `.venv/bin/uv pip install py-spy` (or `make deps-bench`)")
    return found


def _record(pid: int, seconds: float, out: Path, fmt: str) -> subprocess.Popen[bytes]:
    command = [py_spy(), "record", "-p", str(pid), "-d", f"{seconds:g}", "-r", str(RATE), "-f", fmt, "-o", str(out)]
    command.append("--native")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(processes: Mapping[str, subprocess.Popen[bytes]], seconds: float) -> dict[str, str]:
    problems = {}
    for name, process in processes.items():
        try:
            _, stderr = process.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
        if process.returncode != 0:
            problems[name] = stderr.decode(errors="replace")[-500:]
    return problems


def profile_under_load(
    load: Callable[[float], dict[str, Any]],
    targets: Mapping[str, int],
    seconds: float,
    out_dir: Path,
    prefix: str,
    settle: float = 1.0,
) -> dict[str, Any]:
    """Run `load(duration)` in a thread, and meanwhile profile every target process: first raw, then the flame
    graph, `seconds` each, all targets at once. Returns the load's report and, per target, the top costs and the
    SVG's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}
    loader = threading.Thread(target=lambda: result.update(load=load(2 * seconds + 2 * settle + 4)))
    loader.start()
    threading.Event().wait(settle)
    raw = {name: out_dir / f"{prefix}-{name}.txt" for name in targets}
    before = procs.cpu_snapshot(targets)
    problems = _wait({n: _record(pid, seconds, raw[n], "raw") for n, pid in targets.items()}, seconds)
    after = procs.cpu_snapshot(targets)
    svg = {name: out_dir / f"{prefix}-{name}.svg" for name in targets}
    problems |= _wait({n: _record(pid, seconds, svg[n], "flamegraph") for n, pid in targets.items()}, seconds)
    loader.join()
    profiles = {}
    for name in targets:
        profiles[name] = {
            "cpu_percent_of_one_core": round(100 * (after[name] - before[name]) / seconds, 1),
            "flamegraph": str(svg[name]) if svg[name].exists() else None,
            "raw": str(raw[name]) if raw[name].exists() else None,
            **(top_costs(read_collapsed(raw[name])) if raw[name].exists() else {}),
        }
        if name in problems:
            profiles[name]["py_spy_error"] = problems[name]
    return {"seconds_each": seconds, "rate_hz": RATE, "load": result.get("load"), "profiles": profiles}


def read_collapsed(path: Path) -> Counter[tuple[str, ...]]:
    """py-spy's raw output: `frame;frame;...;leaf COUNT` per line, outermost frame first."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return stacks


def _parts(frame: str) -> tuple[str, str, int | None]:
    """`function (path/file.py:LINE)` -> (function, path, line)."""
    match = _FRAME.match(frame)
    if match is None:
        return frame, "", None
    line = match["line"]
    return match["function"], match["file"], int(line) if line else None


def _is_native(frame: str) -> bool:
    _, path, _ = _parts(frame)
    return not (path.endswith(".py") or path.startswith("<frozen"))


def _function(frame: str) -> str:
    """The frame without its line number: one entry per function (native code without a symbol: one per library)."""
    function, path, _ = _parts(frame)
    if function.startswith("0x"):
        function = "[native]"
    return f"{function} ({path})" if path else function


def _source_line(path: str, line: int) -> str:
    """The source line py-spy names (its paths are relative to an entry of sys.path, or absolute)."""
    for base in ("", *sys.path):
        candidate = Path(base) / path if base else Path(path)
        if candidate.is_file():
            return linecache.getline(str(candidate), line)
    return ""


def is_idle(stack: tuple[str, ...]) -> bool:
    """A thread waiting: its innermost Python frame is a wait (IDLE_FUNCTIONS on a BLOCKING line) and only native
    frames are below it."""
    for frame in reversed(stack):
        if _is_native(frame):
            continue
        function, path, line = _parts(frame)
        if function not in IDLE_FUNCTIONS or line is None:
            return False
        return bool(BLOCKING.search(_source_line(path, line)))
    return False


def _package(frame: str) -> str:
    """`function (path/to/file.py)` -> the first part of the path: the package (or the module's file)."""
    _, where, _ = _parts(frame)
    if "site-packages/" in where:
        where = where.rsplit("site-packages/", 1)[1]
    if "/lib/python3" in where:
        where = where.rsplit("/lib/python3", 1)[1].split("/", 1)[-1]
    first = where.strip("/").split("/", 1)[0]
    return first.removesuffix(".py") or where


WAITS = {
    "event loop waiting (epoll)": frozenset({"epoll_pwait", "epoll_wait"}),
    "thread waiting (lock, condition, queue)": frozenset(
        {
            "pthread_cond_wait",
            "pthread_cond_timedwait",
            "pthread_cond_clockwait",
            "sem_wait",
            "sem_timedwait",
            "sem_clockwait",
            "__futex_abstimed_wait_common",
            "do_futex_wait",
            "futex_wait",
        }
    ),
    "sleeping (clock_nanosleep)": frozenset({"clock_nanosleep", "nanosleep", "__clock_nanosleep", "usleep"}),
}
"""Innermost native functions of a thread that is off the CPU. Under SQLite (sqlite3_step), a sleep is SQLite's
busy handler waiting for the write lock."""
SQLITE_BUSY = "SQLite busy handler: waiting for the write lock (clock_nanosleep under sqlite3_step)"


def _wait_kind(stack: tuple[str, ...]) -> str | None:
    if is_idle(stack):
        return "thread waiting (lock, condition, queue)"
    leaf = _parts(stack[-1])[0]
    for kind, functions in WAITS.items():
        if leaf in functions:
            if kind.startswith("sleeping") and any("libsqlite3" in _parts(f)[1] for f in stack):
                return SQLITE_BUSY
            return kind
    return None


def top_costs(stacks: Counter[tuple[str, ...]], top: int = TOP) -> dict[str, Any]:
    """Shares of the CPU samples, in %: samples of a thread off the CPU (`_wait_kind`: the event loop in epoll, a
    thread on a lock or a queue, SQLite's busy handler sleeping) are counted apart, under `waiting`.

    * `self`: the innermost frame, native code included (a system call, SQLite, the interpreter);
    * `self_python`: the innermost Python frame, native code charged to the Python function that called it;
    * `cumulative`: samples where a Python function is on the stack (once per sample however often it recurs;
      without the OUTER_FILES frames), and `SQLite (native)` for every sample inside libsqlite3;
    * `self_by_package`: `self_python` per package (the first part of the module's path)."""
    waiting: Counter[str] = Counter()
    own: Counter[str] = Counter()
    own_python: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    for stack, count in stacks.items():
        if not stack:
            continue
        kind = _wait_kind(stack)
        if kind is not None:
            waiting[kind] += count
            continue
        own[_function(stack[-1])] += count
        python = [f for f in stack if not _is_native(f)]
        innermost = python[-1] if python else stack[-1]
        own_python[_function(innermost)] += count
        packages[_package(innermost)] += count
        for function in {_function(f) for f in python if _parts(f)[1] not in OUTER_FILES}:
            cumulative[function] += count
        if any("libsqlite3" in _parts(f)[1] for f in stack):
            cumulative["SQLite (native, libsqlite3)"] += count
    total = sum(own.values())
    everything = total + sum(waiting.values())

    def share(counter: Counter[str], n: int) -> list[dict[str, Any]]:
        return [
            {"function": frame, "samples": count, "percent": round(100 * count / total, 1)}
            for frame, count in counter.most_common(n)
        ]

    return {
        "samples": total,
        "waiting": {
            kind: {"samples": n, "percent_of_all_samples": round(100 * n / everything, 1)}
            for kind, n in waiting.most_common()
        },
        "self": share(own, top) if total else [],
        "self_python": share(own_python, top) if total else [],
        "cumulative": share(cumulative, top) if total else [],
        "self_by_package": share(packages, top) if total else [],
    }


def summary_lines(name: str, profile: Mapping[str, Any], top: int = 8) -> list[str]:
    """A few lines for the printed table."""
    lines = [
        f"  {name}: {profile.get('samples', 0)} CPU samples, "
        f"{profile.get('cpu_percent_of_one_core')} % of a core; {profile.get('flamegraph')}"
    ]
    waiting = "; ".join(f"{k}: {v['percent_of_all_samples']}%" for k, v in profile.get("waiting", {}).items())
    lines.append(f"    waiting (of all samples): {waiting}")
    for what in ("self", "self_python", "cumulative", "self_by_package"):
        items = profile.get(what, [])[:top]
        lines.append(f"    {what}: " + "; ".join(f"{i['percent']}% {i['function']}" for i in items))
    return lines
