"""``dxpulse simulate``: realistic national traffic into Kafka (or a JSON-lines file).

Examples::

    dxpulse simulate                                   # 60 s at 200 events/s, the last minute
    dxpulse simulate --rate 2000 --duration 10         # 20,000 events in 10 s
    dxpulse simulate --speed 3600 --duration 60        # the last 60 hours, an hour a second
    dxpulse simulate --count 5000 --duplicates 0.02 --invalid 0.01 --out sample.jsonl

The events come from :mod:`dxpulse.producers.simulator` (deterministic for a seed and
a window). ``--rate`` is the wall-clock publish rate, paced by a token bucket (batches
of 20 ms, at most one second of backlog). The simulated window is ``--duration`` (or
``--count / --rate``) times ``--speed`` seconds long and by default ends now, so every
event is in the past when it is published (the contract refuses events more than 10
minutes in the future); a ``--start`` whose window would end after now is refused.
Over the window the simulated clock advances ``--speed`` times faster than the wall
clock on average: the publish rate is constant while traffic follows the time of day,
so the clock runs faster through quiet nights than through office hours.

``--duration`` sets the count, ``rate x duration``; when Kafka cannot take ``--rate``
(about 4,000 events/s with this client on 2 cores) the run takes longer rather than
sending fewer. The generator is sized for a few percent more traffic than needed and
stops at the count, so the clock ends a little before the window's end. At
``--speed 1`` a run shows the intake of the last minute; dossiers complete hours to
days after receipt, so use a higher ``--speed`` to see whole lifecycles. Every run
draws fresh identifiers from ``--seed`` and its window start, so repeated runs (a
restarting container) do not collide.

Messages are sent as raw bytes by a plain kafka-python producer (``acks=all``,
idempotent): deliberately invalid ones must reach the broker too, which the validating
SDK producer would refuse. They go in the contract's **batched form** by default: each
20 ms batch of events is grouped per topic and partition (Kafka's default partitioner on
each event's key) into JSON-array messages of at most ``--batch-events`` (500) events,
keyed by their first event and sent to that partition; a lone event goes as a plain
single-event message. Invalid messages that are still JSON objects travel inside
batches like any event; those that are not (broken JSON) are sent alone, in order.
``--batch-events 1`` sends one keyed message per event. ``--out FILE.jsonl`` writes one
JSON object per event instead, without pacing:
``{"topic": ..., "key": ..., "kind": ..., "value": "<the exact event text>"}``.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from dxpulse.cli.context import settings_of
from dxpulse.cli.publish import batch_events_option
from dxpulse.errors import KafkaError, KafkaUnavailableError
from dxpulse.producers.batching import RawBatcher
from dxpulse.producers.simulator import (
    VN_TZ,
    MessageKind,
    SimulatedMessage,
    SimulationConfig,
    Simulator,
    calibrate,
)

console = Console()
err_console = Console(stderr=True)

#: The generator is sized for this much more traffic than the target count.
HEADROOM = 1.05
#: Topics, in display order.
TOPICS = ("dx.dossier.v1", "dx.invoice.v1", "dx.payment.v1")


class TokenBucket:
    """Releases up to ``rate`` tokens a second, holding at most ``capacity``."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = 0.0
        self.last = now

    def refill(self, now: float) -> float:
        """Add the tokens earned since the last refill; return how many are available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        return self.tokens

    def wait_for(self, tokens: float) -> float:
        """Seconds until ``tokens`` tokens are available."""
        return max(0.0, (tokens - self.tokens) / self.rate)


def _parse_start(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 date and time, e.g. 2026-11-20T08:00:00+07:00",
            param_hint="--start",
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=VN_TZ)


def _rate_option(name: str, what: str) -> Any:
    return typer.Option(0.0, name, min=0.0, max=1.0, help=f"Share of {what} (0..1).")


def simulate(
    ctx: typer.Context,
    rate: float = typer.Option(
        200.0, "--rate", min=0.001, help="Events per wall-clock second to publish."
    ),
    duration: float | None = typer.Option(
        None, "--duration", min=0.001, help="Seconds to run (default 60 unless --count)."
    ),
    count: int | None = typer.Option(None, "--count", min=1, help="Events to send, instead."),
    start: str | None = typer.Option(
        None,
        "--start",
        help="Simulated clock start, ISO 8601 (Vietnam time without an offset). "
        "Default: so the simulated window ends now.",
    ),
    speed: float = typer.Option(
        1.0, "--speed", min=0.000001, help="Simulated seconds per wall-clock second."
    ),
    seed: int = typer.Option(1, "--seed", help="Same seed and window, same events."),
    out: Path | None = typer.Option(
        None, "--out", help="Write JSON lines to this file instead of publishing (no pacing)."
    ),
    duplicates: float = _rate_option("--duplicates", "messages published twice"),
    late: float = _rate_option("--late", "events published 1-6 hours late"),
    out_of_order: float = _rate_option(
        "--out-of-order", "completed dossiers published before their receipt"
    ),
    legacy_codes: float = _rate_option("--legacy-codes", "events with a pre-2025 locality code"),
    invalid: float = _rate_option("--invalid", "extra messages that break the contract"),
    batch_events: int = batch_events_option(),
) -> None:
    """Publish realistic national traffic: dossiers, payments and e-invoices of 34 provinces.

    Sends --rate events a second for --duration seconds (or --count events).

    The simulated clock runs --speed times faster than the wall clock and ends now.

    Fault options mix in duplicates, late, out-of-order, legacy-code and invalid messages.
    """
    if duration is not None and count is not None:
        raise typer.BadParameter("give --duration or --count, not both", param_hint="--count")
    if late + legacy_codes > 1:
        raise typer.BadParameter("--late plus --legacy-codes must not exceed 1")
    wall = count / rate if count is not None else duration if duration is not None else 60.0
    target = count if count is not None else max(1, round(rate * wall))
    span = timedelta(seconds=wall * speed)
    now = datetime.now(UTC)
    begin = _parse_start(start) or now - span
    end = begin + span
    if end > now:
        raise typer.BadParameter(
            f"the simulated window {begin.isoformat(timespec='seconds')} .. "
            f"{end.isoformat(timespec='seconds')} ends after now ({now.isoformat(timespec='seconds')}); "
            "events may not be in the future: use an earlier --start, or a smaller --speed "
            "or --duration/--count",
            param_hint="--start",
        )
    config = SimulationConfig(
        start=begin,
        seed=seed,
        speed=speed,
        duplicate_rate=duplicates,
        late_rate=late,
        out_of_order_rate=out_of_order,
        legacy_code_rate=legacy_codes,
        invalid_rate=invalid,
    )
    config = calibrate(config, target * HEADROOM, end)
    messages = iter(Simulator(config, now=end))

    counts: Counter[tuple[str, MessageKind]] = Counter()
    first_at: list[datetime] = []
    last_at: list[datetime] = []

    def record(batch: list[SimulatedMessage]) -> None:
        for m in batch:
            counts[m.topic, m.kind] += 1
        if batch:
            if not first_at:
                first_at.append(batch[0].at)
            last_at[:] = [batch[-1].at]

    interrupted = False
    failures: list[str] = []  # one entry per message Kafka did not acknowledge
    producer = None
    if out is None:
        from dxpulse.broker import require_kafka

        destination = settings_of(ctx).kafka_bootstrap
        require_kafka(destination)
        producer = raw_producer(destination)
    else:
        destination = str(out)
    t0 = time.monotonic()
    with _progress() as progress:
        task = progress.add_task("simulating", total=target, clock="")
        try:
            if producer is None:
                assert out is not None
                _write(out, messages, target, record, progress, task)
            else:
                _publish(
                    producer, messages, target, rate, record, progress, task, failures, batch_events
                )
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if producer is not None:
                flush_error = _close(producer)
    elapsed = time.monotonic() - t0

    total = sum(counts.values())
    console.print(_summary(counts))
    verb = "Wrote" if out is not None else "Published"
    window = (
        f"{first_at[0].isoformat(timespec='seconds')} .. {last_at[0].isoformat(timespec='seconds')}"
        if first_at
        else "(nothing)"
    )
    console.print(
        f"{verb} {total - len(failures)} messages to {destination} in {elapsed:.1f} s "
        f"({total / elapsed if elapsed > 0 else 0.0:.0f} events/s); "
        f"simulated {window} (seed {seed}, speed {speed:g})",
        highlight=False,
    )
    if failures:
        raise KafkaError(
            f"{len(failures)} of {total} messages were not acknowledged by Kafka: {failures[0]}"
        )
    if producer is not None and flush_error:
        raise KafkaError(f"Kafka did not acknowledge every message: {flush_error}")
    if interrupted:
        raise typer.Exit(130)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[clock]}"),
        console=err_console,
        transient=False,
    )


def _show(progress: Progress, task: TaskID, sent: int, batch: list[SimulatedMessage]) -> None:
    clock = f"sim {batch[-1].at.strftime('%a %Y-%m-%d %H:%M:%S')}" if batch else ""
    progress.update(task, completed=sent, clock=clock)


def _write(
    path: Path,
    messages: Iterator[SimulatedMessage],
    target: int,
    record: Callable[[list[SimulatedMessage]], None],
    progress: Progress,
    task: TaskID,
) -> None:
    sent = 0
    with path.open("wb") as fh:
        while sent < target:
            batch = list(itertools.islice(messages, min(5000, target - sent)))
            if not batch:
                break
            fh.writelines(
                orjson.dumps(
                    {
                        "topic": m.topic,
                        "key": m.key.decode() if m.key is not None else None,
                        "kind": m.kind.value,
                        "value": m.value.decode(),
                    }
                )
                + b"\n"
                for m in batch
            )
            sent += len(batch)
            record(batch)
            _show(progress, task, sent, batch)


def raw_producer(bootstrap: str) -> Any:
    """A kafka-python producer that sends bytes as given (no validation): acks=all, idempotent."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError as KafkaClientError

    try:
        return KafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=10,
            batch_size=131072,
            client_id="dxpulse-simulate",
        )
    except KafkaClientError as exc:
        raise KafkaUnavailableError(f"cannot connect a producer to {bootstrap}: {exc}") from exc


