"""A parent-death watchdog: a server the test run started stops when the test run dies.

Fixture teardown and ``atexit`` stop the local servers of :mod:`prasmes_testing.servers`
on every ordinary exit, but not when the process that started them is killed hard (SIGKILL, a
crash, ``os._exit``): PostgreSQL and Kafka run in sessions of their own and would stay up. So
every server is accompanied by a watchdog, a tiny Python process (standard library only, started
as ``python -I -S watchdog.py``, a few milliseconds) that

* notices when its *owner* (the process that started the server) is gone: the owner holds the
  only write end of a pipe that is the watchdog's stdin, so the kernel closes it however the
  owner dies (EOF); on Linux a pidfd of the owner (``os.pidfd_open``) says the same at once, and
  elsewhere ``os.getppid()`` changing does, polled (the watchdog is the owner's child);
* then stops the server as its owner would have: the given signals in turn (SIGTERM for Kafka;
  SIGINT, PostgreSQL's *fast* shutdown, then SIGQUIT for PostgreSQL), each with a grace period,
  then SIGKILL, to the server's whole process group when it leads one, and removes the data
  directories its owner would have removed;
* exits quietly when the server exits while the owner lives (the owner stopped it) or when the
  owner disarms it, which the owner does after every normal stop: no watchdog outlives its
  server. Signals go through a pidfd where there is one, so no recycled PID is ever hit.

Why not ``prctl(PR_SET_PDEATHSIG)`` in a ``preexec_fn``: the signal fires when the *thread* that
forked exits, and servers are started from whatever thread a fixture or ``_run_coroutine`` runs
in; the setting is cleared when credentials change (``runuser -u postgres``) and it is tied to
the direct parent, while the PostgreSQL postmaster is a grandchild whose parent, ``pg_ctl``,
exits as soon as the server is up (the postmaster would be signalled at once); it can send one
signal only, with no escalation and no removal of the data directory; and it is Linux-only. A
watchdog process has none of these problems, and the owner's start and stop stay as they were.

The same file is the owner-side handle (:class:`Watchdog`) and the watchdog's program
(``python -m prasmes_testing.watchdog --help``). Control lines on the pipe:
``pid <n>`` names the server once it is known, ``disarm`` ends the watchdog.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["Watchdog"]

_POLL = 0.25  # seconds between checks where no pidfd can be waited on
_CONTROL = 0  # the watchdog's stdin: the read end of the owner's pipe


# --------------------------------------------------------------------------- owner side


class Watchdog:
    """The owner's handle on one watchdog process; see the module docstring."""

    def __init__(self, process: subprocess.Popen[bytes], control: int) -> None:
        self._process = process
        self._control: int | None = control
        self._owner = os.getpid()

    @classmethod
    def spawn(
        cls,
        *,
        pid: int | None = None,
        pidfile: Path | None = None,
        signals: Sequence[signal.Signals] = (signal.SIGTERM,),
        grace: float = 10.0,
        kill_group: bool = False,
        remove: Sequence[Path] = (),
    ) -> Watchdog:
        """Start a watchdog owned by this process.

        ``pid`` is the server (or send it later with :meth:`watch`); ``pidfile`` is where its PID
        is read from if the owner dies before naming it (its first line, as PostgreSQL writes
        ``postmaster.pid``). When the owner dies the server gets ``signals`` in turn, ``grace``
        seconds each, then SIGKILL (to its process group with ``kill_group``, if it leads one);
        then the ``remove`` directories are deleted.
        """
        argv = [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "--owner", str(os.getpid())]
        argv += ["--grace", str(grace), *(f"--signal={sig.name}" for sig in signals)]
        if pid is not None:
            argv += ["--pid", str(pid)]
        if pidfile is not None:
            argv += ["--pidfile", str(pidfile)]
        if kill_group:
            argv.append("--kill-group")
        argv += [f"--remove={path}" for path in remove]
        read_end, write_end = os.pipe()  # both non-inheritable: no other child keeps the pipe open
        try:
            process = subprocess.Popen(
                argv,
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                cwd="/",
                start_new_session=True,  # a terminal's Ctrl-C reaches the owner, not the watchdog
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        return cls(process, write_end)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def watch(self, pid: int) -> None:
        """Name the server: the watchdog now also exits when it does."""
        self._send(f"pid {pid}\n")

    def disarm(self, timeout: float = 5.0) -> None:
        """End the watchdog without touching the server (the owner has dealt with it)."""
        control, self._control = self._control, None
        if control is None:
            return
        if os.getpid() != self._owner:  # a forked copy of the owner: only drop its copy of the pipe
            os.close(control)
            return
        with contextlib.suppress(BrokenPipeError):  # it has exited already with its server
            os.write(control, b"disarm\n")
        os.close(control)
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _send(self, line: str) -> None:
        if self._control is not None and os.getpid() == self._owner:
            with contextlib.suppress(BrokenPipeError):
                os.write(self._control, line.encode())


# --------------------------------------------------------------------------- watchdog side


def _pidfd(pid: int) -> int | None:
    """A pidfd for ``pid``, or None where the platform or kernel has none."""
    if sys.platform == "linux":
        try:
            return os.pidfd_open(pid)
        except OSError:  # ENOSYS on kernels before 5.3; ESRCH when it is gone already
            return None
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:  # a zombie answers kill(0) but is dead; /proc tells, where there is one
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return not Path("/proc/self/stat").exists()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


class _Process:
    """A process watched through a pidfd where there is one, else by polling its PID."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.fd = _pidfd(pid)

    def exited(self) -> bool:
        if self.fd is not None:
            return bool(select.select([self.fd], [], [], 0)[0])
        return not _pid_alive(self.pid)

    def wait(self, timeout: float) -> bool:
        """True once it has exited, False if it is still running after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not self.exited():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self.fd is not None:
                select.select([self.fd], [], [], remaining)
            else:
                time.sleep(min(_POLL, remaining))
        return True

    def send(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            if sys.platform == "linux" and self.fd is not None:
                signal.pidfd_send_signal(self.fd, sig)
            else:
                os.kill(self.pid, sig)


def _log(message: str) -> None:
    with contextlib.suppress(OSError):
        print(f"prasmes watchdog {os.getpid()}: {message}", file=sys.stderr, flush=True)


def _from_pidfile(pidfile: Path, wait: float) -> _Process | None:
    """The process named on the first line of ``pidfile``, waiting ``wait`` s for the file."""
    deadline = time.monotonic() + wait
    while True:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return _Process(int(pidfile.read_text().split()[0]))
        if time.monotonic() >= deadline or not pidfile.parent.is_dir():
            return None
        time.sleep(_POLL)


def _stop(server: _Process, signals: Sequence[signal.Signals], grace: float, kill_group: bool) -> None:
    group: int | None = None
    if kill_group:
        with contextlib.suppress(OSError):
            if os.getpgid(server.pid) == server.pid:  # only a group the server leads, never ours
                group = server.pid
    for sig in signals:
        _log(f"stopping server {server.pid} with {sig.name}")
        server.send(sig)
        if server.wait(grace):
            return
    _log(f"server {server.pid} still running after {grace}s: SIGKILL")
    if group is not None and not server.exited():  # a live leader keeps the group ID taken
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    server.send(signal.SIGKILL)
    server.wait(grace)


def _remove(path: Path) -> None:
    for _ in range(20):  # a last child of the server may still be writing
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.1)
    _log(f"could not remove {path}")


def _watch(args: argparse.Namespace) -> int:
    """Wait for the owner to go (then clean up) or the server to exit or a disarm (then exit)."""
    owner_pid: int = args.owner
    owner = _Process(owner_pid)
    server = _Process(args.pid) if args.pid is not None else None
    pending = b""
    owner_gone = os.getppid() != owner_pid  # checked after the pidfd opened: it is our parent's
    while not owner_gone:
        waitables = [_CONTROL, *(p.fd for p in (owner, server) if p is not None and p.fd is not None)]
        polled = owner.fd is None or (server is not None and server.fd is None)
        ready = select.select(waitables, [], [], _POLL if polled else None)[0]
        if _CONTROL in ready:
            chunk = os.read(_CONTROL, 4096)
            if not chunk:  # every write end is closed: the owner is gone
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                command, _, argument = line.decode().partition(" ")
                if command == "disarm":
                    return 0
                if command == "pid":
                    server = _Process(int(argument))
        owner_gone = os.getppid() != owner_pid or owner.exited()
        if not owner_gone and server is not None and server.exited():
            return 0  # the owner stopped its server (or it died): the owner is in charge
    _log(f"owner {owner_pid} is gone")
    if server is None and args.pidfile is not None:
        server = _from_pidfile(args.pidfile, wait=args.grace)
    if server is not None and not server.exited():
        _stop(server, args.signal or [signal.SIGTERM], args.grace, args.kill_group)
    for path in args.remove:
        _remove(path)
    return 0


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m prasmes_testing.watchdog",
        description="Stop a server when the process that started it dies (stdin: the owner's pipe).",
    )
    parser.add_argument("--owner", type=int, required=True, help="PID of the owner (the parent)")
    parser.add_argument("--pid", type=int, help="PID of the server")
    parser.add_argument("--pidfile", type=Path, help="read the server's PID here if --pid is unknown")
    parser.add_argument("--signal", type=lambda name: signal.Signals[name], action="append", default=[])
    parser.add_argument("--grace", type=float, default=10.0, help="seconds to wait after each signal")
    parser.add_argument("--kill-group", action="store_true", help="SIGKILL the server's process group")
    parser.add_argument("--remove", type=Path, action="append", default=[], help="directory to delete")
    args = parser.parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    try:
        return _watch(args)
    except Exception as exc:
        _log(f"failed: {exc!r}")
        return 1


if __name__ == "__main__":
    sys.exit(_main())
