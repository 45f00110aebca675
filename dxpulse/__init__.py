"""dxpulse: near-real-time digital-transformation indicators for Vietnam's public sector.

Events from agencies flow through Kafka, are validated and aggregated by Faust agents,
land in ClickHouse and are shown in Grafana.

Example::

    from dxpulse import Settings, connect

    settings = Settings()
    client = connect(settings)
    client.query("SELECT 1")

Sub-packages: :mod:`dxpulse.producers` (SDK, publish CLI, simulator),
:mod:`dxpulse.streams` (Faust agents), :mod:`dxpulse.sql` (migrations),
:mod:`dxpulse.dashboards` (Grafana as code), :mod:`dxpulse.broker` (local Kafka).
"""

from importlib.metadata import PackageNotFoundError, version

from dxpulse.clickhouse import connect
from dxpulse.errors import DxpulseError
from dxpulse.settings import Settings

try:
    __version__ = version("dxpulse")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["DxpulseError", "Settings", "__version__", "connect"]
