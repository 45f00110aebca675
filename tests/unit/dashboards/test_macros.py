"""Macro expansion against the plugin's documented expansions (stack-notes.md, pkg/macros)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dxpulse.dashboards.macros import (
    ALL,
    MacroExpansionError,
    apply_conditional_all,
    expand,
    replace_variables,
)

# 2026-11-20T01:02:03.456789Z .. 2026-11-21T23:59:59.999Z
FROM = datetime(2026, 11, 20, 1, 2, 3, 456789, tzinfo=UTC)
TO = datetime(2026, 11, 21, 23, 59, 59, 999000, tzinfo=UTC)
FROM_S, TO_S = 1795136523, 1795305599
FROM_MS, TO_MS = 1795136523456, 1795305599999


def run(sql: str, interval_s: int = 300, **variables: str | list[str]) -> str:
    return expand(sql, time_from=FROM, time_to=TO, interval_s=interval_s, variables=variables)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "$__timeFilter(window_start)",
            f"window_start >= toDateTime({FROM_S}) AND window_start <= toDateTime({TO_S})",
        ),
        (
            "$__timeFilter_ms(occurred_at)",
            f"occurred_at >= fromUnixTimestamp64Milli({FROM_MS}) "
            f"AND occurred_at <= fromUnixTimestamp64Milli({TO_MS})",
        ),
        ("$__dateFilter(day)", "day >= toDate('2026-11-20') AND day <= toDate('2026-11-21')"),
        (
            "$__dateTimeFilter(day, t)",
            "(day >= toDate('2026-11-20') AND day <= toDate('2026-11-21')) AND "
            f"(t >= toDateTime({FROM_S}) AND t <= toDateTime({TO_S}))",
        ),
        (
            "$__dt(day, t)",
            "(day >= toDate('2026-11-20') AND day <= toDate('2026-11-21')) AND "
            f"(t >= toDateTime({FROM_S}) AND t <= toDateTime({TO_S}))",
        ),
        ("$__fromTime", f"toDateTime({FROM_S})"),
        ("$__toTime", f"toDateTime({TO_S})"),
        ("$__fromTime_ms", f"fromUnixTimestamp64Milli({FROM_MS})"),
        ("$__toTime_ms", f"fromUnixTimestamp64Milli({TO_MS})"),
        ("$__interval_s", "300"),
        (
            "$__timeInterval(window_start)",
            "toStartOfInterval(toDateTime(window_start), INTERVAL 300 second)",
        ),
        (
            "$__timeInterval_ms(occurred_at)",
            "toStartOfInterval(toDateTime64(occurred_at, 3), INTERVAL 300000 millisecond)",
        ),
    ],
)
def test_each_macro_expands_as_documented(sql: str, expected: str) -> None:
    assert run(sql) == expected


def test_interval_is_at_least_one_second() -> None:
    assert run("$__interval_s", interval_s=0) == "1"
    assert run("$__timeInterval(c)", interval_s=0) == (
        "toStartOfInterval(toDateTime(c), INTERVAL 1 second)"
    )


def test_times_in_other_zones_are_the_same_instants() -> None:
    plus7 = timezone(timedelta(hours=7))
    sql = expand(
        "$__fromTime $__dateFilter(d)",
        time_from=datetime(2026, 11, 20, 6, 0, tzinfo=plus7),  # 2026-11-19T23:00Z
        time_to=datetime(2026, 11, 20, 8, 0, tzinfo=plus7),
        interval_s=60,
        variables={},
    )
    # dates are the plugin process's (UTC in the Grafana container)
    assert sql == ("toDateTime(1795129200) d >= toDate('2026-11-19') AND d <= toDate('2026-11-20')")


def test_naive_times_are_refused() -> None:
    with pytest.raises(MacroExpansionError, match="timezone-aware"):
        expand(
            "$__fromTime", time_from=datetime(2026, 1, 1), time_to=TO, interval_s=1, variables={}
        )


def test_whole_word_match_keeps_ms_variants_apart() -> None:
    assert run("$__toTime_ms AND $__timeFilter_ms(c)") == (
        f"fromUnixTimestamp64Milli({TO_MS}) AND c >= fromUnixTimestamp64Milli({FROM_MS}) "
        f"AND c <= fromUnixTimestamp64Milli({TO_MS})"
    )


def test_a_macro_that_prefixes_another_in_the_same_query_is_refused() -> None:
    # sqlutil replaces every occurrence of "$__toTime", "$__toTime_ms" included, or not,
    # depending on Go's map order: such a query is flaky in Grafana
    with pytest.raises(MacroExpansionError, match="order"):
        run("$__toTime_ms > $__toTime")


def test_arguments_may_nest_brackets_and_spaces() -> None:
    assert run("$__timeFilter( toDateTime(a, 'UTC') )") == (
        f"toDateTime(a, 'UTC') >= toDateTime({FROM_S}) AND toDateTime(a, 'UTC') <= toDateTime({TO_S})"
    )


def test_a_macro_without_brackets_does_not_take_later_brackets() -> None:
    assert run("$__fromTime - INTERVAL 1 DAY AND (x)") == (
        f"toDateTime({FROM_S}) - INTERVAL 1 DAY AND (x)"
    )
    assert run("($__interval_s % 3600)") == "(300 % 3600)"


def test_every_occurrence_is_expanded() -> None:
    assert run("$__fromTime, $__fromTime, $__interval_s*2") == (
        f"toDateTime({FROM_S}), toDateTime({FROM_S}), 300*2"
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("$__timeFilter", "expected 1 argument, received 0"),
        ("$__timeFilter(a, b)", "expected 1 argument, received 2"),
        ("$__dateTimeFilter(a)", "expected 2 arguments, received 1"),
        ("$__timeFilter(a", "missing close bracket"),
        ("$__timeGroup(t, minute)", "'\\$__timeGroup'"),
        ("$__interval", "'\\$__interval'"),
        ("$__nonsense", "'\\$__nonsense'"),
        ("WHERE x = $undefined", "'\\$undefined'"),
        ("WHERE x = ${undefined:sqlstring}", "undefined"),
    ],
)
def test_what_cannot_be_expanded_is_an_error(sql: str, message: str) -> None:
    with pytest.raises(MacroExpansionError, match=message):
        run(sql)


# $__conditionalAll (front end) --------------------------------------------------------------

CONDITIONAL = "WHERE $__conditionalAll(code IN (${p:sqlstring}), $p) AND 1"


def test_conditional_all_keeps_the_condition_for_a_selection() -> None:
    assert run(CONDITIONAL, p=["01", "79"]) == "WHERE code IN ('01','79') AND 1"
    assert run(CONDITIONAL, p="79") == "WHERE code IN ('79') AND 1"


@pytest.mark.parametrize("value", [ALL, [ALL], "", []])
def test_conditional_all_becomes_1_eq_1_for_all_or_nothing(value: str | list[str]) -> None:
    assert run(CONDITIONAL, p=value) == "WHERE 1=1 AND 1"


def test_conditional_all_accepts_the_braced_variable() -> None:
    sql = "$__conditionalAll(code IN ($p), ${p})"
    assert run(sql, p=ALL) == "1=1"
    assert run(sql, p=["a"]) == "code IN ('a')"


def test_conditional_all_ignores_a_formatted_variable_like_the_plugin() -> None:
    # the plugin's pattern does not recognise ${p:csv}: the condition always stays
    assert apply_conditional_all("$__conditionalAll(code IN ($p), ${p:csv})", {"p": ALL}) == (
        "code IN ($p)"
    )


def test_conditional_all_replaces_every_occurrence_from_the_last() -> None:
    sql = "$__conditionalAll(a IN ($p), $p) AND $__conditionalAll(b IN ($q), $q)"
    assert run(sql, p=ALL, q=["x"]) == "1=1 AND b IN ('x')"


def test_conditional_all_keeps_the_condition_verbatim() -> None:
    # the first argument is not trimmed; the second may carry spaces
    assert apply_conditional_all("$__conditionalAll( a = 1 ,  $p )", {"p": "v"}) == " a = 1 "


def test_conditional_all_with_a_wrong_argument_count_stops_and_fails_later() -> None:
    assert apply_conditional_all("$__conditionalAll(a)", {}) == "$__conditionalAll(a)"
    with pytest.raises(MacroExpansionError, match="conditionalAll"):
        run("$__conditionalAll(a)")


def test_conditional_all_with_an_unknown_variable_keeps_the_condition() -> None:
    assert apply_conditional_all("$__conditionalAll(a, $nope)", {}) == "a"


def test_conditional_all_follows_javascript_replacement_patterns() -> None:
    # String.prototype.replace: "$$" in the replacement is one "$"
    assert apply_conditional_all("$__conditionalAll(x = '$$', $p)", {"p": "v"}) == "x = '$'"


# Template variables (Grafana's templateSrv with the plugin's formatter) ---------------------


@pytest.mark.parametrize(
    ("sql", "value", "expected"),
    [
        ("$p", ["01", "79"], "'01','79'"),
        ("$p", "79", "79"),  # single values are inserted as they are
        ("${p}", ["01"], "'01'"),
        ("[[p]]", "79", "79"),
        ("${p:singlequote}", ["01", "79"], "'01','79'"),
        ("${p:singlequote}", "it's", "'it\\'s'"),
        ("${p:sqlstring}", ["01", "79"], "'01','79'"),
        ("${p:sqlstring}", "it's", "'it''s'"),
        ("${p:doublequote}", ["a", "b"], '"a","b"'),
        ("${p:csv}", ["a", "b"], "a,b"),
        ("${p:pipe}", ["a", "b"], "a|b"),
        ("${p:raw}", ["a", "b"], "a,b"),
        ("[[p:sqlstring]]", "79", "'79'"),
    ],
)
def test_variables_are_formatted_like_grafana(
    sql: str, value: str | list[str], expected: str
) -> None:
    assert replace_variables(sql, {"p": value}) == expected


def test_unknown_names_and_macros_are_left_to_the_back_end() -> None:
    assert replace_variables("$__timeFilter(t) $other ${x}", {"p": "v"}) == (
        "$__timeFilter(t) $other ${x}"
    )


def test_all_outside_conditional_all_uses_the_variable_options() -> None:
    sql = "code IN (${p:sqlstring})"
    assert replace_variables(sql, {"p": ALL}, {"p": ["01", "04"]}) == "code IN ('01','04')"
    with pytest.raises(MacroExpansionError, match="all_values"):
        replace_variables(sql, {"p": [ALL]})


def test_unsupported_format_is_an_error() -> None:
    with pytest.raises(MacroExpansionError, match="format 'text'"):
        replace_variables("${p:text}", {"p": "v"})


def test_the_documented_example() -> None:
    sql = (
        "SELECT count() FROM window_1m FINAL WHERE $__timeFilter(window_start)"
        " AND $__conditionalAll(locality_code IN (${province:sqlstring}), $province)"
    )
    start, end = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
    args = {"time_from": start, "time_to": end, "interval_s": 300}
    assert expand(sql, variables={"province": ["01", "79"]}, **args) == (  # type: ignore[arg-type]
        "SELECT count() FROM window_1m FINAL WHERE window_start >= toDateTime(1795132800)"
        " AND window_start <= toDateTime(1795219200) AND locality_code IN ('01','79')"
    )
    assert expand(sql, variables={"province": ALL}, **args).endswith(" AND 1=1")  # type: ignore[arg-type]
