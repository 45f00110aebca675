from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dxpulse.broker import LocalKafka
from dxpulse.broker.runtime import KafkaRuntime
from dxpulse.errors import BrokerStartError, ConfigurationError
from dxpulse.settings import Settings


def broker(tmp_path: Path, host: str = "127.0.0.1", port: int = 9092) -> LocalKafka:
    runtime = KafkaRuntime(version="4.1.1", cache_dir=tmp_path / "cache", mvn="no-such-mvn")
    return LocalKafka(host=host, port=port, data_dir=tmp_path / "kafka", runtime=runtime)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "kafka.example"])
def test_only_loopback_is_allowed(tmp_path: Path, host: str) -> None:
    with pytest.raises(ConfigurationError, match="loopback only"):
        broker(tmp_path, host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_hosts(tmp_path: Path, host: str) -> None:
    assert broker(tmp_path, host=host).host == host


def test_port_taken_is_reported_before_anything_runs(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(BrokerStartError, match=f"port {port} on 127.0.0.1 is taken"):
            broker(tmp_path, port=port).start()
    assert not (tmp_path / "cache").exists()  # failed before fetching anything


def test_status_when_never_started(tmp_path: Path) -> None:
    status = broker(tmp_path).status()
    assert not status.running and not status.answering and status.pid is None
    assert status.describe() == "not running"


def test_stale_pid_file_is_not_a_running_broker(tmp_path: Path) -> None:
    b = broker(tmp_path)
    b.data_dir.mkdir(parents=True)
    b.pid_file.write_text("1")  # pid 1 exists but is not our broker
    assert b.pid() is None
    assert b.stop() is False
    assert not b.pid_file.exists()


def test_from_settings_uses_bootstrap_home_and_version(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        kafka_bootstrap="localhost:19999",
        home=tmp_path / "h",
        kafka_version="4.0.0",
    )
    b = LocalKafka.from_settings(settings)
    assert (b.host, b.port, b.bootstrap) == ("localhost", 19999, "localhost:19999")
    assert b.data_dir == tmp_path / "h" / "kafka"
    assert b.runtime.version == "4.0.0"


def test_cluster_ids_are_valid_kafka_uuids() -> None:
    import base64

    from dxpulse.broker.local import _kafka_uuid

    ids = {_kafka_uuid() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 22 and len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)
    # about 1 in 64 starts with "-": the format command must not take it for an option
    assert any(i.startswith("-") for i in ids)
