-- Rolling restarts (issue #14): the version each node is to run when it is
-- not the fleet's (service_state.target_version): a rolling restart moves the
-- nodes one at a time, and a halted one leaves the rest where they were.
ALTER TABLE nodes ADD COLUMN target_version INTEGER;

-- The latest rollout (one row, JSON: the wire shape, the version the fleet ran
-- before it, the step it waits for).
CREATE TABLE rollouts (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  record TEXT NOT NULL
);
