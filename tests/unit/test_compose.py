"""docker-compose.yml checked against the code and the configs it wires together.

No Docker here: the compose file, the ClickHouse users file and the Grafana data
source are parsed, and each test fails when one of them drifts from another or
from the code (Settings fields, CLI commands, ports, users, passwords).
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer.main
import yaml

import dxpulse.cli
from dxpulse.settings import DEFAULT_KAFKA_VERSION, Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
USERS_XML = REPO / "deploy" / "clickhouse" / "users.d" / "dxpulse.xml"
DATASOURCE_YAML = REPO / "dashboards" / "provisioning" / "datasources" / "clickhouse.yaml"

OFFICIAL_IMAGES = {
    "kafka": "apache/kafka",
    "clickhouse": "clickhouse/clickhouse-server",
    "grafana": "grafana/grafana",
}
APP_SERVICES = ("migrate", "sink", "worker", "simulator")
# One-shot (migrate) or without a probe yet (worker, simulator).
WITHOUT_HEALTHCHECK = {"migrate", "sink", "worker", "simulator"}
CONDITIONS = {"service_healthy", "service_completed_successfully"}
CLICKHOUSE_PORTS = {"http": 8123, "native": 9000}
PLUGIN_ID = "grafana-clickhouse-datasource"
# jsonData keys read by grafana-clickhouse-datasource v4 (pkg/plugin/settings.go).
DOCUMENTED_JSONDATA_KEYS = {
    "host",
    "port",
    "protocol",
    "secure",
    "path",
    "username",
    "defaultDatabase",
    "dialTimeout",
    "queryTimeout",
    "customSettings",
    "tlsSkipVerify",
    "tlsAuth",
    "tlsAuthWithCACert",
    "httpHeaders",
    "logs",
    "traces",
    "version",
}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
_REQUIRED = re.compile(r"\$\{(?P<name>\w+):\?[^}]+\}")
# Grafana expands $NAME and ${NAME} in provisioning files.
_GRAFANA_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


# Loading -------------------------------------------------------------------------------


@functools.cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{COMPOSE_FILE.name} is not a mapping"
    return data


def services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose()["services"]
    return result


def env(service: str) -> dict[str, str]:
    """The service's environment as strings, whichever syntax compose uses."""
    raw = services()[service].get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def depends_on(service: str) -> dict[str, dict[str, Any]]:
    raw = services()[service].get("depends_on") or {}
    if isinstance(raw, list):
        return {name: {} for name in raw}
    return {name: spec or {} for name, spec in raw.items()}


def resolve(value: str) -> str:
    """Replace compose interpolations by their default, or a dummy when there is none."""

    def repl(m: re.Match[str]) -> str:
        if m["op"] in (":-", "-"):
            return m["arg"]
        return f"dummy-{m['name'].lower()}"

    return _INTERPOLATION.sub(repl, value)


def required_variable(value: str) -> str | None:
    """NAME when the value is exactly ``${NAME:?message}``, else None."""
    m = _REQUIRED.fullmatch(value)
    return m["name"] if m else None


