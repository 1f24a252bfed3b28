-- Leadership leases for singleton work (the SLA scheduler). A lease has a
-- holder, an expiry the holder keeps pushing forward (heartbeat), and a
-- fencing token that grows with every new holder: work done under a lease
-- checks, inside its own transaction, that its token still holds, so a
-- leader that was frozen and wakes up after another took over cannot act.
-- Replaces the PostgreSQL session advisory lock, which a frozen but still
-- connected leader kept holding forever.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    token BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
