"""Where a bench phase's CPU goes: CPU seconds per group of processes (psutil), so the bench
can say what one answer costs the web server, the background jobs, PostgreSQL, Redis and the
load generator itself, next to the same figures for the ceiling.

A group is a set of root processes with all their descendants. A descendant that exited
counts too, once its parent has reaped it (the kernel adds its time to the parent's
"children" times): RQ's work horses, a pool's finished PostgreSQL backends.
A process this user may not inspect counts as nothing (the figures then say less, not wrong).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass

import psutil

Roots = Callable[[], Iterable[int]]


def _own(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def tree_seconds(pid: int) -> float:
    """CPU seconds of a process and its descendants, live or ended and reaped."""
    try:
        root = psutil.Process(pid)
        total = _own(root)
        for child in root.children(recursive=True):
            try:
                # a reaped grandchild's time is already in its live parent's children times
                total += _own(child)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return total
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0


def own_seconds(pid: int) -> float:
    """CPU seconds of the process alone (not of any child)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0
    return times.user + times.system


def named_roots(*names: str) -> Roots:
    """The topmost processes called one of ``names`` (a PostgreSQL postmaster, not each
    of its backends; every cluster or server of that name on the machine)."""

    def roots() -> list[int]:
        found = {}
        for process in psutil.process_iter(["pid", "ppid", "name"]):
            if process.info["name"] in names:
                found[process.info["pid"]] = process.info["ppid"]
        return [pid for pid, ppid in found.items() if ppid not in found]

    return roots


def fixed_roots(*pids: int) -> Roots:
    return lambda: pids


@dataclass
class Group:
    name: str
    roots: Roots
    #: False for the bench's own process: its children are the servers and workers, each
    #: counted in its own group
    descendants: bool = True

    def seconds(self) -> float:
        count = tree_seconds if self.descendants else own_seconds
        return sum(count(pid) for pid in self.roots())


def machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + getattr(times, "irq", 0.0) + getattr(
        times, "softirq", 0.0) + getattr(times, "steal", 0.0)


class Meter:
    """CPU seconds per group between :meth:`start` and :meth:`stop`, and of the machine in
    all ("other": what no group accounts for, e.g. the kernel's share of the network)."""

    def __init__(self, groups: list[Group]):
        self.groups = groups
        self._start: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        reading = {group.name: group.seconds() for group in self.groups}
        reading["machine"] = machine_busy_seconds()
        return reading

    def start(self) -> Meter:
        self._start = self._read()
        return self

    def stop(self) -> dict[str, float]:
        end = self._read()
        self.seconds = {name: max(0.0, end[name] - self._start[name]) for name in end}
        grouped = sum(v for k, v in self.seconds.items() if k != "machine")
        self.seconds["other"] = max(0.0, self.seconds["machine"] - grouped)
        return self.seconds

    def ms_each(self, count: int) -> dict[str, float]:
        """Milliseconds of CPU per answer (or page) by group (and "machine": all of it), over
        the ``count`` the phase handled."""
        if not count:
            return {}
        return {name: round(1000 * value / count, 2) for name, value in self.seconds.items()}


def bench_groups(web_pid: int, worker_pids: Iterable[int]) -> list[Group]:
    """The processes of a submission phase: the gunicorn under test (master and workers),
    the RQ workers (their work horses), PostgreSQL, Redis and this process."""
    return [
        Group("web", fixed_roots(web_pid)),
        Group("jobs", fixed_roots(*worker_pids)),
        Group("database", named_roots("postgres", "postmaster")),
        Group("redis", named_roots("redis-server")),
        Group("load", fixed_roots(os.getpid()), descendants=False),
    ]
