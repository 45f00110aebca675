"""Typed builders for Grafana dashboard JSON, with ClickHouse (grafana-clickhouse-datasource v4) queries.

Why our own small model: the ``grafana-foundation-sdk`` package on PyPI targets Grafana
10.1 and has no query model for the ClickHouse data source, so it could type neither the
panels of Grafana 12.2 (the version docker-compose runs) nor the targets we need. The
dataclasses here cover what dxpulse uses — dashboards, rows, six panel kinds, query
variables, thresholds, value mappings, overrides and links — and render exactly the JSON
Grafana's file provider loads. Panels are placed automatically: each row flows its panels
left to right on Grafana's 24-column grid, so positions never overlap by construction.

Target JSON follows the plugin's v4 query model (``src/types/sql.ts`` and
``src/data/migration.ts`` of grafana/clickhouse-datasource): ``editorType: "sql"``,
``rawSql``, ``queryType`` ``"timeseries"`` or ``"table"`` and the matching numeric sqlds
``format`` (0 = time series, 1 = table), and a ``pluginVersion`` of at least 4.0.0 so the
plugin does not migrate the query as a v3 one.

Example::

    from dxpulse.dashboards.model import (
        ClickHouseTarget, Dashboard, QueryFormat, Row, StatPanel, FieldConfig,
    )

    stat = StatPanel(
        title="Hồ sơ tiếp nhận",
        description="Dossiers received in the selected time range.",
        targets=(ClickHouseTarget(sql="SELECT count() FROM dossier_events FINAL"),),
        field=FieldConfig(unit="short"),
        width=6,
        height=4,
    )
    board = Dashboard(uid="dxpulse-demo", title="Thử / Demo", description="A demo.",
                      rows=(Row(title="Tổng quan / Overview", panels=(stat,)),))
    board.to_json()["panels"][1]["gridPos"]  # {'h': 4, 'w': 6, 'x': 0, 'y': 1}
"""

from __future__ import annotations

import textwrap
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, ClassVar

__all__ = [
    "DATASOURCE_TYPE",
    "DATASOURCE_UID",
    "GRID_COLUMNS",
    "PLUGIN_VERSION",
    "SCHEMA_VERSION",
    "TIMEZONE",
    "BarChartPanel",
    "BarGaugePanel",
    "ClickHouseTarget",
    "Dashboard",
    "DashboardLink",
    "DataLink",
    "FieldConfig",
    "GeomapPanel",
    "GridPos",
    "Override",
    "Panel",
    "PieChartPanel",
    "QueryFormat",
    "QueryVariable",
    "Row",
    "StatPanel",
    "TablePanel",
    "Threshold",
    "TimeseriesPanel",
    "ValueMapping",
    "datasource_ref",
]

JSON = dict[str, Any]

#: The data source provisioned in dashboards/provisioning/datasources/clickhouse.yaml.
DATASOURCE_UID = "dxpulse-clickhouse"
DATASOURCE_TYPE = "grafana-clickhouse-datasource"
#: Plugin version written into every target (v4 query model; see the module docstring).
PLUGIN_VERSION = "4.11.2"
#: Dashboard JSON schema version of Grafana 12.
SCHEMA_VERSION = 41
#: Every dashboard shows times in Vietnam's zone (UTC+7, no daylight saving).
TIMEZONE = "Asia/Ho_Chi_Minh"
#: Width of Grafana's grid.
GRID_COLUMNS = 24


def datasource_ref() -> JSON:
    """The reference every panel and target carries: the provisioned ClickHouse source."""
    return {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}


class QueryFormat(IntEnum):
    """sqlds ``format`` of a target (grafana/sqlds query.go): how the plugin shapes the frame."""

    TIME_SERIES = 0
    TABLE = 1

    @property
    def query_type(self) -> str:
        """The plugin's v4 ``queryType`` for this format."""
        return "timeseries" if self is QueryFormat.TIME_SERIES else "table"