def _publish(
    producer: Any,
    messages: Iterator[SimulatedMessage],
    target: int,
    rate: float,
    record: Callable[[list[SimulatedMessage]], None],
    progress: Progress,
    task: TaskID,
    failures: list[str],
    batch_events: int = 500,
) -> None:
    """Send ``target`` events paced to ``rate`` a second, in ticks of ~20 ms.

    Each tick's events go in batched messages (``batch_events`` > 1) or one message each.
    """
    from kafka.errors import KafkaError as KafkaClientError

    def on_future(future: Any, events: int) -> None:
        def failed(exc: BaseException) -> None:
            failures.extend([f"{type(exc).__name__}: {exc}"] * events)

        future.add_errback(failed)

    batcher = RawBatcher(producer, batch_events=batch_events, on_future=on_future)

    batch_size = max(1, int(rate / 50))
    bucket = TokenBucket(rate, capacity=max(rate, batch_size), now=time.monotonic())
    sent = 0
    shown = 0.0
    while sent < target:
        want = min(batch_size, target - sent)
        available = bucket.refill(time.monotonic())
        if available < want:
            time.sleep(bucket.wait_for(want))
            continue
        n = min(int(available), target - sent)
        batch = list(itertools.islice(messages, n))
        if not batch:
            break  # the simulated clock reached the end of the window
        try:
            if batch_events == 1:
                for m in batch:
                    on_future(producer.send(m.topic, value=m.value, key=m.key), 1)
            else:
                for m in batch:
                    if m.key is None or (m.kind is MessageKind.invalid and not _is_object(m.value)):
                        batcher.add_single(m.topic, m.key, m.value)
                    else:
                        batcher.add(m.topic, m.key, m.value)
                batcher.send_all()
        except KafkaClientError as exc:
            raise KafkaError(f"sending to Kafka failed: {exc}") from exc
        bucket.tokens -= len(batch)
        sent += len(batch)
        record(batch)
        if (clock := time.monotonic()) - shown > 0.1 or sent >= target:
            shown = clock
            _show(progress, task, sent, batch)


