"""The dashboard model renders the JSON Grafana 12 and the ClickHouse plugin (v4) expect."""

from __future__ import annotations

from typing import Any

import pytest

from dxpulse.dashboards.model import (
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    PLUGIN_VERSION,
    TIMEZONE,
    ClickHouseTarget,
    Dashboard,
    DashboardLink,
    DataLink,
    FieldConfig,
    GeomapPanel,
    Override,
    PieChartPanel,
    QueryFormat,
    QueryVariable,
    Row,
    StatPanel,
    TablePanel,
    Threshold,
    TimeseriesPanel,
    ValueMapping,
)

DS = {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}


def stat(width: int, height: int = 4, title: str = "Thử") -> StatPanel:
    return StatPanel(
        title=title,
        description="A test stat.",
        targets=(ClickHouseTarget(sql="SELECT 1 AS one"),),
        width=width,
        height=height,
    )


def board(*rows: Row, **kwargs: Any) -> dict[str, Any]:
    return Dashboard(uid="t", title="Thử / Test", description="d", rows=rows, **kwargs).to_json()


def test_target_follows_the_plugin_v4_query_model() -> None:
    table = ClickHouseTarget(sql="\n    SELECT 1\n    FROM t\n", ref_id="B").to_json()
    assert table == {
        "datasource": DS,
        "editorType": "sql",
        "format": 1,
        "pluginVersion": PLUGIN_VERSION,
        "queryType": "table",
        "rawSql": "SELECT 1\nFROM t",
        "refId": "B",
    }
    series = ClickHouseTarget(sql="SELECT now()", format=QueryFormat.TIME_SERIES).to_json()
    assert (series["format"], series["queryType"]) == (0, "timeseries")
    assert PLUGIN_VERSION.startswith("4.")


def test_dashboard_carries_the_conventions() -> None:
    out = board(
        Row(title="Hàng / Row", panels=(stat(6),)),
        links=(DashboardLink("Khác / Other", "other"),),
    )
    assert out["uid"] == "t"
    assert out["timezone"] == TIMEZONE == "Asia/Ho_Chi_Minh"
    assert out["tags"] == ["dxpulse"]
    assert out["editable"] is False
    assert out["links"][0]["url"] == "/d/other"
    assert out["links"][0]["keepTime"] is True
    assert "id" not in out  # provisioning assigns it


def test_rows_and_panels_flow_and_wrap_on_the_24_column_grid() -> None:
    out = board(
        Row(title="Một / One", panels=(stat(10, 4), stat(10, 6), stat(10, 3))),
        Row(title="Hai / Two", panels=(stat(24, 5),)),
    )
    grid = [(p["type"], p["gridPos"]) for p in out["panels"]]
    assert grid == [
        ("row", {"x": 0, "y": 0, "w": 24, "h": 1}),
        ("stat", {"x": 0, "y": 1, "w": 10, "h": 4}),
        ("stat", {"x": 10, "y": 1, "w": 10, "h": 6}),
        ("stat", {"x": 0, "y": 7, "w": 10, "h": 3}),  # below the taller neighbour
        ("row", {"x": 0, "y": 10, "w": 24, "h": 1}),
        ("stat", {"x": 0, "y": 11, "w": 24, "h": 5}),
    ]
    assert [p["id"] for p in out["panels"]] == [1, 2, 3, 4, 5, 6]


def test_a_panel_wider_than_the_grid_is_refused() -> None:
    with pytest.raises(ValueError, match="width 25"):
        board(Row(title="R / R", panels=(stat(25),)))


def test_every_panel_refers_to_the_provisioned_datasource() -> None:
    out = board(Row(title="R / R", panels=(stat(6),)))
    panel = out["panels"][1]
    assert panel["datasource"] == DS
    assert all(t["datasource"] == DS for t in panel["targets"])