@dataclass(frozen=True, kw_only=True)
class ClickHouseTarget:
    """One raw-SQL query of a panel. ``sql`` may use the plugin's macros and ``$variables``."""

    sql: str
    format: QueryFormat = QueryFormat.TABLE
    ref_id: str = "A"

    @property
    def raw_sql(self) -> str:
        """The SQL as stored: common indentation removed, no surrounding blank lines."""
        return textwrap.dedent(self.sql).strip()

    def to_json(self) -> JSON:
        return {
            "datasource": datasource_ref(),
            "editorType": "sql",
            "format": int(self.format),
            "pluginVersion": PLUGIN_VERSION,
            "queryType": self.format.query_type,
            "rawSql": self.raw_sql,
            "refId": self.ref_id,
        }


@dataclass(frozen=True)
class Threshold:
    """A threshold step: from ``value`` upwards (None = the base step) the colour is ``color``."""

    value: float | None
    color: str

    def to_json(self) -> JSON:
        return {"color": self.color, "value": self.value}


@dataclass(frozen=True)
class ValueMapping:
    """Show ``text`` (in ``color``) instead of the raw value ``value``."""

    value: str
    text: str
    color: str | None = None


@dataclass(frozen=True)
class DataLink:
    """A link on a value (field config) or a panel, to another dxpulse dashboard.

    ``params`` is the query string after ``?`` (may use Grafana's ``${__data...}`` and
    ``${__url_time_range}``).
    """

    title: str
    uid: str
    params: str = ""

    @property
    def url(self) -> str:
        return f"/d/{self.uid}" + (f"?{self.params}" if self.params else "")

    def to_json(self) -> JSON:
        return {"targetBlank": False, "title": self.title, "url": self.url}


@dataclass(frozen=True)
class DashboardLink:
    """A link in the dashboard's header to another dxpulse dashboard (keeps the time range)."""

    title: str
    uid: str
    include_vars: bool = False

    def to_json(self) -> JSON:
        return {
            "asDropdown": False,
            "icon": "dashboard",
            "includeVars": self.include_vars,
            "keepTime": True,
            "tags": [],
            "targetBlank": False,
            "title": self.title,
            "tooltip": "",
            "type": "link",
            "url": f"/d/{self.uid}",
        }


class ColorMode(StrEnum):
    """``fieldConfig.defaults.color.mode``."""

    THRESHOLDS = "thresholds"
    PALETTE = "palette-classic"
    FIXED = "fixed"


@dataclass(frozen=True, kw_only=True)
class FieldConfig:
    """``fieldConfig.defaults``: unit, range, thresholds, value mappings, colour, links."""

    unit: str | None = None
    decimals: int | None = None
    min: float | None = None
    max: float | None = None
    thresholds: tuple[Threshold, ...] = (Threshold(None, "green"),)
    mappings: tuple[ValueMapping, ...] = ()
    color_mode: ColorMode = ColorMode.PALETTE
    fixed_color: str | None = None
    links: tuple[DataLink, ...] = ()
    no_value: str | None = None

    def to_json(self, custom: Mapping[str, Any]) -> JSON:
        color: JSON = {"mode": str(self.color_mode)}
        if self.fixed_color is not None:
            color["fixedColor"] = self.fixed_color
        out: JSON = {
            "color": color,
            "custom": dict(custom),
            "links": [link.to_json() for link in self.links],
            "mappings": _mappings_json(self.mappings),
            "thresholds": {"mode": "absolute", "steps": [t.to_json() for t in self.thresholds]},
        }
        for key, value in (
            ("unit", self.unit),
            ("decimals", self.decimals),
            ("min", self.min),
            ("max", self.max),
            ("noValue", self.no_value),
        ):
            if value is not None:
                out[key] = value
        return out


def _mappings_json(mappings: Sequence[ValueMapping]) -> list[JSON]:
    if not mappings:
        return []
    options: JSON = {}
    for index, m in enumerate(mappings):
        result: JSON = {"index": index, "text": m.text}
        if m.color is not None:
            result["color"] = m.color
        options[m.value] = result
    return [{"options": options, "type": "value"}]


@dataclass(frozen=True)
class Override:
    """Field properties for the field named ``name`` (``properties``: Grafana property ids)."""

    name: str
    properties: Mapping[str, Any]

    def to_json(self) -> JSON:
        return {
            "matcher": {"id": "byName", "options": self.name},
            "properties": [{"id": k, "value": v} for k, v in self.properties.items()],
        }


