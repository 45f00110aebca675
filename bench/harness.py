"""The benchmark harness: scenarios, figures, repetitions, and the RESULTS.md record.

A scenario is a module in ``bench/`` with a ``run(ctx: Context) -> list[Figure]``
function. It does its own warm-up, then measures ``ctx.reps`` repetitions of each figure
(``ctx.smoke`` asks for a seconds-long version that only proves the harness works) and
returns one :class:`Figure` per measured quantity, baselines included, so every figure
can be read against a baseline measured in the same invocation::

    def run(ctx: Context) -> list[Figure]:
        sdk = Figure("sdk", "SDK publish, validated", "events/s", goal=50_000)
        raw = Figure("sdk", "kafka-python, pre-serialised (baseline)", "events/s")
        for _ in range(ctx.reps):
            sdk.values.append(...)
            raw.values.append(...)
        sdk.baseline = raw.name
        return [sdk, raw]

Benchmarks are not tests: nothing here asserts a timing. ``python -m bench --smoke``
(run by the test suite) keeps the harness working.
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Context", "Figure", "Machine", "free_port", "machine"]

log = logging.getLogger("bench")


@dataclass
class Figure:
    """One measured quantity: a value per repetition, a goal, and what it is compared with.

    Args:
        scenario: the module that measured it.
        name: what was measured, readable in a table.
        unit: ``events/s``, ``ms``, ``s``...
        higher_is_better: throughput (True) or latency (False).
        goal: the target in ``unit`` (met when the median is on the right side of it).
        baseline: name of the figure (same scenario) this one is a ratio of.
        ratio_goal: the target of ``median / baseline median``.
        note: one line on how it was measured.
    """

    scenario: str
    name: str
    unit: str
    values: list[float] = field(default_factory=list)
    higher_is_better: bool = True
    goal: float | None = None
    baseline: str | None = None
    ratio_goal: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def min(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def max(self) -> float:
        return max(self.values) if self.values else float("nan")

    def met(self) -> bool | None:
        """Whether the median meets ``goal`` (None without a goal or values)."""
        if self.goal is None or not self.values:
            return None
        if self.higher_is_better:
            return self.median >= self.goal
        return self.median <= self.goal


@dataclass
class Context:
    """What a scenario gets from the harness.

    Args:
        bootstrap: the local Kafka broker (started by the harness, or ``--bootstrap``).
        workdir: a scratch folder for this scenario (removed at the end).
        reps: measured repetitions per figure (after warm-up).
        smoke: run a tiny version: seconds, not minutes; figures are not meaningful.
        scale: multiplies data sizes (1.0 = the sizes the goals are stated for).
        options: ``--set key=value`` pairs for scenario-specific knobs.
    """

    bootstrap: str
    workdir: Path
    reps: int = 3
    smoke: bool = False
    scale: float = 1.0
    options: dict[str, str] = field(default_factory=dict)
    progress: Callable[[str], None] = log.info

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a ``dxpulse`` subprocess on this context's broker."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DXPULSE_")}
        env.update(DXPULSE_KAFKA_BOOTSTRAP=self.bootstrap, DXPULSE_LOG_LEVEL="warning")
        env.update(extra)
        return env


@dataclass(frozen=True)
class Machine:
    cores: int
    memory_gb: float
    cpu: str
    python: str
    commit: str
    date: str

    def describe(self) -> str:
        return (
            f"{self.cores} cores ({self.cpu}), {self.memory_gb:.0f} GB, "
            f"Python {self.python}, commit {self.commit}, {self.date}"
        )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def _commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{sha}{'+dirty' if dirty else ''}" if sha else "unknown"


def machine() -> Machine:
    """Facts about this machine and checkout, for the record."""
    return Machine(
        cores=os.cpu_count() or 0,
        memory_gb=_memory_gb(),
        cpu=_cpu_model(),
        python=platform.python_version(),
        commit=_commit(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
