"""A real single-node Apache Kafka broker (KRaft) on loopback, without Docker.

Example::

    from dxpulse import Settings
    from dxpulse.broker import LocalKafka

    broker = LocalKafka.from_settings(Settings())
    broker.start()            # fetches jars once, formats storage once, waits for metadata
    print(broker.status())
    broker.stop()

The broker runs detached (it outlives the command that started it); its pid, config,
data and log live in ``<home>/kafka``. ``stop`` sends SIGTERM for a controlled shutdown
and waits; only if that times out does it send SIGKILL.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from dxpulse.broker.probe import broker_answers
from dxpulse.broker.runtime import KafkaRuntime
from dxpulse.errors import BrokerStartError, ConfigurationError
from dxpulse.settings import Settings

__all__ = ["BrokerStatus", "LocalKafka", "is_loopback"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerStatus:
    """What :meth:`LocalKafka.status` found."""

    running: bool
    answering: bool
    pid: int | None
    bootstrap: str
    data_dir: Path

    def describe(self) -> str:
        if self.running and self.answering:
            return f"running (pid {self.pid}) at {self.bootstrap}"
        if self.running:
            return f"starting or unhealthy (pid {self.pid}, no answer at {self.bootstrap})"
        return "not running"


class LocalKafka:
    """Manage a local single-node KRaft broker.

    Args:
        host: loopback address to listen on (127.0.0.1, ::1 or localhost).
        port: client port.
        data_dir: folder for config, pid file, log and the broker's log segments.
        runtime: where the jars come from.
        num_partitions: default partition count of auto-created topics.
        heap: JVM heap size (``-Xmx``).
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        data_dir: Path,
        runtime: KafkaRuntime,
        num_partitions: int = 4,
        heap: str = "1g",
    ) -> None:
        if not is_loopback(host):
            raise ConfigurationError(
                f"DXPULSE_KAFKA_BOOTSTRAP host {host!r}: the local broker listens on loopback "
                "only (127.0.0.1, ::1 or localhost); use the compose stack for anything else"
            )
        self.host = host
        self.port = port
        self.data_dir = data_dir
        self.runtime = runtime
        self.num_partitions = num_partitions
        self.heap = heap
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: object) -> LocalKafka:
        """Build from :class:`Settings` (bootstrap address, home, cache, version, KAFKA_HOME)."""
        runtime = KafkaRuntime(
            version=settings.kafka_version,
            cache_dir=settings.cache_dir,
            kafka_home=settings.kafka_home,
        )
        return cls(
            host=settings.kafka_host,
            port=settings.kafka_port,
            data_dir=settings.kafka_data_dir,
            runtime=runtime,
            **kwargs,  # type: ignore[arg-type]
        )

    # Paths --------------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def console_file(self) -> Path:
        return self.data_dir / "console.log"

    @property
    def log_dirs(self) -> Path:
        return self.data_dir / "data"

    # Lifecycle ----------------------------------------------------------------------------

    def pid(self) -> int | None:
        """Pid of the broker started from this data folder, if it is alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _is_our_broker(pid, self.data_dir) else None

    def status(self, *, timeout_s: float = 3.0) -> BrokerStatus:
        pid = self.pid()
        answering = pid is not None and broker_answers(self.bootstrap, timeout_s=timeout_s)
        return BrokerStatus(pid is not None, answering, pid, self.bootstrap, self.data_dir)

    def start(self, *, timeout_s: float = 90.0) -> str:
        """Start the broker unless it runs; wait until it answers; return the bootstrap address."""
        pid = self.pid()
        if pid is not None:
            self._wait_ready(pid, timeout_s)
            return self.bootstrap
        if not _port_free(self.host, self.port):
            raise BrokerStartError(
                f"port {self.port} on {self.host} is taken by another program; stop it or set "
                "DXPULSE_KAFKA_BOOTSTRAP to a free host:port"
            )
        java = self.runtime.java_executable()
        classpath = self.runtime.classpath()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        controller_port = _free_port(self.host)
        config = self._write_config(controller_port)
        self._format_storage(java, classpath, config)
        log4j = self._write_log4j_config()
        cmd = [
            java,
            f"-Xmx{self.heap}",
            "-Xms256m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            f"-Ddxpulse.data={self.data_dir}",
            "-cp",
            classpath,
            "kafka.Kafka",
            str(config),
        ]
        log.info("starting Kafka broker: %s", " ".join(cmd))
        with self.console_file.open("ab") as console:
            self._process = subprocess.Popen(
                cmd,
                stdout=console,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.data_dir,
                start_new_session=True,
            )
        self.pid_file.write_text(str(self._process.pid))
        self._wait_ready(self._process.pid, timeout_s)
        return self.bootstrap

    def stop(self, *, timeout_s: float = 60.0) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout_s``). False if it was not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self._alive(pid):
                break
            time.sleep(0.2)
        else:
            log.warning("broker %d ignored SIGTERM for %.0f s; killing it", pid, timeout_s)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while self._alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 30) -> str:
        """Last lines of the broker's log (or console output if it died before logging)."""
        chunks: list[str] = []
        for path in (self.console_file, self.log_file):
            if path.exists():
                text = path.read_text("utf-8", errors="replace").strip().splitlines()
                if text:
                    chunks.append(f"--- {path} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(chunks) if chunks else "(no broker log yet)"

    # Internals ----------------------------------------------------------------------------

    def _alive(self, pid: int) -> bool:
        if self._process is not None and self._process.pid == pid:
            return self._process.poll() is None
        return _is_our_broker(pid, self.data_dir)

    def _wait_ready(self, pid: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self._alive(pid):
                self.pid_file.unlink(missing_ok=True)
                raise BrokerStartError(
                    f"the Kafka broker exited during start-up; its log says:\n{self.log_tail()}"
                )
            if broker_answers(self.bootstrap, timeout_s=2.0):
                return
            time.sleep(0.5)
        raise BrokerStartError(
            f"the Kafka broker (pid {pid}) did not answer at {self.bootstrap} within "
            f"{timeout_s:.0f} s; its log says:\n{self.log_tail()}"
        )

    def _write_config(self, controller_port: int) -> Path:
        host = f"[{self.host}]" if ":" in self.host else self.host
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{host}:{controller_port}",
            "listeners": f"PLAINTEXT://{host}:{self.port},CONTROLLER://{host}:{controller_port}",
            "advertised.listeners": f"PLAINTEXT://{host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.log_dirs),
            # One node: every replication factor is 1.
            "num.partitions": str(self.num_partitions),
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Consumer groups form at once instead of waiting for more members.
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            "log.retention.hours": "168",
            "log.segment.bytes": str(256 * 1024 * 1024),
        }
        path = self.data_dir / "server.properties"
        body = "\n".join(f"{k}={v}" for k, v in props.items())
        path.write_text(f"# Written by dxpulse kafka start; edits are overwritten.\n{body}\n")
        return path

    def _write_log4j_config(self) -> Path:
        template = (files("dxpulse.broker") / "log4j2.properties").read_text("utf-8")
        path = self.data_dir / "log4j2.properties"
        path.write_text(template.replace("@LOG_FILE@", str(self.log_file)), "utf-8")
        return path

    def _format_storage(self, java: str, classpath: str, config: Path) -> None:
        if (self.log_dirs / "meta.properties").exists():
            return
        cluster_id = _kafka_uuid()
        result = subprocess.run(
            # "=" form: a random id may start with "-", which argparse would take for an option
            [java, "-cp", classpath, "kafka.tools.StorageTool", "format",
             f"--cluster-id={cluster_id}", f"--config={config}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise BrokerStartError(
                f"formatting the broker storage in {self.log_dirs} failed:\n"
                f"{(result.stdout + result.stderr).strip()}"
            )


def _kafka_uuid() -> str:
    """A Kafka cluster id: a random UUID in URL-safe base64 without padding (22 chars)."""
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host.strip("[]"), 0))
        return int(sock.getsockname()[1])


def _is_our_broker(pid: int, data_dir: Path) -> bool:
    """True if ``pid`` is a live (not zombie) Kafka JVM started for ``data_dir``."""
    proc = Path("/proc") / str(pid)
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    if state in ("Z", "X"):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return f"-Ddxpulse.data={data_dir}".encode() in cmdline and b"kafka.Kafka" in cmdline
