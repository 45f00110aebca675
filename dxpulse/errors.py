"""Typed errors raised by dxpulse. The CLI turns each into a clear message and exit code."""

from __future__ import annotations


class DxpulseError(Exception):
    """Base class of every error dxpulse raises on purpose."""

    #: Process exit code the CLI uses for this error.
    exit_code: int = 1


class ConfigurationError(DxpulseError):
    """A setting is missing or inconsistent."""

    exit_code = 2


class ClickHouseUnavailableError(DxpulseError):
    """The ClickHouse server cannot be reached, or refused our credentials."""

    exit_code = 3


class EmbeddedDatabaseLockedError(ClickHouseUnavailableError):
    """Another process owns the embedded (chDB) database folder."""


class QueryError(DxpulseError):
    """ClickHouse rejected a query."""


class MigrationError(DxpulseError):
    """A migration could not be discovered or applied."""


class MigrationChecksumError(MigrationError):
    """A migration file changed after it was applied."""


class KafkaError(DxpulseError):
    """Base class of Kafka-related errors."""

    exit_code = 4


class KafkaUnavailableError(KafkaError):
    """No Kafka broker answers at the bootstrap address."""


class BrokerSetupError(KafkaError):
    """The local broker cannot be set up: no Java, no Maven, jar download failed."""


class BrokerStartError(KafkaError):
    """The local broker did not start (port taken, crashed, timed out)."""