@dataclass(frozen=True)
class GridPos:
    """Position on Grafana's grid: ``x`` + ``w`` at most 24."""

    x: int
    y: int
    w: int
    h: int

    def to_json(self) -> JSON:
        return {"h": self.h, "w": self.w, "x": self.x, "y": self.y}


@dataclass(frozen=True, kw_only=True)
class Panel(ABC):
    """What every panel kind shares. ``title`` in Vietnamese, ``description`` in English."""

    panel_type: ClassVar[str]

    title: str
    description: str
    targets: tuple[ClickHouseTarget, ...]
    width: int = 12
    height: int = 8
    field: FieldConfig = field(default_factory=FieldConfig)
    overrides: tuple[Override, ...] = ()
    #: Minimum interval (e.g. "1m"): keeps $__interval_s at or above the data's grain.
    interval: str | None = None
    #: Grafana's "Max data points" (default: the panel's width in pixels): fewer points
    #: make a coarser $__interval_s, e.g. whole hours (rollup_1h) for a 30-day range.
    max_data_points: int | None = None
    links: tuple[DataLink, ...] = ()

    @abstractmethod
    def options(self) -> JSON:
        """The panel kind's ``options``."""

    def custom(self) -> JSON:
        """The panel kind's ``fieldConfig.defaults.custom``."""
        return {}

    def to_json(self, *, panel_id: int, grid: GridPos) -> JSON:
        out: JSON = {
            "datasource": datasource_ref(),
            "description": self.description,
            "fieldConfig": {
                "defaults": self.field.to_json(self.custom()),
                "overrides": [o.to_json() for o in self.overrides],
            },
            "gridPos": grid.to_json(),
            "id": panel_id,
            "links": [link.to_json() for link in self.links],
            "options": self.options(),
            "targets": [t.to_json() for t in self.targets],
            "title": self.title,
            "type": self.panel_type,
        }
        if self.interval is not None:
            out["interval"] = self.interval
        if self.max_data_points is not None:
            out["maxDataPoints"] = self.max_data_points
        return out


def _reduce(calcs: Sequence[str], *, values: bool, fields: str = "") -> JSON:
    return {"calcs": list(calcs), "fields": fields, "values": values}


def _legend(calcs: Sequence[str] = (), *, mode: str = "list", placement: str = "bottom") -> JSON:
    return {"calcs": list(calcs), "displayMode": mode, "placement": placement, "showLegend": True}


@dataclass(frozen=True, kw_only=True)
class StatPanel(Panel):
    """One big number per field, optionally with a sparkline of its time series."""

    panel_type: ClassVar[str] = "stat"

    reducer: str = "lastNotNull"
    sparkline: bool = False
    color_background: bool = False
    fields: str = ""

    def options(self) -> JSON:
        return {
            "colorMode": "background" if self.color_background else "value",
            "graphMode": "area" if self.sparkline else "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "percentChangeColorMode": "standard",
            "reduceOptions": _reduce([self.reducer], values=False, fields=self.fields),
            "showPercentChange": False,
            "textMode": "auto",
            "wideLayout": True,
        }


@dataclass(frozen=True, kw_only=True)
class TimeseriesPanel(Panel):
    """Lines or bars over time; the query's first column is the time, the others series."""

    panel_type: ClassVar[str] = "timeseries"

    bars: bool = False
    stacked: bool = False
    fill_opacity: int = 10
    legend_calcs: tuple[str, ...] = ("mean", "max")

    def options(self) -> JSON:
        return {
            "legend": _legend(self.legend_calcs, mode="table"),
            "tooltip": {"mode": "multi", "sort": "desc"},
        }

    def custom(self) -> JSON:
        return {
            "axisPlacement": "auto",
            "drawStyle": "bars" if self.bars else "line",
            "fillOpacity": self.fill_opacity,
            "lineInterpolation": "linear",
            "lineWidth": 1,
            "pointSize": 4,
            "showPoints": "never",
            "spanNulls": False,
            "stacking": {"group": "A", "mode": "normal" if self.stacked else "none"},
        }


