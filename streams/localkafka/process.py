"""Operating-system processes for the local Kafka: spawn in the background, recognise, signal, reap.

A broker JVM is started in its own session (so a terminal's Ctrl-C does not reach it) and can be
tied to the caller's life (Linux ``PR_SET_PDEATHSIG``). A recorded pid is trusted only while
``/proc`` shows a live process whose command line still names the node's files, so a pid reused
by another program is never signalled. Log tails quote a failing process's output in errors.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

# Popen handles of the processes this interpreter started, so that their exit is reaped (no zombies).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def spawn_background(cmd: Sequence[str], *, output: Path, cwd: Path, die_with_parent: bool) -> int:
    """Start ``cmd`` in a session of its own, stdout and stderr appended to ``output``; its pid.

    ``die_with_parent`` makes it receive SIGTERM when the calling thread exits (Linux only).
    """
    with output.open("ab") as out:
        child = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent if die_with_parent and sys.platform == "linux" else None,  # noqa: PLW1509
        )
    _CHILDREN[child.pid] = child
    return child.pid


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when the process that started it dies (for test sessions)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def is_our_process(pid: int, marker: str) -> bool:
    """Whether ``pid`` is alive, not a zombie, and its command line mentions ``marker``.

    A child of this process is judged by its Popen handle. Otherwise ``/proc`` decides; an empty
    command line counts as alive: the kernel reports one between the moment ``exec`` passes the
    point of no return (when Popen returns) and the moment it has set up the new arguments.
    """
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    proc = Path("/proc") / str(pid)
    try:
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        stat = (proc / "stat").read_text()
    except OSError:
        return _pid_alive_portable(pid) and not Path("/proc").is_dir()
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X") and (not cmdline.strip() or marker in cmdline)


def _pid_alive_portable(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def java_processes_under(directory: str) -> list[int]:
    """Pids of live java processes whose command line mentions ``directory`` (stray check)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state in ("Z", "X") or not cmdline or not cmdline[0]:
            continue
        exe = os.path.basename(cmdline[0].decode(errors="replace"))
        if exe == "java" and any(directory in part.decode(errors="replace") for part in cmdline):
            found.append(int(entry.name))
    return found


def send_signal(pid: int, sig: int) -> None:
    """Send ``sig`` to ``pid``; a process that is already gone (or not ours to signal) is no error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def reap() -> None:
    """Collect the exit status of every child that has exited, so none lingers as a zombie."""
    for pid, child in list(_CHILDREN.items()):
        if child.poll() is not None:
            del _CHILDREN[pid]


def tail_text(lines: Sequence[str], count: int) -> str:
    """The last ``count`` lines, indented for quoting inside an error message."""
    return "\n".join(f"    {line}" for line in list(lines)[-count:])


def tail_file(path: Path, count: int = 25) -> str:
    """The last ``count`` lines of a log file, indented, or a note that it is missing or empty."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"    ({path} not found)"
    return tail_text(lines, count) if lines else f"    ({path} is empty)"