def test_field_config_thresholds_mappings_links_and_overrides() -> None:
    panel = TablePanel(
        title="Bảng",
        description="A table.",
        targets=(ClickHouseTarget(sql="SELECT 1 AS rating"),),
        field=FieldConfig(
            unit="percentunit",
            decimals=1,
            min=0,
            max=1,
            thresholds=(Threshold(None, "red"), Threshold(0.5, "green")),
            mappings=(ValueMapping("good", "Tốt", "green"), ValueMapping("weak", "Yếu")),
            links=(DataLink("Tỉnh / Province", "dxpulse-province", "var-locality=01"),),
        ),
        overrides=(Override("rating", {"unit": "none", "custom.width": 80}),),
        sort_by=("rating", True),
    )
    out = board(Row(title="R / R", panels=(panel,)))["panels"][1]
    defaults = out["fieldConfig"]["defaults"]
    assert defaults["unit"] == "percentunit"
    assert (defaults["decimals"], defaults["min"], defaults["max"]) == (1, 0, 1)
    assert defaults["thresholds"] == {
        "mode": "absolute",
        "steps": [{"color": "red", "value": None}, {"color": "green", "value": 0.5}],
    }
    assert defaults["mappings"] == [
        {
            "type": "value",
            "options": {
                "good": {"index": 0, "text": "Tốt", "color": "green"},
                "weak": {"index": 1, "text": "Yếu"},
            },
        }
    ]
    assert defaults["links"] == [
        {
            "targetBlank": False,
            "title": "Tỉnh / Province",
            "url": "/d/dxpulse-province?var-locality=01",
        }
    ]
    assert out["fieldConfig"]["overrides"] == [
        {
            "matcher": {"id": "byName", "options": "rating"},
            "properties": [{"id": "unit", "value": "none"}, {"id": "custom.width", "value": 80}],
        }
    ]
    assert out["options"]["sortBy"] == [{"desc": True, "displayName": "rating"}]


def test_panel_kinds_render_their_options() -> None:
    series = TimeseriesPanel(
        title="Chuỗi",
        description="Series.",
        targets=(
            ClickHouseTarget(sql="SELECT now() AS time, 1 AS v", format=QueryFormat.TIME_SERIES),
        ),
        bars=True,
        stacked=True,
        interval="1m",
    )
    pie = PieChartPanel(
        title="Bánh", description="Pie.", targets=(ClickHouseTarget(sql="SELECT 'a', 1"),)
    )
    geo = GeomapPanel(
        title="Bản đồ",
        description="Map.",
        targets=(ClickHouseTarget(sql="SELECT 1 AS latitude, 2 AS longitude, 3 AS n, 'x' AS t"),),
        size_field="n",
        color_field="n",
        text_field="t",
    )
    sparkline = StatPanel(
        title="Số", description="Stat.", targets=(ClickHouseTarget(sql="SELECT 1"),), sparkline=True
    )
    out = board(Row(title="R / R", panels=(series, pie, geo, sparkline)))["panels"]
    assert out[1]["type"] == "timeseries"
    assert out[1]["interval"] == "1m"
    custom = out[1]["fieldConfig"]["defaults"]["custom"]
    assert (custom["drawStyle"], custom["stacking"]["mode"]) == ("bars", "normal")
    assert out[2]["type"] == "piechart"
    assert out[2]["options"]["reduceOptions"]["values"] is True
    layer = out[3]["options"]["layers"][0]
    assert out[3]["type"] == "geomap"
    assert layer["location"] == {"mode": "coords", "latitude": "latitude", "longitude": "longitude"}
    assert layer["config"]["style"]["size"]["field"] == "n"
    assert out[4]["options"]["graphMode"] == "area"


def test_query_variable_single_and_multi() -> None:
    single = QueryVariable(
        name="locality", label="Tỉnh", sql="SELECT code, name FROM t", description="d"
    ).to_json()
    assert single["type"] == "query"
    assert single["datasource"] == DS
    assert single["query"] == single["definition"] == "SELECT code, name FROM t"
    assert (single["multi"], single["includeAll"], single["current"]) == (False, False, {})
    multi = QueryVariable(
        name="p", label="P", sql="SELECT 1", description="d", multi=True, include_all=True
    ).to_json()
    assert (multi["multi"], multi["includeAll"]) == (True, True)
    assert multi["current"]["value"] == ["$__all"]
