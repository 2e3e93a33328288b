"""The application served by gunicorn in worker processes, for the tests and benchmarks that
need a real multi-process server on a real socket (the deadline rush, the load benchmark).

The server runs ``marketplace.wsgi`` as the README deploys it (sync workers) with the
environment it is given: the caller names the database, the media folder and the settings.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Server:
    """A running gunicorn: its address and the environment it was started with."""

    base: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(settings_dict: Mapping[str, Any], name: str | None = None) -> str:
    """A ``DATABASE_URL`` for a PostgreSQL database of the given connection settings."""
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name or settings_dict['NAME']}"


@contextmanager
def gunicorn(
    env: Mapping[str, str],
    *,
    workers: int = 4,
    worker_class: str = "sync",
    extra_args: Sequence[str] = (),
    ready_path: str = "/tenders/",
    start_timeout: float = 300.0,
    log: Path | None = None,
) -> Iterator[Server]:
    """Serve the application on a free loopback port until the block ends.

    Waits until a worker answers ``ready_path`` (each worker imports the whole project
    first: seconds on a busy machine), and stops every worker on the way out, so that
    their database connections are closed before the caller's database is torn down.
    ``log``: a file for the server's output (Django logs a warning for every 4xx answer),
    else it goes to this process's.
    """
    port = free_port()
    output = log.open("ab") if log is not None else None
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "marketplace.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            f"--worker-class={worker_class}",
            "--log-level=warning",
            *extra_args,
        ],
        cwd=ROOT,
        env=dict(env),
        stdout=output,
        stderr=output,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + ready_path, process, start_timeout)
        yield Server(base=base, env=dict(env), process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        if output is not None:
            output.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn stopped with status {process.returncode}")
        try:
            with urlopen(url, timeout=60) as response:  # noqa: S310 (the loopback)
                if response.status == 200:
                    return
        except (URLError, OSError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"gunicorn did not answer {url} within {timeout:.0f} s")


def inherited_environment(**overrides: str) -> dict[str, str]:
    """This process's environment (the test settings pytest-env set) with ``overrides``."""
    return {**os.environ, **overrides}
