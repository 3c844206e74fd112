"""`cci worker` and `cci dev` as real processes on the embedded Redis: nothing outlives them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from conftest import ROOT

pytestmark = pytest.mark.worker


def _cci() -> list[str]:
    cci_bin = Path(sys.executable).parent / "cci"
    return [str(cci_bin)] if cci_bin.exists() else [sys.executable, "-m", "cci.cli"]


def _embedded_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no REDIS_URL, so the command starts an embedded Redis of its own."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        CCI_INSTANCE_DIR=str(tmp_path / "instance"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'cci.sqlite3'}",
        SECRET_KEY="test-secret-key",
    )
    return env


def _redis_servers(instance_dir: Path) -> list[psutil.Process]:
    """The redis-server processes serving this instance (redis-server works in its data dir)."""
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if "redis-server" in (process.info["name"] or "") and (
                Path(process.cwd()) == instance_dir
            ):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _left_behind(instance_dir: Path) -> list[int]:
    """The pids of this instance's redis-servers still running, killed so a failure leaks none."""
    servers = _redis_servers(instance_dir)
    for server in servers:
        server.kill()
    return [server.pid for server in servers]


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_forking_burst_worker_stops_the_embedded_redis_it_started(tmp_path):
    env = _embedded_env(tmp_path)
    instance_dir = tmp_path / "instance"
    done = subprocess.run([*_cci(), "worker", "--burst"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "done, quitting" in done.stderr + done.stdout
    # The server ran there: it saved its data file when it was shut down.
    assert (instance_dir / "redis.db").exists()
    assert _left_behind(instance_dir) == []


def test_cci_dev_stopped_by_sigterm_leaves_no_process_behind(tmp_path):
    env = _embedded_env(tmp_path)
    instance_dir = tmp_path / "instance"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dev = subprocess.Popen([*_cci(), "dev", "--port", str(port), "--web-workers", "1"],
                           env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        parent = psutil.Process(dev.pid)

        def everything_started() -> bool:
            names = " ".join(" ".join(p.cmdline()) for p in parent.children(recursive=True))
            with socket.socket() as client:
                listening = client.connect_ex(("127.0.0.1", port)) == 0
            return listening and " worker" in names and bool(_redis_servers(instance_dir))

        _wait_for(everything_started)
        started = parent.children(recursive=True) + _redis_servers(instance_dir)
        dev.send_signal(signal.SIGTERM)
        assert dev.wait(timeout=60) == 0
        _gone, alive = psutil.wait_procs(started, timeout=10)
        assert alive == []
        assert _left_behind(instance_dir) == []
    finally:
        if dev.poll() is None:
            dev.kill()
            dev.wait()
        _left_behind(instance_dir)
