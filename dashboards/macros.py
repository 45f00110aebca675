"""Expand a panel query the way Grafana and the grafana-clickhouse-datasource plugin do.

Grafana cannot run where dxpulse is developed, so the dashboards are proven by running
every panel query against ClickHouse after this module has turned it into the SQL the
plugin would send. Three steps, in the plugin's order:

1. **``$__conditionalAll(condition, $var)``** (the plugin's front end,
   ``CHDatasource.applyConditionalAll``): from the last occurrence backwards, the macro
   becomes ``condition`` — or ``1=1`` when ``$var`` (or ``${var}``; no other form is
   recognised) is set to All or to nothing.
2. **Template variables** (Grafana's ``templateSrv.replace`` with the plugin's formatter):
   ``$var``, ``${var}``, ``[[var]]`` and the ``:format`` forms. Without a format a
   multi-value selection becomes ``'a','b'`` and a single value is inserted *as is*
   (unquoted); ``${var:singlequote}`` gives ``'a','b'`` escaping ``'`` as ``\\'``,
   ``${var:sqlstring}`` escapes ``'`` as ``''``; ``raw``, ``csv``, ``pipe`` and
   ``doublequote`` are supported too. Names Grafana does not know (such as the
   ``$__timeFilter`` macros) are left alone.
3. **Macros** (the plugin's back end, ``pkg/macros`` through grafana-plugin-sdk-go's
   ``sqlutil.Interpolate``): a macro's arguments are the bracketed list right after its
   name, split on top-level commas and trimmed:

   ==============================  ======================================================
   ``$__timeFilter(c)``            ``c >= toDateTime(FROM) AND c <= toDateTime(TO)``
   ``$__timeFilter_ms(c)``         same with ``fromUnixTimestamp64Milli(FROM_MS)``
   ``$__dateFilter(c)``            ``c >= toDate('YYYY-MM-DD') AND c <= toDate('...')``
   ``$__dateTimeFilter(d, c)``     ``(date filter on d) AND (time filter on c)``; ``$__dt``
   ``$__fromTime`` / ``$__toTime``  ``toDateTime(N)`` (unix seconds)
   ``$__fromTime_ms`` / ``_ms``    ``fromUnixTimestamp64Milli(N)``
   ``$__interval_s``               the interval in whole seconds, at least 1
   ``$__timeInterval(c)``          ``toStartOfInterval(toDateTime(c), INTERVAL N second)``
   ``$__timeInterval_ms(c)``       ``toStartOfInterval(toDateTime64(c, 3), INTERVAL N millisecond)``
   ==============================  ======================================================

   Dates are those of the plugin process's zone, UTC in the Grafana container.

Anything left over — an unknown ``$__macro``, a variable that was not given, a macro
with the wrong number of arguments or a missing ``)`` — raises
:class:`MacroExpansionError`, so a test that expands every query finds it. So does a
query using both ``$__toTime`` and ``$__toTime_ms`` (or ``$__fromTime`` and its ``_ms``):
the plugin replaces every occurrence of a macro's text, so its result would depend on
the (random) order in which it walks its macros.

Example::

    from datetime import UTC, datetime
    from dxpulse.dashboards.macros import ALL, expand

    expand(
        "SELECT count() FROM window_1m FINAL WHERE $__timeFilter(window_start)"
        " AND $__conditionalAll(locality_code IN (${province:sqlstring}), $province)",
        time_from=datetime(2026, 11, 20, tzinfo=UTC),
        time_to=datetime(2026, 11, 21, tzinfo=UTC),
        interval_s=300,
        variables={"province": ["01", "79"]},
    )
    # "SELECT count() FROM window_1m FINAL WHERE window_start >= toDateTime(1795132800)
    #  AND window_start <= toDateTime(1795219200) AND locality_code IN ('01','79')"
    # and with variables={"province": ALL}: "... AND 1=1"
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from dxpulse.errors import DxpulseError

__all__ = [
    "ALL",
    "MacroExpansionError",
    "VariableValue",
    "apply_conditional_all",
    "expand",
    "replace_variables",
]

#: The value Grafana stores for a variable set to "All".
ALL = "$__all"

VariableValue = str | Sequence[str]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Grafana's variable syntax (public/app/features/variables/utils.ts, ``variableRegex``);
# JavaScript's \w is ASCII-only.
_VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}", re.ASCII
)
# The plugin's pattern for the variable named in $__conditionalAll's second argument.
_CONDITIONAL_VAR = re.compile(r"(?<=\$\{)[\w\d]+(?=\})|(?<=\$)[\w\d]+", re.ASCII)
_CONDITIONAL_ALL = "$__conditionalAll("
_LEFTOVER = re.compile(r"\$__\w+|\$\{[^}]*\}|\$\w+|\[\[\w+", re.ASCII)


class MacroExpansionError(DxpulseError):
    """A query cannot be expanded: unknown macro or variable, bad arguments, bad format."""


def expand(
    sql: str,
    *,
    time_from: datetime,
    time_to: datetime,
    interval_s: int,
    variables: Mapping[str, VariableValue],
    all_values: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The SQL the plugin sends to ClickHouse for ``sql`` in this dashboard state.

    ``variables`` maps each variable to its current value: a string for a single-value
    variable, a list for a multi-value one, :data:`ALL` (or ``[ALL]``) for All.
    ``all_values`` gives the values Grafana substitutes for a variable set to All when
    it appears outside ``$__conditionalAll`` (the variable's options).
    """
    text = apply_conditional_all(sql, variables)
    text = replace_variables(text, variables, all_values or {})
    text = _expand_macros(text, time_from=time_from, time_to=time_to, interval_s=interval_s)
    leftover = _LEFTOVER.search(text)
    if leftover is not None:
        raise MacroExpansionError(
            f"{leftover.group(0)!r} is neither a supported plugin macro nor a given variable"
        )
    return text


