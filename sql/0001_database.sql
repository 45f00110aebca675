-- 0001: the dxpulse database and the ledger of applied migrations.
--
-- schema_migrations holds one row per applied file: its version, name and the
-- SHA-256 of its text. `dxpulse migrate` refuses to run when an applied file has
-- changed since, so the schema in ClickHouse always matches the files in sql/.

CREATE DATABASE IF NOT EXISTS {{database}}
    COMMENT 'dxpulse: near-real-time digital-transformation indicators';

CREATE TABLE IF NOT EXISTS {{database}}.schema_migrations
(
    version     UInt32                 COMMENT 'Number prefix of the migration file',
    name        String                 COMMENT 'File name without the number and .sql',
    checksum    String                 COMMENT 'SHA-256 (hex) of the file as applied',
    applied_at  DateTime64(3, 'UTC')   COMMENT 'When the file finished applying',
    duration_ms UInt32                 COMMENT 'How long applying it took'
)
ENGINE = MergeTree
ORDER BY version
COMMENT 'Ledger of applied schema migrations (written by dxpulse migrate)';
