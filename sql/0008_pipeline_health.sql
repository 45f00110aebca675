-- 0008: pipeline health, sampled every few seconds by the sink.
--
-- One row per sample and (component, topic, partition):
--   component   'workers' (the stream processors' consumer group on the source topics)
--               or 'sink' (the ClickHouse writer on the internal topics);
--   lag         end offset - committed offset of that consumer group;
--   events_per_s  messages consumed per second since the previous sample;
--   dead_letters / late_events  written since the previous sample;
--   newest_event_time  newest event time written so far (freshness = now - this).

CREATE TABLE IF NOT EXISTS {{database}}.pipeline_health
(
    sampled_at        DateTime64(3, 'UTC'),
    component         LowCardinality(String),
    topic             LowCardinality(String),
    partition         UInt16,
    committed_offset  Int64,
    end_offset        Int64,
    lag               Int64,
    events_per_s      Float64,
    dead_letters      UInt64,
    late_events       UInt64,
    newest_event_time Nullable(DateTime64(3, 'UTC'))
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(sampled_at)
ORDER BY (component, topic, partition, sampled_at)
TTL toDateTime(sampled_at) + toIntervalDay(30)
COMMENT 'Consumer lag, throughput, dead letters, late events and freshness over time';

-- The latest sample per (component, topic, partition), with freshness in seconds.
CREATE VIEW IF NOT EXISTS {{database}}.v_pipeline_health_latest AS
SELECT
    h.component AS component,
    h.topic AS topic,
    h.partition AS partition,
    max(h.sampled_at) AS last_sampled_at,
    argMax(h.committed_offset, h.sampled_at) AS committed_offset,
    argMax(h.end_offset, h.sampled_at) AS end_offset,
    argMax(h.lag, h.sampled_at) AS lag,
    argMax(h.events_per_s, h.sampled_at) AS events_per_s,
    sum(h.dead_letters) AS dead_letters_total,
    sum(h.late_events) AS late_events_total,
    max(h.newest_event_time) AS newest_event_time,
    dateDiff('second', max(h.newest_event_time), now64(3)) AS freshness_s
FROM {{database}}.pipeline_health AS h
GROUP BY h.component, h.topic, h.partition;
