"""Attestations fetched for a deposit (fiscale from DGFiP, vigilance from Urssaf): one row per
attempt, with the provider's facts, and where the PDF is kept when one was obtained."""


def up(db):
    """Create attestations, listed per deposit, newest first."""
    db.execute(
        """
        CREATE TABLE attestations (
            -- A random 128-bit token (hex): the download URL's identifier, never guessable.
            id TEXT PRIMARY KEY,
            deposit_ref TEXT NOT NULL REFERENCES deposits (ref),
            kind TEXT NOT NULL CHECK (kind IN ('fiscale', 'vigilance')),
            siren TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('obtenue', 'refusée', 'erreur')),
            -- The provider's facts (YYYY-MM-DD): delivery (fiscale) or start of validity
            -- (vigilance), end of validity (vigilance), end of the analysed period (fiscale).
            delivered_on TEXT,
            valid_until TEXT,
            period_end TEXT,
            security_code TEXT,
            -- What the agent reads: the refusal or the error and what to do (French).
            message TEXT,
            error_kind TEXT,
            -- The PDF under DOCUMENTS_DIR (a random name), for an obtained attestation.
            file_name TEXT,
            size INTEGER,
            sha256 TEXT
        )
        """
    )
    db.execute("CREATE INDEX attestations_deposit ON attestations (deposit_ref, fetched_at)")
