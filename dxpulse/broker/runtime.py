"""The Java side of the local broker: find Java, fetch the Kafka jars once with Maven.

Example::

    from pathlib import Path
    from dxpulse.broker.runtime import KafkaRuntime

    runtime = KafkaRuntime(version="4.1.1", cache_dir=Path("~/.cache/dxpulse").expanduser())
    classpath = runtime.classpath()   # downloads on first use, then reuses the cache
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from importlib.resources import files
from pathlib import Path

from dxpulse.errors import BrokerSetupError

__all__ = ["MIN_JAVA", "KafkaRuntime", "java_major_version"]

log = logging.getLogger(__name__)

#: Kafka 4 brokers need Java 17 or later.
MIN_JAVA = 17
_COMPLETE_MARKER = ".complete"


def java_major_version(java: str = "java") -> int:
    """Major version of ``java`` (for example 17). Raises :class:`BrokerSetupError`."""
    exe = shutil.which(java)
    if exe is None:
        raise BrokerSetupError(
            f"Java not found ({java!r} is not on PATH): the local Kafka broker needs Java "
            f"{MIN_JAVA}+ (Debian/Ubuntu: apt install openjdk-17-jre-headless), "
            "or use the Docker compose stack"
        )
    try:
        out = subprocess.run(
            [exe, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BrokerSetupError(f"cannot run {exe} -version: {exc}") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise BrokerSetupError(f"cannot read the Java version from: {out.stderr.strip()!r}")
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0" style
        major = int(match.group(2))
    return major


class KafkaRuntime:
    """Locates (``kafka_home``) or downloads (Maven Central) the jars of an Apache Kafka broker.

    Args:
        version: Apache Kafka version to fetch from Maven Central.
        cache_dir: folder that keeps downloaded jars, one sub-folder per version.
        kafka_home: an existing Kafka distribution (its ``libs/`` is used, nothing is fetched).
        java: Java launcher name or path.
        mvn: Maven launcher name or path.
    """

    def __init__(
        self,
        *,
        version: str,
        cache_dir: Path,
        kafka_home: Path | None = None,
        java: str = "java",
        mvn: str = "mvn",
    ) -> None:
        self.version = version
        self.cache_dir = cache_dir
        self.kafka_home = kafka_home
        self.java = java
        self.mvn = mvn

    @property
    def libs_dir(self) -> Path:
        """Folder whose jars form the broker's classpath."""
        if self.kafka_home is not None:
            return self.kafka_home / "libs"
        return self.cache_dir / f"kafka-{self.version}" / "libs"

    def java_executable(self) -> str:
        """Path of a Java launcher of at least :data:`MIN_JAVA`."""
        major = java_major_version(self.java)
        if major < MIN_JAVA:
            raise BrokerSetupError(
                f"Java {major} found, but the Kafka broker needs Java {MIN_JAVA} or later"
            )
        exe = shutil.which(self.java)
        assert exe is not None  # checked by java_major_version
        return exe

    def classpath(self) -> str:
        """The broker classpath (``libs/*``), fetching the jars first if needed."""
        if self.kafka_home is not None:
            if not list(self.libs_dir.glob("kafka_2.*.jar")):
                raise BrokerSetupError(
                    f"KAFKA_HOME={self.kafka_home} does not look like an Apache Kafka "
                    "distribution (no libs/kafka_2.*.jar)"
                )
        else:
            self.fetch()
        return f"{self.libs_dir}{os.sep}*"

    def fetch(self) -> Path:
        """Download the broker jars with Maven unless they are already cached."""
        target = self.libs_dir
        if (target / _COMPLETE_MARKER).exists():
            return target
        mvn = shutil.which(self.mvn)
        if mvn is None:
            raise BrokerSetupError(
                f"Maven not found ({self.mvn!r} is not on PATH): it fetches the Kafka {self.version} "
                "jars once (Debian/Ubuntu: apt install maven), or set KAFKA_HOME to an "
                "unpacked Apache Kafka distribution"
            )
        version_dir = target.parent
        version_dir.mkdir(parents=True, exist_ok=True)
        pom = (files("dxpulse.broker") / "pom.xml").read_text("utf-8")
        log.info("fetching Apache Kafka %s jars from Maven Central into %s", self.version, target)
        with tempfile.TemporaryDirectory(dir=version_dir, prefix=".fetch-") as tmp:
            tmp_path = Path(tmp)
            (tmp_path / "pom.xml").write_text(pom.replace("@KAFKA_VERSION@", self.version), "utf-8")
            out_dir = tmp_path / "libs"
            try:
                result = subprocess.run(
                    [
                        mvn,
                        "-B",
                        "-q",
                        "-f",
                        str(tmp_path / "pom.xml"),
                        "dependency:copy-dependencies",
                        "-DincludeScope=runtime",
                        f"-DoutputDirectory={out_dir}",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=1200,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise BrokerSetupError(
                    f"Maven failed to fetch Kafka {self.version}: {exc}"
                ) from exc
            if result.returncode != 0 or not list(out_dir.glob("kafka_2.*.jar")):
                tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
                raise BrokerSetupError(
                    f"Maven could not fetch Apache Kafka {self.version} (exit {result.returncode}); "
                    f"is the version right and Maven Central reachable?\n{tail}"
                )
            (out_dir / _COMPLETE_MARKER).write_text(self.version, "utf-8")
            if target.exists():
                shutil.rmtree(target)
            out_dir.rename(target)
        return target
