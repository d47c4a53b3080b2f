DROP TABLE service_state;
DROP TABLE nodes;
