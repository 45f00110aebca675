"""The Grafana publisher against a local fake of the few HTTP endpoints it calls.

The fake keeps folders, data sources, dashboards, alert rules and rule groups in memory,
answers the way Grafana 12 does (ids and versions added, secrets hidden, 404 when
missing, 401 for a wrong token) and records every request.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dxpulse.cli import dashboards_push
from dxpulse.dashboards.alerts import api_rules, build_provisioning, group_intervals
from dxpulse.dashboards.publisher import (
    CLICKHOUSE_PLUGIN_ID,
    GrafanaAuthError,
    GrafanaPluginMissingError,
    GrafanaRequestError,
    GrafanaUnreachableError,
    Outcome,
    PushReport,
    connect,
    load_datasource,
    push,
)
from dxpulse.errors import ConfigurationError

TOKEN = "glsa_test_token_0123456789"
PASSWORD = "s3cret-ch-password"
DS_VALUES = {
    "DXPULSE_GRAFANA_CH_HOST": "clickhouse",
    "DXPULSE_GRAFANA_CH_PORT": "8123",
    "DXPULSE_GRAFANA_CH_PROTOCOL": "http",
    "DXPULSE_GRAFANA_CH_USER": "dxpulse_grafana",
    "DXPULSE_DATABASE": "dx",
}
WRITES = {"POST", "PUT", "DELETE", "PATCH"}


# -- the fake Grafana ------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGrafana:
    token: str = TOKEN
    plugin_installed: bool = True
    read_only_token: bool = False
    requests: list[Recorded] = field(default_factory=list)
    unhandled: list[str] = field(default_factory=list)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[tuple[str, str], int] = field(default_factory=dict)
    next_id: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in WRITES]

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(Recorded(method, path, headers, copy.deepcopy(body)))
            if headers.get("authorization") != f"Bearer {self.token}":
                return 401, {"message": "Unauthorized"}
            if self.read_only_token and method in WRITES:
                return 403, {
                    "message": "You'll need additional permissions to perform this action."
                }
            for pattern, verb, handler in self.routes():
                match = re.fullmatch(pattern, path)
                if match and verb == method:
                    return handler(body, *match.groups())
            self.unhandled.append(f"{method} {path}")
            return 404, {"message": "Not found"}

    def routes(self) -> list[tuple[str, str, Callable[..., tuple[int, Any]]]]:
        return [
            (r"/api/plugins/([^/]+)/settings", "GET", self.get_plugin),
            (r"/api/folders/([^/]+)", "GET", self.get_folder),
            (r"/api/folders", "POST", self.post_folder),
            (r"/api/folders/([^/]+)", "PUT", self.put_folder),
            (r"/api/datasources/uid/([^/]+)", "GET", self.get_datasource),
            (r"/api/datasources", "POST", self.post_datasource),
            (r"/api/datasources/uid/([^/]+)", "PUT", self.put_datasource),
            (r"/api/dashboards/uid/([^/]+)", "GET", self.get_dashboard),
            (r"/api/dashboards/db", "POST", self.post_dashboard),
            (r"/api/v1/provisioning/alert-rules/([^/]+)", "GET", self.get_rule),
            (r"/api/v1/provisioning/alert-rules", "POST", self.post_rule),
            (r"/api/v1/provisioning/alert-rules/([^/]+)", "PUT", self.put_rule),
            (r"/api/v1/provisioning/folder/([^/]+)/rule-groups/([^/]+)", "GET", self.get_group),
            (r"/api/v1/provisioning/folder/([^/]+)/rule-groups/([^/]+)", "PUT", self.put_group),
        ]

    # plugins
    def get_plugin(self, _: Any, plugin_id: str) -> tuple[int, Any]:
        if plugin_id == CLICKHOUSE_PLUGIN_ID and self.plugin_installed:
            return 200, {"id": plugin_id, "type": "datasource", "enabled": True}
        return 404, {"message": "Plugin not found, no installed plugin with that id"}

    # folders
    def get_folder(self, _: Any, uid: str) -> tuple[int, Any]:
        if uid not in self.folders:
            return 404, {"message": "folder not found", "status": "not-found"}
        return 200, self.folders[uid]

    def post_folder(self, body: dict[str, Any]) -> tuple[int, Any]:
        uid = body["uid"]
        if uid in self.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        self.folders[uid] = {"id": self._id(), "uid": uid, "title": body["title"], "version": 1}
        return 200, self.folders[uid]

    def put_folder(self, body: dict[str, Any], uid: str) -> tuple[int, Any]:
        folder = self.folders[uid]
        folder.update(title=body["title"], version=folder["version"] + 1)
        return 200, folder

    # data sources
    def get_datasource(self, _: Any, uid: str) -> tuple[int, Any]:
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        stored = copy.deepcopy(self.datasources[uid])
        stored["secureJsonFields"] = {k: True for k in self.secrets.get(uid, {})}
        return 200, stored

    def post_datasource(self, body: dict[str, Any]) -> tuple[int, Any]:
        uid = body["uid"]
        if uid in self.datasources:
            return 409, {"message": "data source with the same uid already exists"}
        self._store_datasource(uid, body, version=1)
        return 200, {"datasource": self.datasources[uid], "id": 1, "message": "Datasource added"}

    def put_datasource(self, body: dict[str, Any], uid: str) -> tuple[int, Any]:
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        self._store_datasource(uid, body, version=self.datasources[uid]["version"] + 1)
        return 200, {"datasource": self.datasources[uid], "message": "Datasource updated"}

    def _store_datasource(self, uid: str, body: dict[str, Any], *, version: int) -> None:
        stored = {k: v for k, v in body.items() if k != "secureJsonData"}
        stored.update(id=7, orgId=1, readOnly=False, version=version, url="", basicAuth=False)
        self.datasources[uid] = stored
        # Like Grafana: secrets not sent are kept.
        self.secrets.setdefault(uid, {}).update(body.get("secureJsonData") or {})

    # dashboards
    def get_dashboard(self, _: Any, uid: str) -> tuple[int, Any]:
        if uid not in self.dashboards:
            return 404, {"message": "Dashboard not found"}
        return 200, copy.deepcopy(self.dashboards[uid])

    def post_dashboard(self, body: dict[str, Any]) -> tuple[int, Any]:
        dashboard = copy.deepcopy(body["dashboard"])
        uid = dashboard["uid"]
        previous = self.dashboards.get(uid)
        if previous is not None and not body.get("overwrite"):
            return 412, {"message": "The dashboard has been changed by someone else"}
        version = 1 if previous is None else previous["dashboard"]["version"] + 1
        dashboard.update(
            id=previous["dashboard"]["id"] if previous else self._id(), version=version
        )
        self.dashboards[uid] = {
            "dashboard": dashboard,
            "meta": {"folderUid": body.get("folderUid", ""), "provisioned": False},
        }
        return 200, {"id": dashboard["id"], "uid": uid, "status": "success", "version": version}

    # alert rules
    def get_rule(self, _: Any, uid: str) -> tuple[int, Any]:
        if uid not in self.rules:
            return 404, None
        return 200, copy.deepcopy(self.rules[uid])

    def post_rule(self, body: dict[str, Any]) -> tuple[int, Any]:
        if body["uid"] in self.rules:
            return 409, {"message": "rule with the same uid already exists"}
        self._store_rule(body)
        return 201, self.rules[body["uid"]]

    def put_rule(self, body: dict[str, Any], uid: str) -> tuple[int, Any]:
        if uid not in self.rules:
            return 404, {"message": "rule not found"}
        self._store_rule(body)
        return 200, self.rules[uid]

    def _store_rule(self, body: dict[str, Any]) -> None:
        stored = copy.deepcopy(body)
        for query in stored["data"]:  # Grafana fills in these model defaults
            query["model"].setdefault("intervalMs", 1000)
            query["model"].setdefault("maxDataPoints", 43200)
        headers = self.requests[-1].headers
        provenance = "" if headers.get("x-disable-provenance") == "true" else "api"
        stored.update(id=self._id(), updated="2026-11-20T09:15:00Z", provenance=provenance)
        stored.setdefault("notification_settings", None)
        self.rules[stored["uid"]] = stored
        self.groups.setdefault((stored["folderUID"], stored["ruleGroup"]), 60)

    def get_group(self, _: Any, folder: str, name: str) -> tuple[int, Any]:
        if (folder, name) not in self.groups:
            return 404, {"message": "rule group not found"}
        rules = [
            r for r in self.rules.values() if (r["folderUID"], r["ruleGroup"]) == (folder, name)
        ]
        return 200, {
            "title": name,
            "folderUid": folder,
            "interval": self.groups[(folder, name)],
            "rules": rules,
        }

    def put_group(self, body: dict[str, Any], folder: str, name: str) -> tuple[int, Any]:
        self.groups[(folder, name)] = int(body["interval"])
        return 200, body


def make_handler(fake: FakeGrafana) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = fake.handle(self.command, self.path.split("?")[0], headers, body)
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    fake = FakeGrafana()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(fake))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert not fake.unhandled, f"the publisher called endpoints the fake lacks: {fake.unhandled}"


# -- inputs ----------------------------------------------------------------------------


def sample_dashboards() -> dict[str, dict[str, Any]]:
    def board(uid: str, title: str) -> dict[str, Any]:
        return {
            "uid": uid,
            "title": title,
            "schemaVersion": 41,
            "tags": ["dxpulse"],
            "time": {"from": "now-6h", "to": "now"},
            "panels": [
                {
                    "id": 1,
                    "type": "stat",
                    "title": "Events",
                    "datasource": {
                        "type": "grafana-clickhouse-datasource",
                        "uid": "dxpulse-clickhouse",
                    },
                    "targets": [{"refId": "A", "rawSql": "SELECT count() FROM window_1m"}],
                    "gridPos": {"h": 4, "w": 6, "x": 0, "y": 0},
                }
            ],
        }

    return {
        "dxpulse-national": board("dxpulse-national", "Toàn quốc / National"),
        "dxpulse-province": board("dxpulse-province", "Tỉnh / Province"),
        "dxpulse-pipeline": board("dxpulse-pipeline", "Pipeline health"),
    }


ALERTS = build_provisioning()


def push_all(
    fake: FakeGrafana,
    *,
    dashboards: dict[str, dict[str, Any]] | None = None,
    password: str | None = PASSWORD,
    values: dict[str, str] | None = None,
    rules: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> PushReport:
    api = connect(fake.url, token=fake.token, timeout=5)
    try:
        return push(
            api,
            dashboards=sample_dashboards() if dashboards is None else dashboards,
            datasource=load_datasource(values=values or DS_VALUES, password=password),
            alert_rules=api_rules(ALERTS) if rules is None else rules,
            rule_group_intervals=group_intervals(ALERTS),
            **kwargs,
        )
    finally:
        api.client.s.close()


def outcomes(report: PushReport, kind: str) -> dict[str, Outcome]:
    return {item.uid: item.outcome for item in report.items if item.kind == kind}


# -- tests -----------------------------------------------------------------------------


def test_first_push_creates_everything(grafana: FakeGrafana) -> None:
    report = push_all(grafana)

    assert outcomes(report, "folder") == {"dxpulse": Outcome.created}
    assert outcomes(report, "datasource") == {"dxpulse-clickhouse": Outcome.created}
    assert outcomes(report, "dashboard") == dict.fromkeys(sample_dashboards(), Outcome.created)
    rule_uids = [rule["uid"] for rule in api_rules(ALERTS)]
    assert outcomes(report, "alert rule") == dict.fromkeys(rule_uids, Outcome.created)
    # New rule groups get Grafana's default interval (1m): indicators is set to 5m.
    assert outcomes(report, "rule group") == {
        "pipeline": Outcome.unchanged,
        "indicators": Outcome.updated,
    }
    assert grafana.groups == {("dxpulse", "pipeline"): 60, ("dxpulse", "indicators"): 300}

    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in grafana.requests)
    assert grafana.folders["dxpulse"]["title"] == "dxpulse"

    (ds_request,) = [r for r in grafana.writes() if r.path == "/api/datasources"]
    ds = ds_request.body
    assert ds["type"] == "grafana-clickhouse-datasource"
    assert ds["uid"] == "dxpulse-clickhouse"
    assert ds["access"] == "proxy"
    assert set(ds["jsonData"]) >= {"host", "port", "protocol", "username", "defaultDatabase"}
    assert ds["jsonData"] == {
        "host": "clickhouse",
        "port": 8123,
        "protocol": "http",
        "secure": False,
        "username": "dxpulse_grafana",
        "defaultDatabase": "dx",
        "dialTimeout": 10,
        "queryTimeout": 60,
    }
    assert ds["secureJsonData"] == {"password": PASSWORD}
    assert json.dumps(ds).count(PASSWORD) == 1, "the password is only in secureJsonData"
    assert "editable" not in ds

    saved = [r.body for r in grafana.writes() if r.path == "/api/dashboards/db"]
    assert sorted(b["dashboard"]["uid"] for b in saved) == sorted(sample_dashboards())
    assert all(b["folderUid"] == "dxpulse" and b["overwrite"] is True for b in saved)
    assert set(grafana.dashboards) == set(sample_dashboards())

    created = [r.body for r in grafana.writes() if r.path == "/api/v1/provisioning/alert-rules"]
    assert [b["uid"] for b in created] == rule_uids
    assert all(b["folderUID"] == "dxpulse" for b in created)
    assert all(
        b["data"][0]["datasourceUid"] == "dxpulse-clickhouse" and b["data"][0]["model"]["rawSql"]
        for b in created
    )
    # Rules are locked in the UI by default, like provisioned ones.
    assert all(rule["provenance"] == "api" for rule in grafana.rules.values())


def test_second_push_changes_nothing(grafana: FakeGrafana) -> None:
    push_all(grafana)
    before = len(grafana.requests)

    report = push_all(grafana)

    assert report.changed == []
    assert report.counts()["unchanged"] == len(report.items) > 0
    assert [r for r in grafana.requests[before:] if r.method in WRITES] == []


def test_changing_one_dashboard_updates_only_that_one(grafana: FakeGrafana) -> None:
    push_all(grafana)
    before = len(grafana.requests)
    boards = sample_dashboards()
    boards["dxpulse-province"]["panels"][0]["title"] = "Dossiers received"

    report = push_all(grafana, dashboards=boards)

    assert report.changed == [item for item in report.items if item.uid == "dxpulse-province"]
    assert outcomes(report, "dashboard")["dxpulse-province"] is Outcome.updated
    writes = [r for r in grafana.requests[before:] if r.method in WRITES]
    assert [(w.method, w.path, w.body["dashboard"]["uid"]) for w in writes] == [
        ("POST", "/api/dashboards/db", "dxpulse-province")
    ]
    stored = grafana.dashboards["dxpulse-province"]["dashboard"]
    assert stored["panels"][0]["title"] == "Dossiers received"
    assert stored["version"] == 2


def test_changing_one_rule_updates_only_that_one(grafana: FakeGrafana) -> None:
    push_all(grafana)
    before = len(grafana.requests)
    rules = api_rules(ALERTS)
    rules[1]["data"][2]["model"]["conditions"][0]["evaluator"]["params"] = [5000]

    report = push_all(grafana, rules=rules)

    assert [(i.kind, i.uid, i.outcome) for i in report.changed] == [
        ("alert rule", rules[1]["uid"], Outcome.updated)
    ]
    writes = [r for r in grafana.requests[before:] if r.method in WRITES]
    assert [(w.method, w.path) for w in writes] == [
        ("PUT", f"/api/v1/provisioning/alert-rules/{rules[1]['uid']}")
    ]


def test_a_rule_edited_in_grafana_is_put_back(grafana: FakeGrafana) -> None:
    push_all(grafana)
    grafana.rules["dxpulse-freshness"]["labels"]["extra"] = "added in the UI"

    report = push_all(grafana)

    assert [i.uid for i in report.changed] == ["dxpulse-freshness"]
    assert "extra" not in grafana.rules["dxpulse-freshness"]["labels"]


def test_datasource_change_keeps_the_stored_password(grafana: FakeGrafana) -> None:
    push_all(grafana)
    report = push_all(
        grafana, password=None, values={**DS_VALUES, "DXPULSE_GRAFANA_CH_HOST": "ch2"}
    )

    assert [(i.kind, i.outcome) for i in report.changed] == [("datasource", Outcome.updated)]
    (update,) = [r for r in grafana.writes() if r.method == "PUT" and "datasources" in r.path]
    assert "secureJsonData" not in update.body
    assert grafana.datasources["dxpulse-clickhouse"]["jsonData"]["host"] == "ch2"
    assert grafana.secrets["dxpulse-clickhouse"] == {"password": PASSWORD}


def test_update_password_sends_it_even_when_nothing_else_changed(grafana: FakeGrafana) -> None:
    push_all(grafana)
    report = push_all(grafana, password="rotated", update_password=True)

    assert [(i.kind, i.outcome) for i in report.changed] == [("datasource", Outcome.updated)]
    assert grafana.secrets["dxpulse-clickhouse"] == {"password": "rotated"}


def test_editable_rules_disable_provenance(grafana: FakeGrafana) -> None:
    push_all(grafana, disable_provenance=True)
    created = [r for r in grafana.writes() if r.path == "/api/v1/provisioning/alert-rules"]
    assert created and all(r.headers.get("x-disable-provenance") == "true" for r in created)
    assert all(rule["provenance"] == "" for rule in grafana.rules.values())


def test_a_file_provisioned_datasource_is_not_overwritten(grafana: FakeGrafana) -> None:
    push_all(grafana)
    grafana.datasources["dxpulse-clickhouse"]["readOnly"] = True
    with pytest.raises(GrafanaRequestError, match="provisioned from a file"):
        push_all(grafana, values={**DS_VALUES, "DXPULSE_GRAFANA_CH_HOST": "elsewhere"})
    assert grafana.datasources["dxpulse-clickhouse"]["jsonData"]["host"] == "clickhouse"


def test_creating_the_datasource_needs_a_password(grafana: FakeGrafana) -> None:
    with pytest.raises(ConfigurationError, match="DXPULSE_CH_GRAFANA_PASSWORD"):
        push_all(grafana, password=None)
    assert "dxpulse-clickhouse" not in grafana.datasources


def test_wrong_token_is_an_auth_error(grafana: FakeGrafana) -> None:
    api = connect(grafana.url, token="wrong", timeout=5)
    try:
        with pytest.raises(GrafanaAuthError) as info:
            push(api, dashboards={}, datasource=load_datasource(values=DS_VALUES), alert_rules=[])
    finally:
        api.client.s.close()
    message = str(info.value)
    assert message.startswith("token rejected: ")
    assert "401" in message and grafana.url in message
    assert "wrong" not in message, "the token is never echoed"
    assert info.value.exit_code == 3
    assert grafana.writes() == []


def test_token_without_permission_is_an_auth_error(grafana: FakeGrafana) -> None:
    grafana.read_only_token = True
    with pytest.raises(GrafanaAuthError, match=r"^token rejected: .*403 Forbidden.*Admin role"):
        push_all(grafana)


def test_closed_port_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    api = connect(url, token=TOKEN, timeout=2)
    try:
        with pytest.raises(GrafanaUnreachableError) as info:
            push(api, dashboards={}, datasource=load_datasource(values=DS_VALUES), alert_rules=[])
    finally:
        api.client.s.close()
    assert str(info.value).startswith(f"cannot reach Grafana at {url}")
    assert info.value.exit_code == 3


def test_missing_plugin_is_explained_before_any_write(grafana: FakeGrafana) -> None:
    grafana.plugin_installed = False
    with pytest.raises(GrafanaPluginMissingError) as info:
        push_all(grafana)
    message = str(info.value)
    assert "grafana-clickhouse-datasource" in message
    assert "GF_PLUGINS_PREINSTALL_SYNC" in message
    assert info.value.exit_code == 3
    assert grafana.writes() == []


def test_load_datasource_fills_the_provisioning_file() -> None:
    ds = load_datasource(values={**DS_VALUES, "DXPULSE_GRAFANA_CH_PORT": "9000"}, password="pw")
    assert ds["name"] == "dxpulse ClickHouse"
    assert ds["jsonData"]["port"] == 9000
    assert ds["secureJsonData"] == {"password": "pw"}
    assert "password" not in ds["jsonData"]
    assert "secureJsonData" not in load_datasource(values=DS_VALUES)
    with pytest.raises(ConfigurationError, match="DXPULSE_GRAFANA_CH_HOST"):
        load_datasource(
            values={k: v for k, v in DS_VALUES.items() if k != "DXPULSE_GRAFANA_CH_HOST"}
        )
    with pytest.raises(ConfigurationError, match="port"):
        load_datasource(values={**DS_VALUES, "DXPULSE_GRAFANA_CH_PORT": "eighty"})


def test_connect_refuses_a_bad_url() -> None:
    with pytest.raises(ConfigurationError, match="Grafana URL"):
        connect("grafana:3000", token=TOKEN)


# -- the command -----------------------------------------------------------------------


@pytest.fixture
def cli_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    folder = tmp_path / "json"
    folder.mkdir()
    for uid, board in sample_dashboards().items():
        (folder / f"{uid}.json").write_text(json.dumps(board, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(dashboards_push, "DASHBOARDS_DIR", folder)
    app = typer.Typer()
    app.command()(dashboards_push.push)

    @app.callback()
    def _root() -> None:
        """dashboards"""

    return app


def cli_env(fake: FakeGrafana, **extra: str) -> dict[str, str]:
    return {
        "DXPULSE_GRAFANA_URL": fake.url,
        "DXPULSE_GRAFANA_TOKEN": fake.token,
        "DXPULSE_GRAFANA_CH_HOST": "clickhouse",
        "DXPULSE_GRAFANA_CH_USER": "dxpulse_grafana",
        "DXPULSE_CH_GRAFANA_PASSWORD": PASSWORD,
        "DXPULSE_DATABASE": "dx",
        "COLUMNS": "200",
        **extra,
    }


def test_cli_push_prints_what_changed(grafana: FakeGrafana, cli_app: typer.Typer) -> None:
    runner = CliRunner()
    first = runner.invoke(cli_app, ["push"], env=cli_env(grafana))
    assert first.exit_code == 0, first.output + first.stderr
    assert "dxpulse-national" in first.stdout and "created" in first.stdout
    assert "dxpulse-freshness" in first.stdout
    assert TOKEN not in first.stdout and PASSWORD not in first.stdout
    assert set(grafana.dashboards) == set(sample_dashboards())
    assert grafana.datasources["dxpulse-clickhouse"]["jsonData"]["defaultDatabase"] == "dx"

    second = runner.invoke(cli_app, ["push"], env=cli_env(grafana))
    assert second.exit_code == 0, second.output + second.stderr
    assert "0 created, 0 updated" in second.stdout


def test_cli_push_options_override_the_environment(
    grafana: FakeGrafana, cli_app: typer.Typer
) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["push", "--ch-host", "ch.internal", "--ch-port", "9000", "--ch-protocol", "native"],
        env=cli_env(grafana),
    )
    assert result.exit_code == 0, result.output + result.stderr
    json_data = grafana.datasources["dxpulse-clickhouse"]["jsonData"]
    assert (json_data["host"], json_data["port"], json_data["protocol"]) == (
        "ch.internal",
        9000,
        "native",
    )


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("token", "token rejected"),
        ("plugin", "grafana-clickhouse-datasource"),
        ("closed", "cannot reach Grafana at"),
    ],
)
def test_cli_push_fails_with_exit_code_3_and_one_line(
    grafana: FakeGrafana, cli_app: typer.Typer, setup: str, expected: str
) -> None:
    env = cli_env(grafana)
    if setup == "token":
        env["DXPULSE_GRAFANA_TOKEN"] = "wrong"
    elif setup == "plugin":
        grafana.plugin_installed = False
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            env["DXPULSE_GRAFANA_URL"] = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = CliRunner().invoke(cli_app, ["push", "--timeout", "2"], env=env)
    assert result.exit_code == 3, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert grafana.writes() == []


def test_cli_push_needs_the_password_to_create_the_datasource(
    grafana: FakeGrafana, cli_app: typer.Typer
) -> None:
    env = cli_env(grafana)
    del env["DXPULSE_CH_GRAFANA_PASSWORD"]
    result = CliRunner().invoke(cli_app, ["push"], env=env)
    assert result.exit_code == 2
    assert "DXPULSE_CH_GRAFANA_PASSWORD" in result.stderr
