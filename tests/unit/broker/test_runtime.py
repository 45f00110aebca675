from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dxpulse.broker.runtime import KafkaRuntime, java_major_version
from dxpulse.errors import BrokerSetupError


def fake_executable(folder: Path, name: str, script: str) -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_missing_java_is_explained(tmp_path: Path) -> None:
    runtime = KafkaRuntime(version="4.1.1", cache_dir=tmp_path, java="no-such-java-here")
    with pytest.raises(BrokerSetupError, match=r"Java not found .* needs Java 17\+"):
        runtime.java_executable()


def test_old_java_is_refused(tmp_path: Path) -> None:
    java = fake_executable(tmp_path, "java", "echo 'openjdk version \"11.0.2\" 2019-01-15' >&2")
    assert java_major_version(str(java)) == 11
    with pytest.raises(BrokerSetupError, match="Java 11 found, but the Kafka broker needs Java 17"):
        KafkaRuntime(version="4.1.1", cache_dir=tmp_path, java=str(java)).java_executable()


def test_java_8_style_version_is_parsed(tmp_path: Path) -> None:
    java = fake_executable(tmp_path, "java", "echo 'java version \"1.8.0_391\"' >&2")
    assert java_major_version(str(java)) == 8


def test_missing_maven_is_explained(tmp_path: Path) -> None:
    runtime = KafkaRuntime(version="4.1.1", cache_dir=tmp_path / "cache", mvn="no-such-mvn")
    with pytest.raises(BrokerSetupError, match=r"Maven not found .*KAFKA_HOME"):
        runtime.classpath()


def test_failed_maven_fetch_shows_its_output(tmp_path: Path) -> None:
    mvn = fake_executable(
        tmp_path, "mvn", "echo '[ERROR] Could not resolve kafka_2.13:9.9.9'; exit 1"
    )
    runtime = KafkaRuntime(version="9.9.9", cache_dir=tmp_path / "cache", mvn=str(mvn))
    with pytest.raises(
        BrokerSetupError, match=r"(?s)could not fetch Apache Kafka 9\.9\.9.*Could not resolve"
    ):
        runtime.fetch()
    assert not runtime.libs_dir.exists()


def test_kafka_home_is_used_instead_of_fetching(tmp_path: Path) -> None:
    home = tmp_path / "kafka_2.13-4.1.1"
    (home / "libs").mkdir(parents=True)
    (home / "libs" / "kafka_2.13-4.1.1.jar").write_bytes(b"")
    runtime = KafkaRuntime(
        version="4.1.1", cache_dir=tmp_path / "cache", kafka_home=home, mvn="no-such-mvn"
    )
    assert runtime.classpath() == f"{home / 'libs'}{os.sep}*"
    assert not (tmp_path / "cache").exists()


def test_kafka_home_that_is_not_kafka_is_refused(tmp_path: Path) -> None:
    (tmp_path / "libs").mkdir()
    runtime = KafkaRuntime(version="4.1.1", cache_dir=tmp_path / "cache", kafka_home=tmp_path)
    with pytest.raises(BrokerSetupError, match="does not look like an Apache Kafka distribution"):
        runtime.classpath()


def test_cached_jars_are_not_fetched_again(tmp_path: Path) -> None:
    runtime = KafkaRuntime(version="4.1.1", cache_dir=tmp_path, mvn="no-such-mvn")
    runtime.libs_dir.mkdir(parents=True)
    (runtime.libs_dir / ".complete").write_text("4.1.1")
    assert runtime.fetch() == runtime.libs_dir  # no Maven needed
