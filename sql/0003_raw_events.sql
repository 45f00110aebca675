-- 0003: raw events, one table per family, as the pipeline normalised them.
--
-- Written only by the sink (dxpulse.streams.sink), in batches of thousands of rows.
-- * locality_code is the current 2-digit code (a legacy code is mapped to its
--   successor; the code as sent is kept in source_locality_code);
-- * de-duplicated by event_id: the sorting key ends with event_id and every copy of an
--   event has the same locality and event time, so ReplacingMergeTree keeps one row per
--   event; `version` makes the copy published first win. Read with FINAL for exact counts;
-- * published_at is the Kafka record timestamp of that copy; an event is late when it was
--   published after its 1-minute window closed plus the grace period;
-- * partitioned by month of event time; rows expire after DXPULSE_RAW_RETENTION_DAYS
--   (`dxpulse migrate` applies a changed value).
-- Only pseudonyms (applicant_ref) and aggregates land here: the contract rejects raw
-- citizen identifiers before this point.

CREATE TABLE IF NOT EXISTS {{database}}.dossier_events
(
    event_id             UUID,
    event_type           LowCardinality(String),
    occurred_at          DateTime64(3, 'UTC'),
    published_at         DateTime64(3, 'UTC')    COMMENT 'Kafka timestamp of the copy kept',
    ingested_at          DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the sink wrote it',
    agency_code          LowCardinality(String),
    locality_code        LowCardinality(String)  COMMENT 'Current code (normalised)',
    source_locality_code LowCardinality(String)  COMMENT 'Code as sent',
    dossier_id           String,
    procedure_code       LowCardinality(String)  DEFAULT '' COMMENT 'received only',
    channel              LowCardinality(String)  DEFAULT '' COMMENT 'received: online, in_person, postal',
    online_level         LowCardinality(String)  DEFAULT '' COMMENT 'received online: full, partial',
    due_at               Nullable(DateTime64(3, 'UTC')) COMMENT 'received: NgayHenTra',
    fee_required         Nullable(Bool)          COMMENT 'received',
    applicant_type       LowCardinality(String)  DEFAULT '' COMMENT 'received: citizen, business',
    applicant_ref        String                  DEFAULT '' COMMENT 'received: HMAC pseudonym or empty',
    result               LowCardinality(String)  DEFAULT '' COMMENT 'completed: approved, rejected',
    digitized            Nullable(Bool)          COMMENT 'completed: DuocSoHoa',
    satisfaction         LowCardinality(String)  DEFAULT '' COMMENT 'rated',
    source_topic         LowCardinality(String),
    source_partition     UInt16,
    source_offset        UInt64,
    version              UInt64                  COMMENT 'Higher wins among copies: earlier publication',
    INDEX idx_dossier_id dossier_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (locality_code, occurred_at, event_id)
TTL toDateTime(occurred_at) + toIntervalDay({{raw_retention_days}})
COMMENT 'Dossier events (hồ sơ TTHC), normalised and de-duplicated by event_id';

CREATE TABLE IF NOT EXISTS {{database}}.invoice_events
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
    invoice_kind         LowCardinality(String)  DEFAULT '' COMMENT 'issued: with_code, without_code, cash_register',
    amount_vnd           UInt64                  COMMENT 'Total incl. VAT, whole VND',
    vat_vnd              UInt64                  DEFAULT 0 COMMENT 'issued',
    source_topic         LowCardinality(String),
    source_partition     UInt16,
    source_offset        UInt64,
    version              UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (locality_code, occurred_at, event_id)
TTL toDateTime(occurred_at) + toIntervalDay({{raw_retention_days}})
COMMENT 'E-invoice events (hóa đơn điện tử), normalised and de-duplicated by event_id';

CREATE TABLE IF NOT EXISTS {{database}}.payment_events
(
    event_id             UUID,
    event_type           LowCardinality(String),
    occurred_at          DateTime64(3, 'UTC'),
    published_at         DateTime64(3, 'UTC'),
    ingested_at          DateTime64(3, 'UTC') DEFAULT now64(3),
    agency_code          LowCardinality(String),
    locality_code        LowCardinality(String),
    source_locality_code LowCardinality(String),
    payment_id           String,
    dossier_id           String                  DEFAULT '' COMMENT 'Empty when not for a dossier',
    amount_vnd           UInt64,
    method               LowCardinality(String),
    gateway              LowCardinality(String)  COMMENT 'national_portal or local_gateway',
    source_topic         LowCardinality(String),
    source_partition     UInt16,
    source_offset        UInt64,
    version              UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (locality_code, occurred_at, event_id)
TTL toDateTime(occurred_at) + toIntervalDay({{raw_retention_days}})
COMMENT 'Online payment events (thanh toán trực tuyến), normalised and de-duplicated by event_id';

-- What completing a dossier needs to know about it, by dossier_id: the lifecycle join.
-- Filled from every dossier.received row as it is written; a completion is on time when
-- its occurred_at <= due_at here.
CREATE TABLE IF NOT EXISTS {{database}}.dossier_lifecycle
(
    dossier_id    String,
    locality_code LowCardinality(String),
    received_at   DateTime64(3, 'UTC'),
    due_at        DateTime64(3, 'UTC'),
    fee_required  Bool,
    channel       LowCardinality(String),
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY dossier_id
TTL toDateTime(received_at) + toIntervalDay({{raw_retention_days}})
COMMENT 'Per dossier: due date, locality and fee flag from its dossier.received event';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.mv_dossier_lifecycle
TO {{database}}.dossier_lifecycle AS
SELECT dossier_id, locality_code, occurred_at AS received_at, assumeNotNull(due_at) AS due_at,
       assumeNotNull(fee_required) AS fee_required, channel, version
FROM {{database}}.dossier_events
WHERE event_type = 'dossier.received';
