DROP TABLE rollouts;
ALTER TABLE nodes DROP COLUMN target_version;
