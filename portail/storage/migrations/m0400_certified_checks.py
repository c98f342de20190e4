"""The certified check of a deposit: the protected answers an agent fetched, when and by whom,
and the last failed attempt since (a failure never erases the result before it)."""


def up(db):
    """Create certified_checks, one row per checked deposit."""
    db.execute(
        """
        CREATE TABLE certified_checks (
            deposit_ref TEXT PRIMARY KEY REFERENCES deposits (ref),
            siret TEXT NOT NULL,
            -- The last successful check (NULL until one succeeds).
            checked_at TEXT,
            checked_by TEXT,
            state TEXT,
            etablissement_json TEXT,
            association_json TEXT,
            notes_json TEXT,
            -- The last failed attempt after that result (NULL once a check succeeds).
            failed_at TEXT,
            failed_by TEXT,
            failure_kind TEXT,
            failure_title TEXT,
            failure_message TEXT
        )
        """
    )
