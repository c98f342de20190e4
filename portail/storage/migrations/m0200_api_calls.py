"""API Entreprise calls: the journal (kept 36 months), the lookup cache, the shared rate
budget and the circuit breaker. Kept in SQLite so every worker process shares them."""


def up(db):
    """Create api_journal, lookup_cache, rate_budget_calls, rate_budget_state, api_circuit."""
    # One row per upstream call, cache hit or joined lookup. `at` is UTC ISO 8601 with
    # milliseconds; `outcome` ('success' / 'failure', NULL for normal answers such as 404
    # and for cache hits) lets /healthz find the last success through an index.
    db.execute(
        """
        CREATE TABLE api_journal (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            route TEXT NOT NULL,
            target TEXT,
            object TEXT,
            actor TEXT,
            status INTEGER,
            error_code TEXT,
            kind TEXT,
            duration_ms REAL,
            request_id TEXT,
            source TEXT NOT NULL DEFAULT 'api',
            outcome TEXT
        )
        """
    )
    db.execute("CREATE INDEX api_journal_at ON api_journal (at)")
    db.execute("CREATE INDEX api_journal_target ON api_journal (target, at)")
    db.execute("CREATE INDEX api_journal_status ON api_journal (status, at)")
    db.execute("CREATE INDEX api_journal_outcome ON api_journal (outcome, id)")

    db.execute(
        """
        CREATE TABLE lookup_cache (
            key TEXT PRIMARY KEY,
            route TEXT NOT NULL,
            target TEXT NOT NULL,
            status INTEGER NOT NULL,
            kind TEXT,
            body TEXT,
            request_id TEXT,
            stored_at REAL NOT NULL,
            expires_at REAL NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX lookup_cache_expires ON lookup_cache (expires_at)")

    # Sliding-window log: one row per call sent in the last minute, per bucket.
    db.execute(
        """
        CREATE TABLE rate_budget_calls (
            id INTEGER PRIMARY KEY,
            bucket TEXT NOT NULL,
            at REAL NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX rate_budget_calls_bucket_at ON rate_budget_calls (bucket, at)")
    db.execute(
        """
        CREATE TABLE rate_budget_state (
            bucket TEXT PRIMARY KEY,
            blocked_until REAL NOT NULL DEFAULT 0,
            blocked_reason TEXT,
            api_limit INTEGER,
            api_remaining INTEGER,
            api_reset REAL,
            updated_at REAL
        )
        """
    )

    db.execute(
        """
        CREATE TABLE api_circuit (
            name TEXT PRIMARY KEY,
            state TEXT NOT NULL DEFAULT 'closed',
            failures INTEGER NOT NULL DEFAULT 0,
            open_until REAL NOT NULL DEFAULT 0,
            probe_started REAL NOT NULL DEFAULT 0,
            changed_at REAL,
            last_error TEXT
        )
        """
    )
