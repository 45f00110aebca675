-- 0010: dead letters of events inside batched messages.
--
-- A source message may carry a batch of events (a JSON array; contract v1, see
-- dxpulse/contracts/batch.py). Each invalid event of a batch is its own dead letter, so a
-- dead letter is identified by (source_topic, source_partition, source_offset,
-- source_index): source_index is the event's position in the batch, 0 for a
-- single-event message or for a batch rejected as a whole.

ALTER TABLE {{database}}.dead_letters
    ADD COLUMN source_index UInt16
        COMMENT 'Position of the event in a batched message (0 otherwise)' AFTER source_offset,
    MODIFY ORDER BY (source_topic, source_partition, source_offset, source_index);
