"""Run a Flashpoint worker as a child process: used by the demo, the end-to-end tests and benchmarks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


class WorkerError(RuntimeError):
    """The worker died or did not become ready."""


class WorkerProcess:
    """``python -m streams worker`` with ``FLASHPOINT_*`` overrides, logging to a file."""

    def __init__(
        self,
        env: dict[str, str],
        web_port: int,
        log_path: Path,
        loglevel: str = "info",
        command: list[str] | None = None,
    ) -> None:
        self.command = command
        self.web_port = web_port
        self.log_path = log_path
        self.env = {**os.environ, **env, "FLASHPOINT_WEB_PORT": str(web_port)}
        self.loglevel = loglevel
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        """Start the process (returns at once; see :meth:`wait_ready`)."""
        log = self.log_path.open("ab")
        command = self.command or [
            *(sys.executable, "-m", "streams", "worker"),
            *("--loglevel", self.loglevel, "--web-port", str(self.web_port)),
        ]
        self.process = subprocess.Popen(
            command,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def get(self, path: str) -> tuple[int, str]:
        """HTTP GET on the worker's web server: (status, body); (0, reason) when it does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}{path}", timeout=5) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            return 0, str(exc)

    def ready_state(self) -> dict[str, Any] | None:
        """The body of ``/ready`` (with its checks), or None while the server does not answer."""
        status, body = self.get("/ready")
        if status == 0:
            return None
        state: dict[str, Any] = json.loads(body)
        return state

    def wait_ready(self, timeout: float = 180.0) -> list[dict[str, Any]]:
        """Poll ``/ready`` until it says ready; return every distinct state seen on the way."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            state = self.ready_state()
            if state is not None and (not seen or seen[-1] != state):
                seen.append(state)
            if state is not None and state.get("ready"):
                return seen
            time.sleep(0.2)  # polling an HTTP endpoint of another process: no event to wait on
        raise WorkerError(
            f"worker not ready after {timeout:.0f} s; states seen {seen}; log tail:\n{self.log_tail()}"
        )

    def _check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise WorkerError(
                f"worker exited with code {self.process.returncode}; log tail:\n{self.log_tail()}"
            )

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait: the worker finishes its batch, commits and exits."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise WorkerError(f"worker did not exit within {timeout:.0f} s of SIGTERM") from None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no commit."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop_quietly(self) -> None:
        """Make sure the process is gone (for ``finally`` blocks)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the worker's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
