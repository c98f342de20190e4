"""The portal in a server process of its own, started with the README's production command.

    with PortalProcess(tmp_path, PORTAIL_TRUSTED_PROXIES=1) as server:
        http.client.HTTPConnection("127.0.0.1", server.port) ...

The command is read from README.md (the `waitress-serve` line of the "Production" section),
so a test proves what operators run; only the port changes (a free one on 127.0.0.1). The
process gets its own database, secret key and documents folder under `tmp_path`, and its
stderr (waitress's and the portal's log) is kept in a file for assertions.
"""

from __future__ import annotations

import http.client
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def readme_production_command() -> tuple[dict[str, str], list[str]]:
    """The environment assignments and the arguments of the README's production command."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Production", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if "waitress-serve " in line]
    assert len(lines) == 1, "README: one waitress-serve command expected under Production"
    words = shlex.split(lines[0])
    env = {}
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    assert words[0] == "waitress-serve"
    return env, words


def command_on(port: int) -> tuple[dict[str, str], list[str]]:
    """The README's command, listening on 127.0.0.1:`port`, with the virtualenv's script."""
    env, words = readme_production_command()
    argv = [str(Path(sys.executable).parent / "waitress-serve")]
    rest = iter(words[1:])
    for word in rest:
        if word == "--port":
            argv += ["--port", str(port)]
            next(rest)
        elif word.startswith("--port="):
            argv.append(f"--port={port}")
        elif word == "--host":
            argv += ["--host", "127.0.0.1"]
            next(rest)
        elif word.startswith("--host="):
            argv.append("--host=127.0.0.1")
        else:
            argv.append(word)
    return env, argv


class PortalProcess:
    """The portal served by the README's command in a subprocess, on a free loopback port."""

    def __init__(
        self,
        tmp_path: Path,
        database: Path | None = None,
        without: tuple[str, ...] = (),
        **config: object,
    ):
        """`config`: PORTAIL_<KEY> values; `without`: options of the command left out."""
        self.tmp_path = tmp_path
        self.without = without
        self.database = database or tmp_path / "portail.sqlite3"
        self.config = config
        self.port = free_port()
        self.log = tmp_path / f"server-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> PortalProcess:
        readme_env, argv = command_on(self.port)
        argv = [word for word in argv if word not in self.without]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAIL_")}
        env.update(readme_env)
        env.update(
            PORTAIL_DATABASE=str(self.database),
            PORTAIL_SECRET_KEY="test-secret-key-not-for-production",
            PORTAIL_DOCUMENTS_DIR=str(self.tmp_path / "documents"),
            PORTAIL_DEMO_ADMIN="false",
            PYTHONUNBUFFERED="1",
        )
        env.update({f"PORTAIL_{key}": str(value) for key, value in self.config.items()})
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped at start:\n{self.output()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status in (200, 503):
                    connection.close()
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        """What the server wrote so far (stdout and stderr)."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no atexit, nothing flushed by Python."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> PortalProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