# 1. $__conditionalAll ---------------------------------------------------------------------


def apply_conditional_all(sql: str, variables: Mapping[str, VariableValue]) -> str:
    """The plugin's ``applyConditionalAll``: each macro becomes its condition or ``1=1``."""
    raw = sql
    index = raw.rfind(_CONDITIONAL_ALL)
    while index != -1:
        params = _js_macro_args(raw, index + len(_CONDITIONAL_ALL) - 1)
        if len(params) != 2:
            return raw  # the plugin gives up and leaves the rest as is
        phrase = params[0]
        named = _CONDITIONAL_VAR.search(params[1].strip())
        if named is not None and named.group(0) in variables:
            current = _js_to_string(variables[named.group(0)])
            if current in ("", ALL):
                phrase = "1=1"
        raw = _js_replace_first(raw, f"{_CONDITIONAL_ALL}{params[0]},{params[1]})", phrase)
        index = raw.rfind(_CONDITIONAL_ALL)
    return raw


def _js_macro_args(query: str, args_index: int) -> list[str]:
    """``getMacroArgs``: split the bracketed list at ``args_index`` on depth-1 commas."""
    args: list[str] = []
    depth = 0
    last = 1
    rest = query[args_index:]
    for match in re.finditer(r"[(),]", rest):
        char, end = match.group(0), match.end()
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 1:
            args.append(rest[last : end - 1])
            last = end
        if depth == 0:
            args.append(rest[last : end - 1])
            return args
    return []


def _js_to_string(value: VariableValue) -> str:
    """JavaScript's ``value.toString()`` of a variable's current value."""
    return value if isinstance(value, str) else ",".join(value)


def _js_replace_first(text: str, pattern: str, replacement: str) -> str:
    """JavaScript's ``String.prototype.replace`` with a string pattern (first match only)."""
    at = text.find(pattern)
    if at == -1:
        return text
    before, after = text[:at], text[at + len(pattern) :]
    special: dict[str, str] = {"$": "$", "&": pattern, "`": before, "'": after}
    out: list[str] = []
    i = 0
    while i < len(replacement):
        char = replacement[i]
        if char == "$" and i + 1 < len(replacement) and replacement[i + 1] in special:
            out.append(special[replacement[i + 1]])
            i += 2
            continue
        out.append(char)
        i += 1
    return before + "".join(out) + after


# 2. Template variables --------------------------------------------------------------------


