"""The committed dashboard JSON is exactly what the builders produce; the CLI builds and lints."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dxpulse.cli import app
from dxpulse.dashboards.build import DASHBOARDS_JSON_DIR, build_all, render, render_all, write_all

runner = CliRunner()


def test_committed_json_equals_the_builders_byte_for_byte() -> None:
    expected = render_all()
    committed = {p.name: p.read_bytes() for p in DASHBOARDS_JSON_DIR.glob("*.json")}
    assert sorted(committed) == sorted(expected), "run `dxpulse dashboards build` and commit"
    for name, text in expected.items():
        assert committed[name] == text.encode("utf-8"), (
            f"{name} differs from its builder: run `dxpulse dashboards build` and commit"
        )


def test_files_are_sorted_indented_utf8_with_a_final_newline() -> None:
    board = build_all()["dxpulse-national"]
    text = render(board)
    assert text.endswith("}\n")
    assert text.startswith('{\n  "annotations"')
    assert "Toàn quốc" in text  # Vietnamese kept readable, not \\u-escaped
    assert json.loads(text) == board


def test_write_all_writes_one_file_per_uid(tmp_path: Path) -> None:
    written = write_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{uid}.json" for uid in build_all())
    before = {p: p.stat().st_mtime_ns for p in written}
    assert write_all(tmp_path) == written
    assert {p: p.stat().st_mtime_ns for p in written} == before  # unchanged files untouched


def test_cli_build_then_lint(tmp_path: Path) -> None:
    result = runner.invoke(app, ["dashboards", "build", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "7 dashboards written, 7 new or changed." in result.output
    result = runner.invoke(app, ["dashboards", "build", "--dir", str(tmp_path)])
    assert "7 dashboards written, 0 new or changed." in result.output
    result = runner.invoke(app, ["dashboards", "lint", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "7 dashboards, no problems." in result.output


def test_cli_lint_reports_problems_and_exits_1(tmp_path: Path) -> None:
    write_all(tmp_path)
    path = tmp_path / "dxpulse-pipeline.json"
    board = json.loads(path.read_text(encoding="utf-8"))
    board["timezone"] = "utc"
    path.write_text(json.dumps(board), encoding="utf-8")
    (tmp_path / "dxpulse-province.json").unlink()
    result = runner.invoke(app, ["dashboards", "lint", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "dxpulse-pipeline.json: file: differs from the builders" in result.output
    assert "dxpulse-province.json: file: missing" in result.output
    assert "dxpulse-pipeline: dashboard: time zone is 'utc'" in result.output


def test_dashboards_commands_are_registered() -> None:
    result = runner.invoke(app, ["dashboards", "--help"])
    assert result.exit_code == 0
    for command in ("build", "lint", "push"):
        assert command in result.output
