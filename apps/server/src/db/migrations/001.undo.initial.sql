DROP TRIGGER config_versions_no_update;
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP TABLE audit_log;
DROP TABLE config_versions;
DROP TABLE tokens;
DROP TABLE sessions;
DROP TABLE users;
