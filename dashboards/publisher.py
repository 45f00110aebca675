"""Publish dxpulse's folder, data source, dashboards and alert rules through Grafana's HTTP API.

For a Grafana that does not mount ``dashboards/provisioning`` (a shared or hosted
instance): :func:`push` creates what is missing, updates what differs and leaves the rest
alone, so running it twice changes nothing the second time. Every object is reported as
created, updated or unchanged. Example::

    from dxpulse.dashboards.alerts import api_rules, group_intervals, load_alerts
    from dxpulse.dashboards.publisher import connect, load_datasource, push

    api = connect("https://grafana.example.gov.vn", token=os.environ["DXPULSE_GRAFANA_TOKEN"])
    alerts = load_alerts()
    report = push(
        api,
        dashboards={"dxpulse-national": national_json},
        datasource=load_datasource(values={...}, password=os.environ["DXPULSE_CH_GRAFANA_PASSWORD"]),
        alert_rules=api_rules(alerts),
        rule_group_intervals=group_intervals(alerts),
    )
    print(report.counts())

What "unchanged" means per object:

* folder — same title;
* data source — same name, type, access, isDefault and jsonData, and Grafana holds a
  password. The password itself cannot be read back: it is sent on creation, with any
  other change, when Grafana holds none, or always with ``update_password=True``;
* dashboard — the stored JSON without ``id``/``version`` equals ours and it is in the folder;
* alert rule — every field we send has the same value in Grafana (fields Grafana adds,
  such as ``id`` or ``updated``, are ignored), labels and annotations exactly equal;
* rule group — same evaluation interval.

Errors are typed: :class:`GrafanaAuthError` (401/403), :class:`GrafanaUnreachableError`
(connection refused, timeout), :class:`GrafanaPluginMissingError` (the ClickHouse plugin is
not installed), :class:`GrafanaRequestError` (Grafana refused a request).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml
from grafana_client.api import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaServerError,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)

from dxpulse.dashboards import PROVISIONING_DIR
from dxpulse.errors import ConfigurationError, DxpulseError

__all__ = [
    "CLICKHOUSE_PLUGIN_ID",
    "DATASOURCE_FILE",
    "GrafanaAuthError",
    "GrafanaError",
    "GrafanaPluginMissingError",
    "GrafanaRequestError",
    "GrafanaUnreachableError",
    "Outcome",
    "PushItem",
    "PushReport",
    "connect",
    "load_datasource",
    "push",
]

#: Grafana's ClickHouse data source plugin (docker-compose installs it with GF_PLUGINS_PREINSTALL_SYNC).
CLICKHOUSE_PLUGIN_ID = "grafana-clickhouse-datasource"

#: The data source provisioning file, whose ``${VAR}`` placeholders :func:`load_datasource` fills.
DATASOURCE_FILE = PROVISIONING_DIR / "datasources" / "clickhouse.yaml"

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: Data source fields compared to decide "unchanged" (the password is compared by presence).
_DATASOURCE_FIELDS = ("name", "type", "access", "isDefault", "jsonData")
#: Rule fields compared exactly rather than as "ours is contained in theirs".
_EXACT_RULE_FIELDS = ("annotations", "labels")


class GrafanaError(DxpulseError):
    """Base class of the publisher's errors."""


class GrafanaAuthError(GrafanaError):
    """Grafana rejected the token (401) or it lacks a permission (403)."""

    exit_code = 3


class GrafanaUnreachableError(GrafanaError):
    """Nothing answers at the Grafana URL (connection refused, DNS failure, timeout)."""

    exit_code = 3


class GrafanaPluginMissingError(GrafanaError):
    """The grafana-clickhouse-datasource plugin is not installed in that Grafana."""

    exit_code = 3


class GrafanaRequestError(GrafanaError):
    """Grafana answered but refused a request (validation error, provisioned object, 5xx)."""