def replace_variables(
    sql: str,
    variables: Mapping[str, VariableValue],
    all_values: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Grafana's ``templateSrv.replace`` with the ClickHouse plugin's default formatter."""
    options = all_values or {}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6)
        if name not in variables:
            return match.group(0)
        value = variables[name]
        if _is_all(value):
            if name not in options:
                raise MacroExpansionError(
                    f"variable {name!r} is All and used outside $__conditionalAll: "
                    "pass its values in all_values"
                )
            value = list(options[name])
        return _format(value, fmt, name)

    return _VARIABLE.sub(substitute, sql)


def _is_all(value: VariableValue) -> bool:
    if isinstance(value, str):
        return value == ALL
    return len(value) > 0 and value[0] == ALL


def _plugin_format(value: VariableValue) -> str:
    """The plugin's ``format``: arrays become ``'a','b'``; a single value is left as is."""
    if isinstance(value, str):
        return value
    return "'" + "','".join(value) + "'"


def _quoted(quote: str, escape: Callable[[str], str]) -> Callable[[VariableValue], str]:
    def formatter(value: VariableValue) -> str:
        items = [value] if isinstance(value, str) else list(value)
        return ",".join(f"{quote}{escape(v)}{quote}" for v in items)

    return formatter


def _joined(separator: str) -> Callable[[VariableValue], str]:
    def formatter(value: VariableValue) -> str:
        return value if isinstance(value, str) else separator.join(value)

    return formatter


_FORMATS: dict[str, Callable[[VariableValue], str]] = {
    "singlequote": _quoted("'", lambda v: v.replace("'", "\\'")),
    "doublequote": _quoted('"', lambda v: v.replace('"', '\\"')),
    "sqlstring": _quoted("'", lambda v: v.replace("'", "''").replace('"', '\\"')),
    "raw": _joined(","),
    "csv": _joined(","),
    "pipe": _joined("|"),
}


def _format(value: VariableValue, fmt: str | None, name: str) -> str:
    if fmt is None:
        return _plugin_format(value)
    try:
        return _FORMATS[fmt](value)
    except KeyError:
        raise MacroExpansionError(
            f"variable {name!r}: format {fmt!r} is not supported "
            f"(supported: {', '.join(sorted(_FORMATS))})"
        ) from None


# 3. The plugin's back-end macros ----------------------------------------------------------


def _unix_s(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(seconds=1)


def _unix_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _expand_macros(sql: str, *, time_from: datetime, time_to: datetime, interval_s: int) -> str:
    for moment in (time_from, time_to):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise MacroExpansionError("time_from and time_to must be timezone-aware")
    seconds = max(int(interval_s), 1)
    milliseconds = max(int(interval_s) * 1000, 1)
    date_from = f"toDate('{time_from.astimezone(UTC).date().isoformat()}')"
    date_to = f"toDate('{time_to.astimezone(UTC).date().isoformat()}')"
    dt_from, dt_to = f"toDateTime({_unix_s(time_from)})", f"toDateTime({_unix_s(time_to)})"
    ms_from = f"fromUnixTimestamp64Milli({_unix_ms(time_from)})"
    ms_to = f"fromUnixTimestamp64Milli({_unix_ms(time_to)})"

    def between(low: str, high: str) -> Callable[[list[str]], str]:
        def macro(args: list[str]) -> str:
            (column,) = _arity(args, 1)
            return f"{column} >= {low} AND {column} <= {high}"

        return macro

    def date_time_filter(args: list[str]) -> str:
        date_column, time_column = _arity(args, 2)
        return (
            f"({date_column} >= {date_from} AND {date_column} <= {date_to}) AND "
            f"({time_column} >= {dt_from} AND {time_column} <= {dt_to})"
        )

    def time_interval(args: list[str]) -> str:
        (column,) = _arity(args, 1)
        return f"toStartOfInterval(toDateTime({column}), INTERVAL {seconds} second)"

    def time_interval_ms(args: list[str]) -> str:
        (column,) = _arity(args, 1)
        return f"toStartOfInterval(toDateTime64({column}, 3), INTERVAL {milliseconds} millisecond)"

    macros: dict[str, Callable[[list[str]], str]] = {
        "fromTime": lambda _: dt_from,
        "toTime": lambda _: dt_to,
        "fromTime_ms": lambda _: ms_from,
        "toTime_ms": lambda _: ms_to,
        "timeFilter": between(dt_from, dt_to),
        "timeFilter_ms": between(ms_from, ms_to),
        "dateFilter": between(date_from, date_to),
        "dateTimeFilter": date_time_filter,
        "dt": date_time_filter,
        "timeInterval": time_interval,
        "timeInterval_ms": time_interval_ms,
        "interval_s": lambda _: str(seconds),
    }
    found = {name: _macro_matches(sql, name) for name in macros}
    uses = Counter(full for matches in found.values() for full, _ in matches)
    for full, n in uses.items():
        if sql.count(full) > n:
            # sqlutil replaces every occurrence of the matched text: "$__toTime" would also
            # rewrite "$__toTime_ms", or not, depending on Go's random map order
            raise MacroExpansionError(
                f"{full!r} is also the start of another macro in this query: the plugin's "
                "result would depend on the order it expands macros in"
            )
    text = sql
    for name, macro in macros.items():
        for full, args in found[name]:
            text = text.replace(full, macro(args))
    return text


def _arity(args: list[str], expected: int) -> list[str]:
    if len(args) != expected:
        raise MacroExpansionError(
            f"unexpected number of arguments: expected {expected} argument"
            f"{'s' if expected > 1 else ''}, received {len(args)}"
        )
    return args


def _macro_matches(text: str, name: str) -> list[tuple[str, list[str]]]:
    """sqlutil's ``getMacroMatches``: ``$__name`` (whole word) and the arguments right after."""
    matches: list[tuple[str, list[str]]] = []
    for found in re.finditer(rf"\$__{re.escape(name)}\b", text, re.ASCII):
        args, length = _parse_args(text[found.end() :])
        if length < 0:
            raise MacroExpansionError(
                f"$__{name}: failed to parse macro arguments (missing close bracket?)"
            )
        matches.append((text[found.start() : found.end() + length], args))
    return matches


def _parse_args(rest: str) -> tuple[list[str], int]:
    """sqlutil's ``parseArgs``: the bracketed list at the start of ``rest`` and its length."""
    if not rest.startswith("("):
        return [], 0
    args: list[str] = []
    depth = 0
    current: list[str] = []
    for index, char in enumerate(rest):
        if char == "(":
            depth += 1
            if depth == 1:
                continue
        elif char == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(current).strip())
                return args, index + 1
        elif char == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    return [], -1
