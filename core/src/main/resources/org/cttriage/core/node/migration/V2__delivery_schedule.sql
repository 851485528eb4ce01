-- V2: the one delivery model. When a pending delivery is next due (NULL: at once), and the claim of
-- the dispatcher attempting it (a claim left by a process that died runs out by itself).
ALTER TABLE node_delivery ADD COLUMN IF NOT EXISTS next_attempt TIMESTAMP;
ALTER TABLE node_delivery ADD COLUMN IF NOT EXISTS claimed_until TIMESTAMP;
CREATE INDEX IF NOT EXISTS node_delivery_due ON node_delivery (state, next_attempt);