def app_settings(service: str) -> Settings:
    values = {
        name.removeprefix("DXPULSE_").lower(): resolve(value)
        for name, value in env(service).items()
        if name.startswith("DXPULSE_")
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def services_with_image(repository: str) -> set[str]:
    return {
        name
        for name, spec in services().items()
        if str(spec.get("image", "")).rpartition(":")[0] == repository
    }


@functools.cache
def users_xml() -> ET.Element:
    return ET.parse(USERS_XML).getroot()


def ch_user(name: str) -> ET.Element | None:
    return users_xml().find(f"users/{name}")


def profile_of(user: ET.Element) -> ET.Element | None:
    return users_xml().find(f"profiles/{user.findtext('profile', 'default')}")


def grants_of(user: ET.Element) -> list[str]:
    return [" ".join((q.text or "").split()) for q in user.findall("grants/query")]


@functools.cache
def datasource() -> dict[str, Any]:
    data = yaml.safe_load(DATASOURCE_YAML.read_text(encoding="utf-8"))
    sources = data["datasources"]
    assert len(sources) == 1, (
        f"{DATASOURCE_YAML.name}: expected one data source, got {len(sources)}"
    )
    result: dict[str, Any] = sources[0]
    return result


def strings_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return [value] if isinstance(value, str) else []


def grafana_expand(value: Any) -> str:
    """A data source value as Grafana sees it, with the grafana service's environment."""
    variables = env("grafana")
    return _GRAFANA_VARIABLE.sub(lambda m: variables[m[1] or m[2]], str(value))


def advertised_listeners() -> dict[str, tuple[str, int]]:
    result = {}
    for item in env("kafka")["KAFKA_ADVERTISED_LISTENERS"].split(","):
        name, _, address = item.strip().partition("://")
        host, _, port = address.rpartition(":")
        result[name] = (host, int(port))
    return result


# Images --------------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "repository"), sorted(OFFICIAL_IMAGES.items()))
def test_infrastructure_images_are_official_and_pinned(service: str, repository: str) -> None:
    image = str(services()[service].get("image", ""))
    name, _, tag = image.rpartition(":")
    assert name == repository, f"{service}: image {image!r} is not the official {repository}"
    assert re.fullmatch(r"\d+(\.\d+)*", tag), (
        f"{service}: image {image!r} needs a pinned numeric tag (not latest, not untagged)"
    )


def test_kafka_image_is_the_version_the_local_broker_runs() -> None:
    tag = services()["kafka"]["image"].rpartition(":")[2]
    assert tag == DEFAULT_KAFKA_VERSION, (
        f"compose runs Kafka {tag}, dxpulse's local broker {DEFAULT_KAFKA_VERSION}: keep them equal"
    )


def test_app_services_build_one_image_from_the_repository_dockerfile() -> None:
    images = {services()[s].get("image") for s in APP_SERVICES}
    assert len(images) == 1, f"app services should share one image, got {images}"
    for service in APP_SERVICES:
        build = services()[service].get("build")
        assert isinstance(build, dict | str), f"{service}: no build section"
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        assert (REPO / context / dockerfile).is_file(), f"{service}: {context}/{dockerfile} missing"


# Health and start order ----------------------------------------------------------------


def test_every_long_running_service_has_a_healthcheck() -> None:
    missing = [
        name
        for name, spec in services().items()
        if name not in WITHOUT_HEALTHCHECK
        and (not spec.get("healthcheck", {}).get("test") or spec["healthcheck"].get("disable"))
    ]
    assert not missing, f"services without a healthcheck: {missing}"


def test_depends_on_uses_conditions_on_existing_services() -> None:
    problems = []
    for name in services():
        for target, spec in depends_on(name).items():
            condition = spec.get("condition")
            if target not in services():
                problems.append(f"{name} -> {target}: no such service")
            elif condition not in CONDITIONS:
                problems.append(f"{name} -> {target}: condition {condition!r} not in {CONDITIONS}")
            elif condition == "service_healthy" and "healthcheck" not in services()[target]:
                problems.append(
                    f"{name} -> {target}: service_healthy, but {target} has no healthcheck"
                )
            elif condition == "service_completed_successfully" and (
                str(services()[target].get("restart", "no")) != "no"
            ):
                problems.append(f"{name} -> {target}: waits for completion, but {target} restarts")
    assert not problems, "; ".join(problems)


def test_volume_host_paths_exist_and_named_volumes_are_declared() -> None:
    declared = set(compose().get("volumes") or {})
    problems = []
    for name, spec in services().items():
        for volume in spec.get("volumes", []):
            source = volume.get("source", "") if isinstance(volume, dict) else volume.split(":")[0]
            if source.startswith((".", "/", "~")):
                if not (REPO / source).exists():
                    problems.append(f"{name}: host path {source} does not exist in the repository")
            elif source not in declared:
                problems.append(f"{name}: named volume {source!r} is not declared under volumes:")
    assert not problems, "; ".join(problems)


# App services against dxpulse.settings.Settings ------------------------------------------


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_env_names_are_settings_fields(service: str) -> None:
    names = [name for name in env(service) if name.startswith("DXPULSE_")]
    assert names, f"{service}: sets no DXPULSE_* variable"
    unknown = [n for n in names if n.removeprefix("DXPULSE_").lower() not in Settings.model_fields]
    assert not unknown, f"{service}: {unknown} are not fields of dxpulse.settings.Settings"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_env_values_parse_as_settings(service: str) -> None:
    app_settings(service)  # raises ValidationError on a bad value


def test_kafka_bootstrap_is_the_advertised_plaintext_listener() -> None:
    expected = advertised_listeners()["PLAINTEXT"]
    assert expected[0] in {"kafka", services()["kafka"].get("hostname")}, (
        f"kafka advertises PLAINTEXT as {expected[0]!r}, which containers cannot resolve"
    )
    checked = []
    for service in APP_SERVICES:
        uses_kafka = "kafka" in depends_on(service)
        sets_bootstrap = "DXPULSE_KAFKA_BOOTSTRAP" in env(service)
        assert uses_kafka == sets_bootstrap, (
            f"{service}: depends on kafka ({uses_kafka}) but sets DXPULSE_KAFKA_BOOTSTRAP "
            f"({sets_bootstrap}): both or neither"
        )
        if sets_bootstrap:
            settings = app_settings(service)
            actual = (settings.kafka_host, settings.kafka_port)
            assert actual == expected, f"{service}: bootstrap {actual} != advertised {expected}"
            checked.append(service)
    assert checked, "no app service talks to Kafka"


def test_clickhouse_url_is_the_clickhouse_service_http_port() -> None:
    clickhouse = services_with_image(OFFICIAL_IMAGES["clickhouse"])
    checked = []
    for service in APP_SERVICES:
        if "DXPULSE_CLICKHOUSE_URL" not in env(service):
            continue
        url = urlsplit(app_settings(service).clickhouse_url)
        assert url.hostname in clickhouse, f"{service}: {url.hostname} is not a ClickHouse service"
        assert url.port == CLICKHOUSE_PORTS["http"], f"{service}: port {url.port}, expected 8123"
        assert url.hostname in depends_on(service), f"{service}: does not wait for {url.hostname}"
        checked.append(service)
    assert {"migrate", "sink"} <= set(checked), f"only {checked} point at ClickHouse"


# ClickHouse users ------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["migrate", "sink"])
def test_app_clickhouse_user_is_defined_and_shares_its_password_variable(service: str) -> None:
    name = env(service)["DXPULSE_CLICKHOUSE_USER"]
    user = ch_user(name)
    assert user is not None, f"{service}: user {name!r} is not defined in {USERS_XML.name}"
    password_env = user.find("password").get("from_env")  # type: ignore[union-attr]
    app_var = required_variable(env(service)["DXPULSE_CLICKHOUSE_PASSWORD"])
    server_var = required_variable(env("clickhouse").get(str(password_env), ""))
    assert app_var is not None and app_var == server_var, (
        f"{service} logs in as {name} with ${{{app_var}}}, but ClickHouse reads that user's "
        f"password from {password_env} = ${{{server_var}}}"
    )


def test_writer_may_create_the_app_database() -> None:
    database = app_settings("migrate").database
    user = ch_user(env("migrate")["DXPULSE_CLICKHOUSE_USER"])
    assert user is not None
    grants = [g for g in grants_of(user) if f" ON {database}.*" in g]
    assert any("CREATE DATABASE" in g and "INSERT" in g for g in grants), (
        f"no grant of CREATE DATABASE and INSERT ON {database}.* for the writer: {grants_of(user)}"
    )


def test_grafana_user_is_defined_readonly_on_the_app_database() -> None:
    name = env("grafana")["DXPULSE_GRAFANA_CH_USER"]
    user = ch_user(name)
    assert user is not None, f"Grafana's user {name!r} is not defined in {USERS_XML.name}"
    profile = profile_of(user)
    readonly = profile.findtext("readonly") if profile is not None else None
    assert readonly in {"1", "2"}, f"{name}: profile readonly={readonly!r}, expected 1 or 2"
    database = env("grafana")["DXPULSE_DATABASE"]
    assert database == app_settings("migrate").database, (
        "Grafana and the pipeline use different databases"
    )
    assert any(
        g.startswith("GRANT") and "SELECT" in g and f" ON {database}.*" in g
        for g in grants_of(user)
    ), f"{name}: no SELECT ON {database}.* in {grants_of(user)}"


def test_grafana_query_timeout_fits_the_profile_limit() -> None:
    user = ch_user(env("grafana")["DXPULSE_GRAFANA_CH_USER"])
    assert user is not None
    profile = profile_of(user)
    limit = profile.findtext("constraints/max_execution_time/max") if profile is not None else None
    assert limit is not None, "the Grafana user's profile must cap max_execution_time"
    # The plugin sends its query timeout (default 60 s) as max_execution_time.
    timeout = int(grafana_expand(datasource()["jsonData"].get("queryTimeout", 60)))
    assert timeout <= int(limit), (
        f"the plugin sets max_execution_time={timeout}, the profile allows at most {limit}"
    )


def test_clickhouse_passwords_come_from_required_environment() -> None:
    problems = []
    for user in users_xml().findall("users/*"):
        password = user.find("password")
        if password is None or not password.get("from_env") or (password.text or "").strip():
            problems.append(f"{user.tag}: <password> must be empty with a from_env attribute")
            continue
        others = [c.tag for c in user if c.tag.startswith("password_") or c.tag == "no_password"]
        if others:
            problems.append(f"{user.tag}: other credentials {others}")
        variable = str(password.get("from_env"))
        value = env("clickhouse").get(variable)
        if value is None:
            problems.append(f"{user.tag}: {variable} is not passed to the clickhouse container")
        elif required_variable(value) is None:
            problems.append(f"{user.tag}: {variable}={value!r} is not a required ${{VAR:?...}}")
    assert not problems, "; ".join(problems)


def test_no_password_in_compose_has_a_default() -> None:
    bad = [
        f"{service}.{name}={value!r}"
        for service in services()
        for name, value in env(service).items()
        if "PASSWORD" in name and required_variable(value) is None
    ]
    assert not bad, f"passwords must be required interpolations ${{VAR:?...}}, no defaults: {bad}"


# Grafana --------------------------------------------------------------------------------


def test_grafana_mounts_provisioning_and_installs_the_clickhouse_plugin() -> None:
    spec = services()["grafana"]
    assert "./dashboards/provisioning:/etc/grafana/provisioning:ro" in spec.get("volumes", []), (
        "grafana must mount ./dashboards/provisioning read-only at /etc/grafana/provisioning"
    )
    plugins = [
        p.strip().split("@")[0]
        for p in env("grafana").get("GF_PLUGINS_PREINSTALL_SYNC", "").split(",")
    ]
    assert PLUGIN_ID in plugins, f"GF_PLUGINS_PREINSTALL_SYNC does not install {PLUGIN_ID}"


def test_datasource_identity() -> None:
    ds = datasource()
    assert ds["type"] == PLUGIN_ID, f"data source type {ds['type']!r}"
    assert ds["uid"] == "dxpulse-clickhouse", (
        f"data source uid {ds['uid']!r} (dashboards refer to it)"
    )


def test_datasource_uses_only_documented_json_data_keys() -> None:
    unknown = set(datasource()["jsonData"]) - DOCUMENTED_JSONDATA_KEYS
    assert not unknown, f"jsonData keys the plugin does not read: {sorted(unknown)}"


def test_datasource_password_only_in_secure_json_data() -> None:
    ds = datasource()
    leaked = [k for k in ds.get("jsonData", {}) if "password" in k.lower()]
    assert not leaked, f"password in plain jsonData: {leaked}"
    assert "password" in ds.get("secureJsonData", {}), "secureJsonData.password is missing"


def test_datasource_variables_are_set_by_the_grafana_service() -> None:
    used = {m[0] or m[1] for s in strings_in(datasource()) for m in _GRAFANA_VARIABLE.findall(s)}
    assert used, "the data source uses no variable"
    missing = used - set(env("grafana"))
    assert not missing, f"variables not set in the grafana service's environment: {sorted(missing)}"


def test_datasource_reaches_clickhouse_as_the_grafana_user() -> None:
    json_data = datasource()["jsonData"]
    host = grafana_expand(json_data["host"])
    protocol = grafana_expand(json_data.get("protocol", "native"))
    port = int(grafana_expand(json_data["port"]))
    assert host in services_with_image(OFFICIAL_IMAGES["clickhouse"]), f"host {host!r}"
    assert port == CLICKHOUSE_PORTS[protocol], (
        f"{protocol} port {port}, expected {CLICKHOUSE_PORTS[protocol]}"
    )
    assert grafana_expand(json_data["username"]) == env("grafana")["DXPULSE_GRAFANA_CH_USER"]
    assert grafana_expand(json_data["defaultDatabase"]) == app_settings("migrate").database


# CLI commands -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "service",
    [
        "migrate",
        "simulator",
        "worker",
        "sink",
    ],
)
def test_app_command_is_a_dxpulse_command(service: str) -> None:
    command = services()[service]["command"]
    assert isinstance(command, list) and command, f"{service}: command should be a list"
    registered = typer.main.get_command(dxpulse.cli.app).commands  # type: ignore[attr-defined]
    assert command[0] in registered, (
        f"{service} runs `dxpulse {command[0]}`, not a command of the CLI: {sorted(registered)}"
    )
