"""Real RQ workers (``cci worker`` processes) for the parts of the bench that need them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 2)))


@contextlib.contextmanager
def running_workers(app, count: int = WORKERS) -> Iterator[list[int]]:
    """``count`` workers started with this environment, up and listening inside the block
    (which gets their process ids), stopped (with their work horses) after it."""
    from rq import Worker

    cci = str(Path(sys.executable).parent / "cci")
    workers = [subprocess.Popen([cci, "worker"], env=dict(os.environ), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
               for _ in range(count)]
    try:
        deadline = time.time() + 120
        while len(Worker.all(connection=app.extensions["cci.redis"])) < count:
            if time.time() > deadline:
                sys.exit("the RQ workers did not start")
            time.sleep(0.2)
        yield [worker.pid for worker in workers]
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
