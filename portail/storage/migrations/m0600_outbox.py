"""The outbox of e-mails: one row per message (the filing's acknowledgement), sent outside
the request by the app's mail worker or `flask mail send-pending`, retried with back-off."""


def up(db):
    """Create outbox, read by state and due time, and per deposit for the admin page."""
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            -- The deposit acknowledged. No foreign key: a message outlives nothing it refers
            -- to, outbox.prune() drops the messages of purged deposits.
            deposit_ref TEXT,
            kind TEXT NOT NULL,           -- "accuse_reception"
            recipient TEXT NOT NULL,
            subject TEXT NOT NULL,
            message TEXT NOT NULL,        -- the whole MIME message, as sent
            -- "en attente", "envoyé", "échec provisoire", "échec définitif",
            -- "démonstration" (kept in the local outbox), "non configuré" (no SMTP_HOST)
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_try_at REAL,             -- epoch seconds; null once sent or given up
            claimed_until REAL,           -- a worker's lease on the row (any process)
            last_error TEXT,              -- the server's answer, never a secret
            created_at TEXT NOT NULL,
            sent_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX outbox_due ON outbox (status, next_try_at)")
    db.execute("CREATE INDEX outbox_deposit ON outbox (deposit_ref)")