class Outcome(StrEnum):
    """What :func:`push` did to one object."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"


@dataclass(frozen=True)
class PushItem:
    """One object and what happened to it. ``kind``: folder, datasource, dashboard, alert rule, rule group."""

    kind: str
    uid: str
    title: str
    outcome: Outcome


@dataclass
class PushReport:
    """Everything :func:`push` touched, in order.

    Example::

        report.counts()     # {"created": 9, "updated": 0, "unchanged": 0}
        report.changed      # the items created or updated
    """

    url: str
    items: list[PushItem] = field(default_factory=list)

    def add(self, kind: str, uid: str, title: str, outcome: Outcome) -> None:
        self.items.append(PushItem(kind=kind, uid=uid, title=title, outcome=outcome))

    @property
    def changed(self) -> list[PushItem]:
        return [item for item in self.items if item.outcome is not Outcome.unchanged]

    def counts(self) -> dict[str, int]:
        return {o.value: sum(1 for i in self.items if i.outcome is o) for o in Outcome}

    def outcome_of(self, kind: str, uid: str) -> Outcome:
        """The outcome of one object; KeyError when it was not pushed."""
        for item in self.items:
            if item.kind == kind and item.uid == uid:
                return item.outcome
        raise KeyError(f"{kind} {uid} was not pushed")


def redact_url(url: str) -> str:
    """``url`` without user information (``https://user:pw@host`` -> ``https://host``)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def connect(url: str, *, token: str, timeout: float = 10.0) -> GrafanaApi:
    """A grafana-client :class:`GrafanaApi` for ``url`` that sends ``Authorization: Bearer <token>``.

    Example::

        api = connect("http://localhost:3000", token=os.environ["DXPULSE_GRAFANA_TOKEN"])
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"Grafana URL must look like http(s)://host[:port][/path], got {redact_url(url)!r}"
        )
    if not token:
        raise ConfigurationError("the Grafana token is empty: set DXPULSE_GRAFANA_TOKEN or --token")
    factory: Any = GrafanaApi  # grafana-client is not annotated
    api: GrafanaApi = factory.from_url(url, credential=token, timeout=timeout)  # bearer token
    return api


def load_datasource(
    path: Path = DATASOURCE_FILE,
    *,
    values: Mapping[str, str],
    password: str | None = None,
) -> dict[str, Any]:
    """The HTTP API payload of the data source in a provisioning file, placeholders filled.

    ``values`` maps each ``${VAR}`` of the file to its value (``DXPULSE_GRAFANA_CH_HOST``,
    ``DXPULSE_GRAFANA_CH_PORT``, ``DXPULSE_GRAFANA_CH_PROTOCOL``, ``DXPULSE_GRAFANA_CH_USER``,
    ``DXPULSE_DATABASE``); ``password`` becomes ``secureJsonData.password`` and nothing
    else (never jsonData). Example::

        load_datasource(values={"DXPULSE_GRAFANA_CH_HOST": "clickhouse", ...}, password=pw)
    """
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        source = dict(doc["datasources"][0])
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError) as exc:
        raise ConfigurationError(f"cannot read the data source from {path}: {exc}") from exc
    source.pop("secureJsonData", None)
    source.pop("editable", None)  # provisioning-only; the API reports readOnly instead
    payload: dict[str, Any] = _fill(source, values, path)
    json_data = payload.setdefault("jsonData", {})
    if "port" in json_data:
        try:
            json_data["port"] = int(json_data["port"])
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"the ClickHouse port for Grafana must be a number, got {json_data['port']!r}"
            ) from exc
    if json_data.get("protocol") not in (None, "http", "native"):
        raise ConfigurationError(
            f"the ClickHouse protocol for Grafana must be http or native, got {json_data['protocol']!r}"
        )
    if password:
        payload["secureJsonData"] = {"password": password}
    return payload


def _fill(value: Any, values: Mapping[str, str], path: Path) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, values, path) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values, path) for v in value]
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if not values.get(name):
                raise ConfigurationError(f"{path.name} needs a value for {name}")
            return values[name]

        return _PLACEHOLDER.sub(substitute, value)
    return value


def push(
    api: GrafanaApi,
    *,
    dashboards: Mapping[str, dict[str, Any]],
    datasource: dict[str, Any],
    alert_rules: list[dict[str, Any]],
    folder_title: str = "dxpulse",
    folder_uid: str = "dxpulse",
    rule_group_intervals: Mapping[str, int] | None = None,
    update_password: bool = False,
    disable_provenance: bool = False,
) -> PushReport:
    """Create or update the folder, the data source, every dashboard and alert rule; idempotent.

    ``dashboards``: uid -> dashboard JSON (saved into the folder with ``overwrite``).
    ``datasource``: API payload, e.g. from :func:`load_datasource`. ``alert_rules``: API
    payloads (:func:`dxpulse.dashboards.alerts.api_rules`), put into the folder.
    ``rule_group_intervals``: group name -> seconds, applied after the rules.
    ``disable_provenance``: send ``X-Disable-Provenance`` so the rules stay editable in
    the UI (by default they are locked there, like provisioned ones).
    Raises a :class:`GrafanaError` subclass. Example: see the module docstring.
    """
    return _Publisher(api, disable_provenance=disable_provenance).push(
        dashboards=dashboards,
        datasource=datasource,
        alert_rules=alert_rules,
        folder_title=folder_title,
        folder_uid=folder_uid,
        rule_group_intervals=rule_group_intervals or {},
        update_password=update_password,
    )


class _Publisher:
    def __init__(self, api: GrafanaApi, *, disable_provenance: bool) -> None:
        self.api: Any = api  # grafana-client is not annotated
        self.disable_provenance = disable_provenance
        self.url = redact_url(str(getattr(api, "url", None) or self._client_url()))

    def _client_url(self) -> str:
        return str(self.api.client.url).removesuffix("/api")

    def push(
        self,
        *,
        dashboards: Mapping[str, dict[str, Any]],
        datasource: dict[str, Any],
        alert_rules: Sequence[dict[str, Any]],
        folder_title: str,
        folder_uid: str,
        rule_group_intervals: Mapping[str, int],
        update_password: bool,
    ) -> PushReport:
        report = PushReport(url=self.url)
        self.check_plugin()
        self.folder(report, folder_uid, folder_title)
        self.datasource(report, datasource, update_password=update_password)
        for uid, dashboard in dashboards.items():
            self.dashboard(report, uid, dashboard, folder_uid)
        groups: list[str] = []
        for rule in alert_rules:
            self.alert_rule(report, rule, folder_uid)
            if rule["ruleGroup"] not in groups:
                groups.append(rule["ruleGroup"])
        for group in groups:
            if group in rule_group_intervals:
                self.rule_group(report, folder_uid, group, rule_group_intervals[group])
        return report

    # -- error translation --------------------------------------------------------------

    @contextmanager
    def _calling(self, what: str) -> Iterator[None]:
        try:
            yield
        except GrafanaUnauthorizedError as exc:
            raise GrafanaAuthError(
                f"token rejected: Grafana at {self.url} answered 401 Unauthorized to {what}; "
                "check DXPULSE_GRAFANA_TOKEN (a service-account token of that Grafana)"
            ) from exc
        except GrafanaTimeoutError as exc:
            raise GrafanaUnreachableError(
                f"cannot reach Grafana at {self.url}: {what} timed out"
            ) from exc
        except GrafanaClientError as exc:
            if exc.status_code == 403:
                raise GrafanaAuthError(
                    f"token rejected: Grafana at {self.url} answered 403 Forbidden to {what} "
                    f"({_message(exc)}); the service account needs the Admin role"
                ) from exc
            raise GrafanaRequestError(
                f"Grafana at {self.url} refused {what}: {exc.status_code} {_message(exc)}"
            ) from exc
        except GrafanaServerError as exc:
            raise GrafanaRequestError(
                f"Grafana at {self.url} failed {what}: {exc.status_code} {_message(exc)}"
            ) from exc
        except (GrafanaException, OSError) as exc:  # niquests' ConnectionError is an OSError
            raise GrafanaUnreachableError(
                f"cannot reach Grafana at {self.url}: {_first_line(str(exc))}"
            ) from exc

    def _get(self, what: str, call: Callable[[], Any]) -> Any | None:
        """A GET whose 404 means "missing" (None)."""
        with self._calling(what):
            try:
                return call()
            except GrafanaClientError as exc:
                if exc.status_code == 404:
                    return None
                raise

    def _write(self, what: str, call: Callable[[], Any]) -> Any:
        with self._calling(what):
            return call()

    # -- objects --------------------------------------------------------------------------

    def check_plugin(self) -> None:
        path = f"/plugins/{CLICKHOUSE_PLUGIN_ID}/settings"
        settings = self._get(f"GET /api{path}", lambda: self.api.client.GET(path))
        if settings is None:
            raise GrafanaPluginMissingError(
                f"the Grafana at {self.url} has no {CLICKHOUSE_PLUGIN_ID} plugin: install it "
                f"(grafana cli plugins install {CLICKHOUSE_PLUGIN_ID}, or start Grafana with "
                f"GF_PLUGINS_PREINSTALL_SYNC={CLICKHOUSE_PLUGIN_ID}) and run push again"
            )

    def folder(self, report: PushReport, uid: str, title: str) -> None:
        current = self._get(f"GET folder {uid}", lambda: self.api.folder.get_folder(uid))
        if current is None:
            self._write(
                f"creating folder {uid}", lambda: self.api.folder.create_folder(title, uid=uid)
            )
            report.add("folder", uid, title, Outcome.created)
        elif current.get("title") != title:
            self._write(
                f"renaming folder {uid}",
                lambda: self.api.folder.update_folder(
                    uid, title=title, version=current.get("version"), overwrite=True
                ),
            )
            report.add("folder", uid, title, Outcome.updated)
        else:
            report.add("folder", uid, title, Outcome.unchanged)

    def datasource(
        self, report: PushReport, payload: dict[str, Any], *, update_password: bool
    ) -> None:
        uid = str(payload["uid"])
        name = str(payload.get("name", uid))
        password = payload.get("secureJsonData", {}).get("password")
        current = self._get(
            f"GET data source {uid}", lambda: self.api.datasource.get_datasource_by_uid(uid)
        )
        if current is None:
            if not password:
                raise ConfigurationError(
                    f"data source {uid} does not exist in Grafana yet and needs the ClickHouse "
                    "password of its user: set DXPULSE_CH_GRAFANA_PASSWORD"
                )
            self._write(
                f"creating data source {uid}",
                lambda: self.api.datasource.create_datasource(payload),
            )
            report.add("datasource", uid, name, Outcome.created)
            return
        has_password = bool((current.get("secureJsonFields") or {}).get("password"))
        same = all(current.get(k) == payload.get(k) for k in _DATASOURCE_FIELDS if k in payload)
        if same and has_password and not (update_password and password):
            report.add("datasource", uid, name, Outcome.unchanged)
            return
        if not has_password and not password:
            raise ConfigurationError(
                f"data source {uid} in Grafana has no password: set DXPULSE_CH_GRAFANA_PASSWORD"
            )
        if current.get("readOnly"):
            raise GrafanaRequestError(
                f"data source {uid} in Grafana at {self.url} differs from ours but is "
                "provisioned from a file there (read-only); change that file instead"
            )
        body = {k: v for k, v in payload.items() if k != "secureJsonData" or password}
        self._write(
            f"updating data source {uid}",
            lambda: self.api.datasource.update_datasource_by_uid(uid, body),
        )
        report.add("datasource", uid, name, Outcome.updated)

    def dashboard(
        self, report: PushReport, uid: str, dashboard: Mapping[str, Any], folder_uid: str
    ) -> None:
        ours = _without(dashboard, "id", "version")
        if ours.setdefault("uid", uid) != uid:
            raise ConfigurationError(f"dashboard {uid!r} carries another uid: {ours['uid']!r}")
        title = str(ours.get("title", uid))
        current = self._get(f"GET dashboard {uid}", lambda: self.api.dashboard.get_dashboard(uid))
        if current is not None:
            meta = current.get("meta") or {}
            theirs = _without(current.get("dashboard") or {}, "id", "version")
            if theirs == ours and meta.get("folderUid") == folder_uid:
                report.add("dashboard", uid, title, Outcome.unchanged)
                return
            if meta.get("provisioned"):
                raise GrafanaRequestError(
                    f"dashboard {uid} in Grafana at {self.url} differs from ours but is "
                    "provisioned from a file there; change that file instead"
                )
        body = {
            "dashboard": {**ours, "id": None},
            "folderUid": folder_uid,
            "overwrite": True,
            "message": "dxpulse dashboards push",
        }
        self._write(f"saving dashboard {uid}", lambda: self.api.dashboard.update_dashboard(body))
        report.add("dashboard", uid, title, Outcome.created if current is None else Outcome.updated)

    def alert_rule(self, report: PushReport, rule: Mapping[str, Any], folder_uid: str) -> None:
        ours = {**copy.deepcopy(dict(rule)), "folderUID": folder_uid}
        uid = str(ours["uid"])
        title = str(ours.get("title", uid))
        provisioning = self.api.alertingprovisioning
        current = self._get(f"GET alert rule {uid}", lambda: provisioning.get_alertrule(uid))
        if current is None:
            self._write(
                f"creating alert rule {uid}",
                lambda: provisioning.create_alertrule(
                    ours, disable_provenance=self.disable_provenance
                ),
            )
            report.add("alert rule", uid, title, Outcome.created)
        elif _rule_matches(ours, current):
            report.add("alert rule", uid, title, Outcome.unchanged)
        else:
            self._write(
                f"updating alert rule {uid}",
                lambda: provisioning.update_alertrule(
                    uid, ours, disable_provenance=self.disable_provenance
                ),
            )
            report.add("alert rule", uid, title, Outcome.updated)

    def rule_group(self, report: PushReport, folder_uid: str, name: str, interval_s: int) -> None:
        provisioning = self.api.alertingprovisioning
        current = self._get(
            f"GET rule group {name}", lambda: provisioning.get_rule_group(folder_uid, name)
        )
        if current is None:  # pragma: no cover - the rules just created it
            raise GrafanaRequestError(f"rule group {name} is missing after its rules were saved")
        if int(current.get("interval", 0)) == interval_s:
            report.add("rule group", name, name, Outcome.unchanged)
            return
        body = {**current, "interval": interval_s}
        self._write(
            f"updating rule group {name}",
            lambda: provisioning.update_rule_group(
                folder_uid, name, body, disable_provenance=self.disable_provenance
            ),
        )
        report.add("rule group", name, name, Outcome.updated)


def _without(mapping: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in mapping.items() if k not in keys}


def _rule_matches(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> bool:
    """Every field we send has our value in Grafana's copy; labels/annotations exactly."""
    for key, value in ours.items():
        if key in _EXACT_RULE_FIELDS:
            if (theirs.get(key) or {}) != (value or {}):
                return False
        elif key not in theirs or not _contains(value, theirs[key]):
            return False
    return True


def _contains(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, Mapping):
        return isinstance(theirs, Mapping) and all(
            k in theirs and _contains(v, theirs[k]) for k, v in ours.items()
        )
    if isinstance(ours, list):
        return (
            isinstance(theirs, list)
            and len(ours) == len(theirs)
            and all(_contains(a, b) for a, b in zip(ours, theirs, strict=True))
        )
    return bool(ours == theirs)


def _message(exc: GrafanaException) -> str:
    response = exc.response
    if isinstance(response, dict) and response.get("message"):
        return _first_line(str(response["message"]))
    return _first_line(str(response or exc.message))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "(no details)"
