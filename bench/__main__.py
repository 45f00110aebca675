"""``python -m bench``: run the benchmark scenarios against a real local broker and chDB.

Usage::

    python -m bench                       # every scenario, 3 repetitions, goal sizes
    python -m bench --only sdk,pipeline   # some of them
    python -m bench --record              # ...and append the figures to bench/RESULTS.md
    python -m bench --smoke               # seconds: proves the harness works (CI runs it)

A single-node Kafka broker is started for the run (jars from the usual cache) unless
``--bootstrap`` names one. Each scenario gets a scratch folder; everything is removed
at the end. Figures are printed as a table: min / median / max over the repetitions,
the goal, and the ratio to the baseline measured in the same invocation.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.harness import Context, Figure, Machine, free_port, machine

#: scenario name -> module (each has ``run(ctx) -> list[Figure]``), in run order.
SCENARIOS = {
    "sdk": "bench.sdk",
    "pipeline": "bench.pipeline",
    "freshness": "bench.freshness",
    "panels": "bench.panels",
}

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

log = logging.getLogger("bench")


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _by_name(figures: Sequence[Figure]) -> dict[tuple[str, str], Figure]:
    return {(f.scenario, f.name): f for f in figures}


def ratio(figure: Figure, figures: Sequence[Figure]) -> float | None:
    """``figure``'s median over its baseline's median (None without a baseline)."""
    if figure.baseline is None:
        return None
    base = _by_name(figures).get((figure.scenario, figure.baseline))
    if base is None or not base.values or base.median == 0:
        return None
    return figure.median / base.median


def rows(figures: Sequence[Figure]) -> list[list[str]]:
    """Table rows: scenario, figure, unit, min, median, max, goal, met, vs baseline."""
    out = []
    for f in figures:
        r = ratio(f, figures)
        goal = "" if f.goal is None else f"{'>=' if f.higher_is_better else '<='} {_fmt(f.goal)}"
        if f.ratio_goal is not None:
            goal += f"{'; ' if goal else ''}ratio >= {f.ratio_goal:.0%}"
        met = f.met()
        if f.ratio_goal is not None and r is not None:
            met = (met is not False) and r >= f.ratio_goal
        out.append(
            [
                f.scenario,
                f.name,
                f.unit,
                _fmt(f.min),
                _fmt(f.median),
                _fmt(f.max),
                goal,
                "" if met is None else ("yes" if met else "**no**"),
                "" if r is None else f"{r:.1%} of {f.baseline}",
            ]
        )
    return out


HEADER = ["scenario", "figure", "unit", "min", "median", "max", "goal", "met", "vs baseline"]


def markdown(figures: Sequence[Figure], info: Machine, args: argparse.Namespace) -> str:
    """One run for RESULTS.md: the machine, then a table per scenario with its notes."""
    lines = [
        f"### {info.date}, commit {info.commit}",
        "",
        f"`python -m bench {' '.join(sys.argv[1:])}`: {info.describe()}; "
        f"{args.reps} repetitions after warm-up{' (SMOKE: not meaningful)' if args.smoke else ''}.",
    ]
    for scenario in dict.fromkeys(f.scenario for f in figures):
        mine = [f for f in figures if f.scenario == scenario]
        lines += [
            "",
            f"#### {scenario}",
            "",
            "| " + " | ".join(HEADER[1:]) + " |",
            "|" + "|".join(["---"] * 2 + ["---:"] * 3 + ["---"] * 3) + "|",
        ]
        lines += ["| " + " | ".join(r[1:]) + " |" for r in rows(mine)]
        notes = [f"- **{f.name}**: {f.note}" for f in mine if f.note]
        if notes:
            lines += ["", *notes]
        for f in mine:
            if f.extra.get("details"):
                lines += ["", f"**{f.name}**: {f.extra['details']}"]
    return "\n".join(lines) + "\n"


def record(text: str, path: Path = RESULTS) -> None:
    """Append a run to RESULTS.md (history is kept: never overwritten)."""
    current = path.read_text() if path.exists() else "# Benchmark results\n"
    marker = "## python -m bench"
    if marker not in current:
        current = current.rstrip("\n") + f"\n\n{marker}\n\nEvery run appended, newest last.\n"
    path.write_text(current.rstrip("\n") + "\n\n" + text)


def print_table(figures: Sequence[Figure]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a dependency
        for r in rows(figures):
            print(" | ".join(r))
        return
    table = Table(*HEADER)
    for r in rows(figures):
        table.add_row(*(c.replace("**", "") for c in r))
    Console(width=200).print(table)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--reps", type=int, default=3, help="repetitions after warm-up")
    parser.add_argument("--smoke", action="store_true", help="seconds-long run (CI)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply data sizes")
    parser.add_argument("--bootstrap", help="use this Kafka broker instead of starting one")
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument("--results", type=Path, default=RESULTS, help="file --record appends to")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> list[Figure]:
    args = parse(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose or not args.smoke else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    names = args.only.split(",") if args.only else list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    options = dict(item.split("=", 1) for item in args.set)
    root = Path(tempfile.mkdtemp(prefix="dxpulse-bench-"))
    broker = None
    figures: list[Figure] = []
    try:
        bootstrap = args.bootstrap
        if bootstrap is None:
            from dxpulse.broker import KafkaRuntime, LocalKafka
            from dxpulse.settings import DEFAULT_KAFKA_VERSION, Settings

            broker = LocalKafka(
                host="127.0.0.1",
                port=free_port(),
                data_dir=root / "kafka",
                runtime=KafkaRuntime(
                    version=DEFAULT_KAFKA_VERSION,
                    cache_dir=Settings(_env_file=None).cache_dir,  # type: ignore[call-arg]
                ),
            )
            broker.start()
            bootstrap = broker.bootstrap
        for name in names:
            workdir = root / name
            workdir.mkdir()
            ctx = Context(
                bootstrap=bootstrap,
                workdir=workdir,
                reps=1 if args.smoke else args.reps,
                smoke=args.smoke,
                scale=args.scale,
                options=options,
            )
            started = time.monotonic()
            log.info("scenario %s ...", name)
            module = importlib.import_module(SCENARIOS[name])
            figures += module.run(ctx)
            log.info("scenario %s done in %.0f s", name, time.monotonic() - started)
    finally:
        if broker is not None:
            broker.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print_table(figures)
    if args.record:
        record(markdown(figures, machine(), args), args.results)
    return figures


if __name__ == "__main__":
    main()
