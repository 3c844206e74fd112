"""The bench's CPU accounting (bench.cpu): a phase's CPU is found in the group that spent it,
including work done by a child that has already ended, and never twice."""

from __future__ import annotations

import os
import subprocess
import sys

from bench import cpu

# A process that starts a child burning about 0.4 s of CPU, waits for it (reaping it), says
# so and then idles until its input closes.
PARENT = """
import subprocess, sys
subprocess.run([sys.executable, "-c",
                "import time\\nend = time.process_time() + 0.4\\n"
                "while time.process_time() < end: pass"], check=True)
print("done", flush=True)
sys.stdin.read()
"""


def _run_parent():
    return subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def test_an_ended_childs_cpu_counts_in_its_group_and_not_in_the_bench_process():
    parent = _run_parent()
    try:
        meter = cpu.Meter([cpu.Group("jobs", cpu.fixed_roots(parent.pid)),
                           cpu.Group("load", cpu.fixed_roots(os.getpid()),
                                     descendants=False)]).start()
        assert parent.stdout.readline().strip() == "done"  # the child ended and was reaped
        seconds = meter.stop()
    finally:
        parent.stdin.close()
        parent.wait(timeout=10)
    assert seconds["jobs"] >= 0.35
    assert seconds["load"] < 0.2  # waiting for a line costs this process next to nothing
    assert seconds["machine"] >= seconds["jobs"]
    per_answer = meter.ms_each(100)
    assert per_answer["jobs"] == round(1000 * seconds["jobs"] / 100, 2)
    assert meter.ms_each(0) == {}


# A process whose child burns about 0.4 s of CPU, says so and stays alive.
LIVE = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c",
                  "import sys, time\\nend = time.process_time() + 0.4\\n"
                  "while time.process_time() < end: pass\\n"
                  "print('burnt', flush=True)\\nsys.stdin.read()"], stdin=subprocess.PIPE)
sys.stdin.read()
"""


def test_live_and_ended_descendants_count_once_each():
    live = subprocess.Popen([sys.executable, "-c", LIVE], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    ended = _run_parent()
    try:
        assert live.stdout.readline().strip() == "burnt"  # the child is still running
        assert ended.stdout.readline().strip() == "done"  # the child ended, reaped
        for parent in (live, ended):
            tree, own = cpu.tree_seconds(parent.pid), cpu.own_seconds(parent.pid)
            # the parent alone spent little; with its child, the child's 0.4 s once
            assert own < 0.35
            assert 0.35 <= tree < own + 0.4 + 0.3
    finally:
        for parent in (live, ended):
            for child in cpu.psutil.Process(parent.pid).children(recursive=True):
                child.kill()
            parent.stdin.close()
            parent.wait(timeout=10)


def test_named_roots_are_the_topmost_processes_of_that_name():
    parent = _run_parent()
    try:
        assert parent.stdout.readline().strip() == "done"
        process = cpu.psutil.Process(parent.pid)
        roots = cpu.named_roots(process.name())()
        # the parent, or an ancestor of its name (this test's own process), is a root...
        lineage = [process.pid] + [p.pid for p in process.parents()]
        assert set(lineage) & set(roots)
        # ...and no root sits under another process of that name
        for pid in roots:
            try:
                above = cpu.psutil.Process(pid).parent()
                above_name = above.name() if above is not None else None
            except cpu.psutil.NoSuchProcess:
                continue  # another process of that name ended meanwhile
            assert above_name != process.name()
        assert cpu.tree_seconds(2**22 + 12345) == 0.0  # no such process: nothing, no error
    finally:
        parent.stdin.close()
        parent.wait(timeout=10)
