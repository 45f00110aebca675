"""The alert rules file: Grafana's file-provisioning schema, links, thresholds, regeneration."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dxpulse.dashboards import PROVISIONING_DIR
from dxpulse.dashboards.alerts import (
    ALERTS_FILE,
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    NATIONAL_DASHBOARD_UID,
    PIPELINE_DASHBOARD_UID,
    PROVINCE_DASHBOARD_UID,
    AlertThresholds,
    Comparison,
    api_rules,
    build_provisioning,
    group_intervals,
    load_alerts,
    render_alerts,
    rule_specs,
    write_alerts,
)
from dxpulse.errors import ConfigurationError

# Keys of Grafana's provisioning types (pkg/services/provisioning/alerting/rules_types.go).
GROUP_KEYS = {"orgId", "name", "folder", "interval", "rules"}
RULE_KEYS = {
    "uid",
    "title",
    "condition",
    "data",
    "dashboardUid",
    "panelId",
    "noDataState",
    "execErrState",
    "for",
    "keepFiringFor",
    "missing_series_evals_to_resolve",
    "annotations",
    "labels",
    "isPaused",
    "notification_settings",
    "record",
}
REQUIRED_RULE_KEYS = {
    "uid",
    "title",
    "condition",
    "data",
    "noDataState",
    "execErrState",
    "for",
    "annotations",
    "labels",
}
QUERY_KEYS = {"refId", "queryType", "relativeTimeRange", "datasourceUid", "model"}
NO_DATA_STATES = {"NoData", "Alerting", "OK", "KeepLast"}
EXEC_ERR_STATES = {"Error", "Alerting", "OK", "KeepLast"}
DASHBOARD_UIDS = {PIPELINE_DASHBOARD_UID, PROVINCE_DASHBOARD_UID, NATIONAL_DASHBOARD_UID}
DURATION = re.compile(r"^[0-9]+[smhd]$")
UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    doc = yaml.safe_load(ALERTS_FILE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def rules_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_the_committed_file_is_where_grafana_reads_it() -> None:
    assert ALERTS_FILE == PROVISIONING_DIR / "alerting" / "dxpulse-alerts.yaml"
    assert ALERTS_FILE.is_file()


def test_regenerating_equals_the_committed_file() -> None:
    assert render_alerts() == ALERTS_FILE.read_text(encoding="utf-8"), (
        "dashboards/provisioning/alerting/dxpulse-alerts.yaml is stale: "
        "run `python -m dxpulse.dashboards.alerts`"
    )


def test_write_alerts_round_trips(tmp_path: Path) -> None:
    path = write_alerts(tmp_path / "alerting" / "rules.yaml")
    assert load_alerts(path) == build_provisioning()


def test_groups_follow_the_provisioning_schema(committed: dict[str, Any]) -> None:
    assert committed["apiVersion"] == 1
    assert set(committed) == {"apiVersion", "groups"}
    names = [group["name"] for group in committed["groups"]]
    assert len(names) == len(set(names))
    for group in committed["groups"]:
        assert set(group) == GROUP_KEYS
        assert group["orgId"] == 1
        assert group["folder"] == "dxpulse"
        assert DURATION.match(group["interval"])
        assert group["rules"]


def test_rules_follow_the_provisioning_schema(committed: dict[str, Any]) -> None:
    for rule in rules_of(committed):
        assert set(rule) <= RULE_KEYS, set(rule) - RULE_KEYS
        assert set(rule) >= REQUIRED_RULE_KEYS, REQUIRED_RULE_KEYS - set(rule)
        assert rule["noDataState"] in NO_DATA_STATES
        assert rule["execErrState"] in EXEC_ERR_STATES
        assert DURATION.match(rule["for"])
        assert rule["isPaused"] is False
        ref_ids = [query["refId"] for query in rule["data"]]
        assert len(ref_ids) == len(set(ref_ids))
        assert rule["condition"] in ref_ids
        for query in rule["data"]:
            assert set(query) == QUERY_KEYS
            assert query["model"]["refId"] == query["refId"]
            assert set(query["relativeTimeRange"]) == {"from", "to"}


def test_every_rule_queries_clickhouse_then_reduces_and_thresholds(
    committed: dict[str, Any],
) -> None:
    for rule in rules_of(committed):
        query, reduce, threshold = rule["data"]
        assert query["datasourceUid"] == DATASOURCE_UID
        model = query["model"]
        assert model["datasource"] == {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
        assert model["editorType"] == "sql"
        assert model["format"] == 1  # table: string columns become labels
        assert model["rawSql"].strip()
        assert query["relativeTimeRange"]["from"] > query["relativeTimeRange"]["to"] == 0
        assert reduce["datasourceUid"] == "__expr__"
        assert reduce["model"]["type"] == "reduce"
        assert reduce["model"]["expression"] == query["refId"]
        assert threshold["datasourceUid"] == "__expr__"
        assert threshold["model"]["type"] == "threshold"
        assert threshold["model"]["expression"] == reduce["refId"]
        (condition,) = threshold["model"]["conditions"]
        assert condition["evaluator"]["type"] in {"gt", "lt"}
        assert len(condition["evaluator"]["params"]) == 1
        assert rule["condition"] == threshold["refId"]


def test_sql_uses_bare_tables_and_no_plugin_macros(committed: dict[str, Any]) -> None:
    for rule in rules_of(committed):
        sql = rule["data"][0]["model"]["rawSql"]
        assert "$" not in sql and "{{" not in sql, rule["uid"]
        assert not re.search(r"\b\w+\.(pipeline_health|rollup_1h|window_1m|dead_letters)\b", sql)
        assert "now" in sql, "rules measure their own window"


def test_uids_are_unique_and_valid(committed: dict[str, Any]) -> None:
    uids = [rule["uid"] for rule in rules_of(committed)]
    assert len(uids) == len(set(uids))
    assert all(UID.match(uid) for uid in uids)
    titles = [rule["title"] for rule in rules_of(committed)]
    assert len(titles) == len(set(titles))


def test_every_rule_explains_itself_and_links_its_dashboard(committed: dict[str, Any]) -> None:
    for rule in rules_of(committed):
        annotations = rule["annotations"]
        assert annotations["summary"].strip()
        assert annotations["description"].strip()
        assert annotations["__dashboardUid__"] in DASHBOARD_UIDS
        assert annotations["__dashboardUid__"] == rule["dashboardUid"]
        assert annotations["__panelId__"] == str(rule["panelId"])
        assert rule["labels"]["severity"] in {"critical", "warning"}
        # Grafana expands ${VAR} in annotations and $VAR in labels from its environment.
        assert all("${" not in text for text in annotations.values())
        assert all("$" not in text for text in rule["labels"].values())


def test_the_four_rules_and_their_links() -> None:
    links = {spec.uid: spec.dashboard_uid for spec in rule_specs()}
    assert links == {
        "dxpulse-freshness": PIPELINE_DASHBOARD_UID,
        "dxpulse-consumer-lag": PIPELINE_DASHBOARD_UID,
        "dxpulse-dead-letters": PIPELINE_DASHBOARD_UID,
        "dxpulse-province-on-time": PROVINCE_DASHBOARD_UID,
    }


def panel_ids(node: Any) -> set[int]:
    found: set[int] = set()
    if isinstance(node, dict):
        if isinstance(node.get("id"), int) and node.get("type") not in (None, "row"):
            found.add(node["id"])
        for value in node.values():
            found |= panel_ids(value)
    elif isinstance(node, list):
        for value in node:
            found |= panel_ids(value)
    return found


@pytest.mark.parametrize("spec", rule_specs(), ids=lambda s: s.uid)
def test_linked_panel_exists_when_the_dashboard_is_committed(spec: Any) -> None:
    path = PROVISIONING_DIR / "dashboards" / "json" / f"{spec.dashboard_uid}.json"
    if not path.is_file():
        pytest.skip(f"{path.name} is not committed yet")
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    assert dashboard.get("uid") == spec.dashboard_uid
    assert spec.panel_id in panel_ids(dashboard.get("panels", [])), (
        f"{spec.uid} links panel {spec.panel_id} of {spec.dashboard_uid}, which has no such "
        "panel (rows do not count): change its panel_id in dashboards/alerts.py"
    )


def test_thresholds_flow_into_rules_and_sql() -> None:
    custom = AlertThresholds(
        freshness_s=600,
        lag_growth_minutes=15,
        lag_min_messages=5000,
        dead_letters_per_minute=2.5,
        dead_letters_window_minutes=5,
        on_time_rate_min=0.85,
        on_time_window_hours=12,
        on_time_min_completed=50,
    )
    specs = {spec.uid: spec for spec in rule_specs(custom)}
    assert specs["dxpulse-freshness"].threshold == 600
    lag = specs["dxpulse-consumer-lag"]
    assert (lag.threshold, lag.pending) == (5000, "15m")
    assert "INTERVAL 15 MINUTE" in lag.sql and "INTERVAL 30 MINUTE" in lag.sql
    dead = specs["dxpulse-dead-letters"]
    assert dead.threshold == 2.5 and "INTERVAL 5 MINUTE" in dead.sql and "/ 5" in dead.sql
    on_time = specs["dxpulse-province-on-time"]
    assert on_time.threshold == 0.85 and on_time.comparison is Comparison.lt
    assert "INTERVAL 11 HOUR" in on_time.sql and ">= 50" in on_time.sql
    doc = build_provisioning(custom)
    params = {
        rule["uid"]: rule["data"][2]["model"]["conditions"][0]["evaluator"]["params"]
        for rule in rules_of(doc)
    }
    assert params["dxpulse-dead-letters"] == [2.5]
    assert params["dxpulse-freshness"] == [600]


def test_defaults_are_the_documented_ones() -> None:
    t = AlertThresholds()
    assert (t.freshness_s, t.lag_growth_minutes, t.on_time_rate_min) == (300, 10, 0.9)
    assert (t.dead_letters_window_minutes, t.on_time_window_hours) == (10, 24)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"freshness_s": 0},
        {"on_time_rate_min": 1.5},
        {"on_time_rate_min": 0},
        {"dead_letters_per_minute": -1.0},
        {"dead_letters_per_minute": float("nan")},
        {"lag_min_messages": -1},
        {"pipeline_interval": "1 minute"},
        {"on_time_for": "0m"},
    ],
)
def test_invalid_thresholds_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="AlertThresholds"):
        AlertThresholds(**kwargs)


def test_fires_follows_the_comparison() -> None:
    specs = {spec.uid: spec for spec in rule_specs()}
    assert specs["dxpulse-freshness"].fires(301.0)
    assert not specs["dxpulse-freshness"].fires(300.0)
    assert specs["dxpulse-province-on-time"].fires(0.89)
    assert not specs["dxpulse-province-on-time"].fires(0.9)
    assert not specs["dxpulse-province-on-time"].fires(None)


def test_api_payloads(committed: dict[str, Any]) -> None:
    payloads = api_rules(committed, folder_uid="f1")
    assert [p["uid"] for p in payloads] == [r["uid"] for r in rules_of(committed)]
    for payload in payloads:
        assert payload["folderUID"] == "f1"
        assert payload["orgID"] == 1
        assert payload["ruleGroup"] in {"pipeline", "indicators"}
        assert "dashboardUid" not in payload and "panelId" not in payload
        assert payload["annotations"]["__dashboardUid__"] in DASHBOARD_UIDS
    assert group_intervals(committed) == {"pipeline": 60, "indicators": 300}


def test_load_alerts_explains_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: 1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="no groups"):
        load_alerts(path)
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_alerts(tmp_path / "missing.yaml")
