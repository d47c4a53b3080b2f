-- What enforces the configuration on each node: the product's SMTP node (ims) or a Postfix instance (postfix).
ALTER TABLE nodes ADD COLUMN engine TEXT NOT NULL DEFAULT 'ims';
