"""The linter passes the real dashboards and catches planted mistakes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from dxpulse.dashboards.build import build_all
from dxpulse.dashboards.lint import Problem, lint

Board = dict[str, Any]


@pytest.fixture(scope="module")
def boards() -> dict[str, Board]:
    return build_all()


def test_the_real_dashboards_are_clean(boards: dict[str, Board]) -> None:
    assert lint(boards.values()) == []


def test_there_are_the_seven_dashboards(boards: dict[str, Board]) -> None:
    assert sorted(boards) == [
        "dxpulse-dossiers",
        "dxpulse-invoices",
        "dxpulse-national",
        "dxpulse-payments",
        "dxpulse-pipeline",
        "dxpulse-province",
        "dxpulse-service-index",
    ]


def planted(boards: dict[str, Board], uid: str, change: Callable[[Board], None]) -> list[Problem]:
    mutated = copy.deepcopy(boards)
    change(mutated[uid])
    return lint(mutated.values())


def first_panel(board: Board, *, with_targets: bool = True) -> Board:
    return next(
        p for p in board["panels"] if p["type"] != "row" and (p.get("targets") or not with_targets)
    )


def messages(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def test_undefined_variable(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        first_panel(board)["targets"][0]["rawSql"] += " AND code = $nowhere"

    problems = planted(boards, "dxpulse-national", change)
    assert "$nowhere is used but not defined" in messages(problems)
    assert all(p.dashboard == "dxpulse-national" for p in problems)


def test_unused_variable(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        extra = copy.deepcopy(board["templating"]["list"][0])
        extra["name"] = "spare"
        board["templating"]["list"].append(extra)

    assert "$spare is defined but never used" in messages(
        planted(boards, "dxpulse-province", change)
    )


def test_duplicate_uid(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        board["uid"] = "dxpulse-national"

    problems = planted(boards, "dxpulse-pipeline", change)
    assert sum("duplicate uid 'dxpulse-national'" in p.message for p in problems) == 2


def test_duplicate_title(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        board["title"] = boards["dxpulse-national"]["title"]

    assert "duplicate title" in messages(planted(boards, "dxpulse-pipeline", change))


def test_overlapping_panels(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        panels = [p for p in board["panels"] if p["type"] != "row"]
        panels[1]["gridPos"] = dict(panels[0]["gridPos"])

    assert "overlaps panel" in messages(planted(boards, "dxpulse-invoices", change))


def test_panel_outside_the_grid(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        first_panel(board)["gridPos"]["x"] = 20

    assert "outside the 24-column grid" in messages(planted(boards, "dxpulse-invoices", change))


def test_duplicate_panel_id(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        board["panels"][2]["id"] = board["panels"][1]["id"]

    assert "is used 2 times" in messages(planted(boards, "dxpulse-payments", change))


def test_wrong_datasource_uid(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        wrong = {"type": "grafana-clickhouse-datasource", "uid": "another-clickhouse"}
        panel = first_panel(board)
        panel["datasource"] = wrong
        panel["targets"][0]["datasource"] = wrong

    text = messages(planted(boards, "dxpulse-dossiers", change))
    assert (
        "datasource {'type': 'grafana-clickhouse-datasource', 'uid': 'another-clickhouse'}" in text
    )
    assert "target A: datasource" in text


def test_target_without_sql_or_ref_id(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        target = first_panel(board)["targets"][0]
        target["rawSql"] = " "
        target["refId"] = ""

    text = messages(planted(boards, "dxpulse-dossiers", change))
    assert "no rawSql" in text
    assert "no refId" in text


def test_target_that_does_not_expand(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        first_panel(board)["targets"][0]["rawSql"] += " AND $__timeFilter(a, b)"

    assert "does not expand" in messages(planted(boards, "dxpulse-pipeline", change))


def test_format_and_query_type_must_agree(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        first_panel(board)["targets"][0]["queryType"] = "timeseries"
        first_panel(board)["targets"][0]["format"] = 1

    assert "does not match format 1" in messages(planted(boards, "dxpulse-pipeline", change))


def test_titles_and_descriptions_languages(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        board["title"] = "National overview"
        panel = first_panel(board)
        panel["title"] = "Online share"
        panel["description"] = ""

    text = messages(planted(boards, "dxpulse-national", change))
    assert "is not 'Tiếng Việt / English'" in text
    assert "title 'Online share' is not Vietnamese" in text
    assert "no description" in text


def test_time_zone_and_tag(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        board["timezone"] = "browser"
        board["tags"] = []

    text = messages(planted(boards, "dxpulse-national", change))
    assert "time zone is 'browser'" in text
    assert "missing the tag 'dxpulse'" in text


def test_links_must_point_at_existing_dashboards(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        board["links"][0]["url"] = "/d/dxpulse-nowhere"
        panel = next(
            p for p in board["panels"] if p.get("fieldConfig", {}).get("defaults", {}).get("links")
        )
        panel["fieldConfig"]["defaults"]["links"][0]["url"] = "https://example.com"

    text = messages(planted(boards, "dxpulse-national", change))
    assert "unknown dashboard uid 'dxpulse-nowhere'" in text
    assert "'https://example.com' does not point at a dxpulse dashboard" in text


def test_conditional_all_with_a_formatted_variable(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        target = first_panel(board)["targets"][0]
        target["rawSql"] = target["rawSql"].replace(
            "${province:sqlstring}), $province)", "${province:sqlstring}), ${province:csv})"
        )

    assert "only recognises $var or ${var}" in messages(planted(boards, "dxpulse-dossiers", change))


def test_missing_keys(boards: dict[str, Board]) -> None:
    def change(board: Board) -> None:
        del board["templating"]
        del first_panel(board)["gridPos"]

    text = messages(planted(boards, "dxpulse-pipeline", change))
    assert "missing keys: templating" in text
    assert "missing keys: gridPos" in text


def test_problems_read_as_one_line_each() -> None:
    assert str(Problem("uid", "panel 3 'x'", "bad")) == "uid: panel 3 'x': bad"
