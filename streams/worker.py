"""Run a stream worker: the Faust agents, and (in one process only) the ClickHouse sink.

Example::

    from dxpulse import Settings
    from dxpulse.streams.worker import run_worker

    run_worker(Settings(), store="memory", sink=True)   # blocks; SIGTERM stops it cleanly

Several workers share the source topics through the consumer group ``dxpulse-worker``
(up to 4 per topic: the partition count). Exactly one process runs the sink: with the
embedded engine only one process may open the database; with a ClickHouse server a single
sink still keeps window recomputation simple (see the README's architecture section).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from dxpulse.clickhouse import connect
from dxpulse.errors import ConfigurationError
from dxpulse.migrations import Migrator
from dxpulse.query_endpoint import QueryEndpoint
from dxpulse.settings import Settings
from dxpulse.streams.app import APP_ID, create_app
from dxpulse.streams.sink import ClickHouseSink
from dxpulse.streams.topics import ensure_topics

__all__ = ["SinkThread", "run_worker"]

log = logging.getLogger(__name__)


class SinkThread:
    """The sink in a background thread of this process, stopped with :meth:`stop`.

    With the embedded engine this process owns the database, so the thread also serves
    the read-only query endpoint that ``dxpulse sql`` uses meanwhile.
    """

    def __init__(self, settings: Settings, **sink_options: Any) -> None:
        client = connect(settings)
        try:
            pending = Migrator(client, database=settings.database).pending()
        finally:
            client.close()
        if pending:
            raise ConfigurationError(
                f"the ClickHouse schema of database {settings.database} is not up to date "
                f"({len(pending)} pending migration(s), first {pending[0].filename}); "
                "run `dxpulse migrate`"
            )
        self.client = connect(settings, database=settings.database)
        self.sink = ClickHouseSink(self.client, settings, worker_group=APP_ID, **sink_options)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dxpulse-sink", daemon=True)
        self._settings = settings
        self._endpoint: QueryEndpoint | None = None

    def _run(self) -> None:
        try:
            self.sink.run(self._stop)
        except BaseException as exc:  # surfaced by stop(); the thread must not die silently
            log.exception("the sink stopped with an error")
            self._error = exc

    def start(self) -> SinkThread:
        self._thread.start()
        if self._settings.embedded:
            self._endpoint = QueryEndpoint(self._settings).start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 60.0) -> None:
        """Finish the current batch, commit, close. Re-raises an error the sink died of."""
        if self._endpoint is not None:
            self._endpoint.stop()
        self._stop.set()
        self._thread.join(timeout)
        if self._error is not None:
            raise self._error


def run_worker(
    settings: Settings,
    *,
    store: str = "memory",
    sink: bool = True,
    loglevel: str = "info",
    on_started: Callable[[], None] | None = None,
) -> None:
    """Run the Faust worker in this thread until it is stopped (SIGTERM or SIGINT)."""
    import faust

    created = ensure_topics(settings.kafka_bootstrap)
    if created:
        log.info("created topics %s", ", ".join(created))
    app = create_app(settings, store=store)
    sink_thread = SinkThread(settings).start() if sink else None
    if on_started is not None:
        app.on_startup_finished = on_started
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, override_logging=False)
    try:
        worker.execute_from_commandline()
    finally:
        if sink_thread is not None:
            sink_thread.stop()
