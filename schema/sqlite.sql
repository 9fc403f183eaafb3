-- The two existing tables of the workflow framework, for SQLite (development and tests).
-- Applied by `python manage.py create_wf_tables` only when a table is missing.

CREATE TABLE IF NOT EXISTS wf_flow (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  flow_name   VARCHAR(128) NOT NULL UNIQUE,
  flow_json   TEXT NOT NULL,
  enabled     TINYINT NOT NULL DEFAULT 1,
  deleted     TINYINT NOT NULL DEFAULT 0,
  created_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS wf_syslog (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  level        VARCHAR(16) NOT NULL,
  logger_name  VARCHAR(255) NOT NULL,
  message      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_wf_syslog_level_id ON wf_syslog (level, id);
CREATE INDEX IF NOT EXISTS ix_wf_syslog_logger_id ON wf_syslog (logger_name, id);
CREATE INDEX IF NOT EXISTS ix_wf_syslog_created ON wf_syslog (created_at);