def _is_object(value: bytes) -> bool:
    """Whether ``value`` is a JSON object (only those may travel inside a batch)."""
    try:
        return isinstance(orjson.loads(value), dict)
    except orjson.JSONDecodeError:
        return False


def _close(producer: Any) -> str | None:
    """Flush and close; the flush error, if any."""
    from kafka.errors import KafkaError as KafkaClientError

    try:
        producer.flush(timeout=60)
    except KafkaClientError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        producer.close(timeout=10)
    return None


def _summary(counts: Counter[tuple[str, MessageKind]]) -> Table:
    kinds = [k for k in MessageKind if any(kind is k for _, kind in counts)] or [MessageKind.valid]
    table = Table(title="dxpulse simulate", header_style="bold")
    table.add_column("topic")
    for kind in kinds:
        table.add_column(kind.value, justify="right")
    table.add_column("total", justify="right")
    topics = [t for t in TOPICS if any(topic == t for topic, _ in counts)]
    topics += sorted({t for t, _ in counts} - set(topics))
    for topic in topics:
        row = [counts[topic, k] for k in kinds]
        table.add_row(topic, *map(str, row), str(sum(row)))
    totals = [sum(counts[t, k] for t in topics) for k in kinds]
    table.add_row("[bold]all[/bold]", *map(str, totals), str(sum(totals)))
    return table
