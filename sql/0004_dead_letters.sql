-- 0004: dead letters — every message the pipeline could not accept, with why.
--
-- Bad JSON, contract violations, unknown locality codes and probable raw citizen IDs are
-- never dropped: the stream workers publish them to dx.deadletter.v1 and the sink keeps
-- them here. One row per source message: (source_topic, source_partition, source_offset)
-- identifies it, so a worker replaying after a crash does not add a second row.

CREATE TABLE IF NOT EXISTS {{database}}.dead_letters
(
    first_seen_at    DateTime64(3, 'UTC')   COMMENT 'When a worker first rejected it',
    source_topic     LowCardinality(String),
    source_partition UInt16,
    source_offset    UInt64,
    message_key      String                 COMMENT 'Kafka key (UTF-8, or base64 when not)',
    payload          String                 COMMENT 'Original bytes: UTF-8 text, or base64',
    payload_encoding LowCardinality(String) COMMENT 'utf-8 or base64',
    error_fields     Array(LowCardinality(String)) COMMENT 'Invalid fields; $ for the whole message',
    error_reasons    Array(String)          COMMENT 'Why, in the same order',
    reason           LowCardinality(String) COMMENT 'Main reason class, for dashboards',
    event_type       LowCardinality(String) DEFAULT '' COMMENT 'As claimed by the message, if any',
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(first_seen_at)
ORDER BY (source_topic, source_partition, source_offset)
TTL toDateTime(first_seen_at) + toIntervalDay({{raw_retention_days}})
COMMENT 'Rejected messages with the field and reason of every problem';
