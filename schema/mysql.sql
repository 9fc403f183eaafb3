-- The two existing tables of the workflow framework, for MySQL 8 / MariaDB 10.6+.
-- Applied by `python manage.py create_wf_tables` only when a table is missing.
-- The application never alters these tables; existing installations keep their own DDL.

CREATE TABLE IF NOT EXISTS wf_flow (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
  flow_name   VARCHAR(128) NOT NULL,
  flow_json   MEDIUMTEXT   NOT NULL,
  enabled     TINYINT(1)   NOT NULL DEFAULT 1,
  deleted     TINYINT(1)   NOT NULL DEFAULT 0,
  created_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_wf_flow_name (flow_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS wf_syslog (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  created_at   DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  level        VARCHAR(16)  NOT NULL,
  logger_name  VARCHAR(255) NOT NULL,
  message      MEDIUMTEXT   NOT NULL,
  PRIMARY KEY (id),
  -- The log viewer pages by id within a level or a logger prefix, and by time range.
  KEY ix_wf_syslog_level_id (level, id),
  KEY ix_wf_syslog_logger_id (logger_name(191), id),
  KEY ix_wf_syslog_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
