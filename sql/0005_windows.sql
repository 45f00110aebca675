-- 0005: 1-minute windows and hourly roll-ups per locality, in event time.
--
-- window_1m holds, for every (locality_code, minute of event time) with events, the
-- counts and sums the analyst views need. The sink recomputes the affected windows from
-- the de-duplicated raw tables after every batch it writes and upserts them as absolute
-- values (ReplacingMergeTree, newest `version` wins), so a window is current within
-- seconds and replays never double count. A window is final once its end plus the grace
-- period (DXPULSE_WINDOW_GRACE_SECONDS) has passed; an event published after that is
-- counted in late_events and still corrects its window and roll-ups.
-- completed_on_time / completed_late use the lifecycle join (dossier_lifecycle.due_at);
-- a completion whose dossier.received has not arrived is counted in
-- completed_on_time_unknown until it does.
-- rollup_1h sums the windows of each hour (and merges the distinct-dossier state).
-- Dashboards: near-real-time panels read window_1m FINAL, long ranges rollup_1h FINAL.

CREATE TABLE IF NOT EXISTS {{database}}.window_1m
(
    locality_code             LowCardinality(String),
    window_start              DateTime('UTC'),
    received                  UInt64,
    received_online           UInt64,
    received_full_online      UInt64,
    received_fee_required     UInt64,
    completed                 UInt64,
    completed_on_time         UInt64,
    completed_late            UInt64,
    completed_on_time_unknown UInt64,
    completed_digitized       UInt64,
    rated                     UInt64,
    rated_dissatisfied        UInt64,
    invoices_issued           UInt64,
    invoices_cancelled        UInt64,
    issued_amount_vnd         UInt64,
    issued_vat_vnd            UInt64,
    cancelled_amount_vnd      UInt64,
    issued_with_code          UInt64,
    issued_without_code       UInt64,
    issued_cash_register      UInt64,
    payments_succeeded        UInt64,
    payments_failed           UInt64,
    payments_refunded         UInt64,
    succeeded_amount_vnd      UInt64,
    refunded_amount_vnd       UInt64,
    paid_dossiers             AggregateFunction(uniqExact, String) COMMENT 'dossier_ids with a succeeded payment',
    events                    UInt64 COMMENT 'All accepted events in the window',
    late_events               UInt64 COMMENT 'Events published after window end + grace',
    computed_at               DateTime64(3, 'UTC'),
    version                   UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (locality_code, window_start)
TTL window_start + toIntervalDay({{raw_retention_days}})
COMMENT '1-minute event-time windows per locality (absolute values, upserted)';

CREATE TABLE IF NOT EXISTS {{database}}.rollup_1h AS {{database}}.window_1m
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (locality_code, window_start)
COMMENT 'Hourly roll-ups of window_1m per locality (window_start = start of the hour)';
