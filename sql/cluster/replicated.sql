-- Replicated variant of the dxpulse schema for a ClickHouse cluster named `dxpulse`
-- (see README.md next to this file). Shown for one table of each kind; the others follow
-- the same pattern with their columns from the numbered migrations.

CREATE DATABASE IF NOT EXISTS dx ON CLUSTER dxpulse;

-- Raw events: replicated local table, sharded by locality, read through Distributed.
CREATE TABLE IF NOT EXISTS dx.invoice_events_local ON CLUSTER dxpulse
(
    event_id             UUID,
    event_type           LowCardinality(String),
    occurred_at          DateTime64(3, 'UTC'),
    published_at         DateTime64(3, 'UTC'),
    ingested_at          DateTime64(3, 'UTC') DEFAULT now64(3),
    agency_code          LowCardinality(String),
    locality_code        LowCardinality(String),
    source_locality_code LowCardinality(String),
    invoice_id           String,
    seller_tax_code      String,
    invoice_kind         LowCardinality(String) DEFAULT '',
    amount_vnd           UInt64,
    vat_vnd              UInt64 DEFAULT 0,
    source_topic         LowCardinality(String),
    source_partition     UInt16,
    source_offset        UInt64,
    version              UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/dx/invoice_events', '{replica}', version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (locality_code, occurred_at, event_id)
TTL toDateTime(occurred_at) + toIntervalDay(730);

CREATE TABLE IF NOT EXISTS dx.invoice_events ON CLUSTER dxpulse AS dx.invoice_events_local
ENGINE = Distributed(dxpulse, dx, invoice_events_local, cityHash64(locality_code));

-- Windows and roll-ups: same pattern, same sharding key.
-- CREATE TABLE dx.window_1m_local ... ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/dx/window_1m', '{replica}', version) ...
-- CREATE TABLE dx.window_1m AS dx.window_1m_local ENGINE = Distributed(dxpulse, dx, window_1m_local, cityHash64(locality_code));

-- Lifecycle join state: a full copy on every shard (completions look it up locally).
CREATE TABLE IF NOT EXISTS dx.dossier_lifecycle ON CLUSTER dxpulse
(
    dossier_id    String,
    locality_code LowCardinality(String),
    received_at   DateTime64(3, 'UTC'),
    due_at        DateTime64(3, 'UTC'),
    fee_required  Bool,
    channel       LowCardinality(String),
    version       UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/dx/dossier_lifecycle', '{replica}', version)
ORDER BY dossier_id;

-- Pipeline health and dead letters are small: one replicated table, no sharding.
-- CREATE TABLE dx.pipeline_health ON CLUSTER dxpulse (...) ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/dx/pipeline_health', '{replica}') ...