@dataclass(frozen=True, kw_only=True)
class TablePanel(Panel):
    """Rows as returned; ``sort_by`` = (column, descending)."""

    panel_type: ClassVar[str] = "table"

    sort_by: tuple[str, bool] | None = None

    def options(self) -> JSON:
        sort = (
            []
            if self.sort_by is None
            else [{"desc": self.sort_by[1], "displayName": self.sort_by[0]}]
        )
        return {
            "cellHeight": "sm",
            "footer": {"countRows": False, "reducer": ["sum"], "show": False},
            "showHeader": True,
            "sortBy": sort,
        }

    def custom(self) -> JSON:
        return {"align": "auto", "cellOptions": {"type": "auto"}, "filterable": True}


@dataclass(frozen=True, kw_only=True)
class BarGaugePanel(Panel):
    """Horizontal bars; with ``per_row`` one bar per result row (named by its text columns)."""

    panel_type: ClassVar[str] = "bargauge"

    per_row: bool = True
    fields: str = ""

    def options(self) -> JSON:
        return {
            "displayMode": "gradient",
            "legend": {
                "calcs": [],
                "displayMode": "list",
                "placement": "bottom",
                "showLegend": False,
            },
            "maxVizHeight": 300,
            "minVizHeight": 16,
            "minVizWidth": 8,
            "namePlacement": "left",
            "orientation": "horizontal",
            "reduceOptions": _reduce(
                [] if self.per_row else ["lastNotNull"], values=self.per_row, fields=self.fields
            ),
            "showUnfilled": True,
            "sizing": "auto",
            "valueMode": "color",
        }


@dataclass(frozen=True, kw_only=True)
class BarChartPanel(Panel):
    """Bars per category: ``x_field`` (text or time) on the x axis, numeric columns as bars."""

    panel_type: ClassVar[str] = "barchart"

    x_field: str
    stacked: bool = False

    def options(self) -> JSON:
        return {
            "barRadius": 0,
            "barWidth": 0.8,
            "groupWidth": 0.7,
            "legend": _legend(),
            "orientation": "auto",
            "showValue": "auto",
            "stacking": "normal" if self.stacked else "none",
            "tooltip": {"mode": "multi", "sort": "none"},
            "xField": self.x_field,
            "xTickLabelRotation": 0,
            "xTickLabelSpacing": 0,
        }

    def custom(self) -> JSON:
        return {"fillOpacity": 80, "gradientMode": "none", "lineWidth": 1}


@dataclass(frozen=True, kw_only=True)
class PieChartPanel(Panel):
    """A donut of the result rows: one slice per row, named by its text column."""

    panel_type: ClassVar[str] = "piechart"

    def options(self) -> JSON:
        return {
            "displayLabels": ["percent"],
            "legend": {
                "displayMode": "table",
                "placement": "right",
                "showLegend": True,
                "values": ["value", "percent"],
            },
            "pieType": "donut",
            "reduceOptions": _reduce([], values=True),
            "tooltip": {"mode": "single", "sort": "none"},
        }


@dataclass(frozen=True, kw_only=True)
class GeomapPanel(Panel):
    """Markers at coordinates from the query (``latitude``/``longitude`` columns).

    Markers are sized by ``size_field`` and coloured by ``color_field`` (through the
    field config's thresholds) and labelled with ``text_field``.
    """

    panel_type: ClassVar[str] = "geomap"

    size_field: str
    color_field: str
    text_field: str
    latitude_field: str = "latitude"
    longitude_field: str = "longitude"
    center: tuple[float, float] = (16.0, 106.5)
    zoom: float = 5.0

    def options(self) -> JSON:
        return {
            "basemap": {"config": {}, "name": "Basemap", "type": "default"},
            "controls": {
                "mouseWheelZoom": True,
                "showAttribution": True,
                "showDebug": False,
                "showMeasure": False,
                "showScale": False,
                "showZoom": True,
            },
            "layers": [
                {
                    "config": {
                        "showLegend": True,
                        "style": {
                            "color": {"field": self.color_field, "fixed": "dark-green"},
                            "opacity": 0.7,
                            "rotation": {"fixed": 0, "max": 360, "min": -360, "mode": "mod"},
                            "size": {"field": self.size_field, "fixed": 5, "max": 24, "min": 4},
                            "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
                            "text": {"field": self.text_field, "fixed": "", "mode": "field"},
                            "textConfig": {
                                "fontSize": 10,
                                "offsetX": 0,
                                "offsetY": -14,
                                "textAlign": "center",
                                "textBaseline": "middle",
                            },
                        },
                    },
                    "location": {
                        "latitude": self.latitude_field,
                        "longitude": self.longitude_field,
                        "mode": "coords",
                    },
                    "name": "Tỉnh / Provinces",
                    "tooltip": True,
                    "type": "markers",
                }
            ],
            "tooltip": {"mode": "details"},
            "view": {
                "allLayers": True,
                "id": "coords",
                "lat": self.center[0],
                "lon": self.center[1],
                "zoom": self.zoom,
            },
        }


