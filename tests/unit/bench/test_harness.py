"""The benchmark harness: figures, ratios, goals, the RESULTS.md record, profile summaries."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.__main__ import markdown, ratio, record
from bench.harness import Figure, Machine
from bench.profile import Profile

MACHINE = Machine(2, 24.0, "AMD EPYC", "3.11.7", "abc1234", "2026-11-22 22:00 UTC")
ARGS = argparse.Namespace(reps=3, smoke=False)


def figures() -> list[Figure]:
    fast = Figure("p", "pipeline", "events/s", [40_000, 60_000, 55_000], goal=50_000,
                  baseline="loop", ratio_goal=0.25)  # fmt: skip
    loop = Figure("p", "loop", "events/s", [200_000, 180_000, 220_000])
    slow = Figure("q", "latency", "s", [6.0, 4.0, 5.5], higher_is_better=False, goal=5.0)
    return [fast, loop, slow]


def test_median_goal_and_ratio() -> None:
    fast, loop, slow = figures()
    assert (fast.min, fast.median, fast.max) == (40_000, 55_000, 60_000)
    assert fast.met() is True
    assert slow.met() is False  # median 5.5 s > 5 s
    assert loop.met() is None
    assert ratio(fast, [fast, loop, slow]) == 55_000 / 200_000
    assert ratio(loop, [fast, loop, slow]) is None


def test_markdown_has_a_table_per_scenario_with_goals_and_ratios() -> None:
    text = markdown(figures(), MACHINE, ARGS)
    assert "2 cores (AMD EPYC), 24 GB" in text and "commit abc1234" in text
    assert text.index("#### p") < text.index("#### q")
    assert (
        "| pipeline | events/s | 40,000 | 55,000 | 60,000 | >= 50,000; ratio >= 25% | yes | 27.5% of loop |"
        in text
    )
    assert "| latency | s | 4.00 | 5.50 | 6.00 | <= 5.00 | **no** |  |" in text


def test_ratio_below_its_goal_is_not_met() -> None:
    fast, loop, _ = figures()
    loop.values = [400_000]
    assert "| **no** | 13.8% of loop |" in markdown([fast, loop], MACHINE, ARGS)


def test_record_appends_and_keeps_history(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\n## simulator\n\nold numbers\n")
    record("### run 1\n", path)
    record("### run 2\n", path)
    text = path.read_text()
    assert text.startswith("# Benchmark results\n\n## simulator\n\nold numbers\n")
    assert text.count("## python -m bench") == 1
    assert text.index("### run 1") < text.index("### run 2")


def test_profile_summary_counts_self_and_total_per_function() -> None:
    raw = "\n".join(
        [
            "thread (1): MainThread;run (app.py:10);validate (batch.py:5);core (x.py:1) 60",
            "thread (1): MainThread;run (app.py:10);to_rows (normalize.py:7) 30",
            "thread (2): dxpulse-sink;run_once (sink.py:3) 10",
            "garbage line",
        ]
    )
    profile = Profile(raw)
    assert profile.samples == 100
    assert profile.threads["thread (1): MainThread"] == 90
    assert profile.self_samples["core (x.py)"] == 60
    assert profile.total_samples["run (app.py)"] == 90
    assert profile.share("validate") == 0.6
    table = profile.markdown(top=2)
    assert "| `core (x.py)` | 60.0% | 60.0% |" in table
    assert "| `to_rows (normalize.py)` | 30.0% | 30.0% |" in table
    assert "sink" not in table  # only the top 2
    assert Profile("").markdown() == "(no samples)"


def test_profile_of_one_thread() -> None:
    raw = "thread (1): MainThread;a (x.py:1) 3\nthread (2): dxpulse-sink;b (y.py:1) 1"
    main = Profile(raw).thread("MainThread")
    assert main.samples == 3
    assert set(main.self_samples) == {"a (x.py)"}
