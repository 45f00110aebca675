"""The Faust app's shape: one agent per source topic, configured for at-least-once."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from dxpulse.errors import ConfigurationError
from dxpulse.settings import Settings
from dxpulse.streams.app import APP_ID, create_app
from dxpulse.streams.topics import SOURCE_TOPICS


def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, home=tmp_path / "h", kafka_bootstrap="127.0.0.1:1")  # type: ignore[call-arg]


def test_one_agent_per_source_topic(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path))
    assert app.conf.id == APP_ID
    assert app.conf.processing_guarantee.value == "at_least_once"
    assert not app.conf.web_enabled
    subscribed = {topic for agent in app.agents.values() for topic in agent.channel.topics}
    assert subscribed == set(SOURCE_TOPICS)
    assert (tmp_path / "h" / "faust").is_dir()


def test_unknown_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--store must be one of"):
        create_app(settings(tmp_path), store="redis")


@pytest.mark.skipif(importlib.util.find_spec("rocksdict") is not None, reason="rocksdict installed")
def test_rocksdb_store_names_the_missing_package(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"pip install 'dxpulse\[rocksdb\]'"):
        create_app(settings(tmp_path), store="rocksdb")