@dataclass(frozen=True, kw_only=True)
class Row:
    """A titled, collapsible band of panels (title ``Tiếng Việt / English``)."""

    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True, kw_only=True)
class QueryVariable:
    """A template variable filled by a ClickHouse query.

    With two columns the first is the value and the second the text shown (the plugin's
    convention), e.g. ``SELECT locality_code, locality_name FROM v_localities``.
    """

    name: str
    label: str
    sql: str
    description: str
    multi: bool = False
    include_all: bool = False

    def to_json(self) -> JSON:
        sql = textwrap.dedent(self.sql).strip()
        current: JSON = {}
        if self.include_all:
            current = {"selected": True, "text": ["All"], "value": ["$__all"]}
        return {
            "current": current,
            "datasource": datasource_ref(),
            "definition": sql,
            "description": self.description,
            "hide": 0,
            "includeAll": self.include_all,
            "label": self.label,
            "multi": self.multi,
            "name": self.name,
            "options": [],
            "query": sql,
            "refresh": 1,
            "regex": "",
            "skipUrlSync": False,
            "sort": 0,
            "type": "query",
        }


@dataclass(frozen=True, kw_only=True)
class Dashboard:
    """A whole dashboard. ``title`` is ``Tiếng Việt / English``; ``uid`` is fixed."""

    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    variables: tuple[QueryVariable, ...] = ()
    links: tuple[DashboardLink, ...] = ()
    tags: tuple[str, ...] = ("dxpulse",)
    time_from: str = "now-7d"
    refresh: str = "1m"

    def panels(self) -> list[Panel]:
        """Every panel, in layout order (rows excluded)."""
        return [p for row in self.rows for p in row.panels]

    def to_json(self) -> JSON:
        return {
            "annotations": {"list": []},
            "description": self.description,
            "editable": False,
            "fiscalYearStartMonth": 0,
            "graphTooltip": 1,
            "links": [link.to_json() for link in self.links],
            "liveNow": False,
            "panels": self._layout(),
            "refresh": self.refresh,
            "schemaVersion": SCHEMA_VERSION,
            "tags": list(self.tags),
            "templating": {"list": [v.to_json() for v in self.variables]},
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {},
            "timezone": TIMEZONE,
            "title": self.title,
            "uid": self.uid,
            "version": 1,
            "weekStart": "monday",
        }

    def _layout(self) -> list[JSON]:
        """Rows one under another; each row's panels flow left to right, wrapping at 24."""
        out: list[JSON] = []
        next_id = 1
        y = 0
        for row in self.rows:
            out.append(
                {
                    "collapsed": False,
                    "gridPos": GridPos(0, y, GRID_COLUMNS, 1).to_json(),
                    "id": next_id,
                    "panels": [],
                    "title": row.title,
                    "type": "row",
                }
            )
            next_id += 1
            y += 1
            x = 0
            line_height = 0
            for panel in row.panels:
                if not 1 <= panel.width <= GRID_COLUMNS:
                    raise ValueError(f"panel {panel.title!r}: width {panel.width} not in 1..24")
                if x + panel.width > GRID_COLUMNS:
                    y += line_height
                    x, line_height = 0, 0
                out.append(
                    panel.to_json(panel_id=next_id, grid=GridPos(x, y, panel.width, panel.height))
                )
                next_id += 1
                x += panel.width
                line_height = max(line_height, panel.height)
            y += line_height
        return out
