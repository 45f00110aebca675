"""Sampling profiles of a running process with py-spy, summarised as a table.

Example::

    with Profiler(pid, Path("worker.txt")) as profiler:
        ...                                   # the workload
    print(profiler.markdown(top=12))          # self and total share per function

py-spy (``pip install 'dxpulse[bench]'``) attaches to the process (``--nonblocking``: the
target is never paused) and writes collapsed stacks, one line per distinct stack with its
sample count, per thread (``--threads``). Native threads (chDB's engine) are not sampled:
only Python frames, which is what the worker's own costs are.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import TracebackType

__all__ = ["Profile", "Profiler", "available"]


def _py_spy() -> str | None:
    """py-spy beside this Python (a venv not on PATH), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def available() -> bool:
    """Whether py-spy is installed."""
    return _py_spy() is not None


class Profile:
    """Collapsed stacks read back: self and total samples per function, per thread."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.self_samples: Counter[str] = Counter()
        self.total_samples: Counter[str] = Counter()
        self.threads: Counter[str] = Counter()
        self.samples = 0
        for line in raw.splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = stack.split(";")
            thread = frames[0] if frames[0].startswith(("thread", "process")) else ""
            if thread:
                frames = frames[1:]
            names = [_short(f) for f in frames]
            self.samples += count
            self.threads[thread or "?"] += count
            if names:
                self.self_samples[names[-1]] += count
            for name in set(names):
                self.total_samples[name] += count

    def markdown(self, *, top: int = 12) -> str:
        if not self.samples:
            return "(no samples)"
        lines = ["| function | self | total |", "|---|---:|---:|"]
        for name, count in self.self_samples.most_common(top):
            lines.append(
                f"| `{name}` | {count / self.samples:.1%} | "
                f"{self.total_samples[name] / self.samples:.1%} |"
            )
        return "\n".join(lines)

    def thread(self, fragment: str) -> Profile:
        """The profile of the threads whose name contains ``fragment`` (e.g. MainThread)."""
        lines = [line for line in self.raw.splitlines() if fragment in line.split(";", 1)[0]]
        return Profile("\n".join(lines))

    def share(self, fragment: str) -> float:
        """Share of samples whose stack includes a function matching ``fragment``."""
        hits = {n: c for n, c in self.total_samples.items() if fragment in n}
        return max(hits.values(), default=0) / self.samples if self.samples else 0.0


def _short(frame: str) -> str:
    """``function (path/to/module.py:123)`` -> ``function (module.py)``."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({Path(path).name})" if path else name


class Profiler:
    """py-spy attached to ``pid`` until the ``with`` block ends."""

    def __init__(self, pid: int, output: Path, *, rate: int = 100) -> None:
        self.output = output
        self.command = [
            _py_spy() or "py-spy", "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
            "--threads", "--nonblocking", "-o", str(output),
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profiler:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def profile(self) -> Profile:
        return Profile(self.output.read_text() if self.output.exists() else "")
