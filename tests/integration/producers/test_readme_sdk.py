"""The README's SDK example runs as written against the real broker."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration


def readme_sdk_example() -> str:
    text = (REPO / "README.md").read_text("utf-8")
    section = text.split("### From Python: the SDK", 1)[1].split("### From a file", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the SDK section has a python example"
    return match.group(1)


def test_readme_sdk_example_publishes(
    kafka_bootstrap: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DXPULSE_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("AGENCY_PSEUDONYM_KEY", "a-test-key-of-enough-length")
    exec(compile(readme_sdk_example(), "README.md", "exec"), {})
    printed = capsys.readouterr().out.strip()
    uuid.UUID(printed)  # it printed the generated event_id, not a validation problem
