"""Finding deposits among 100,000: a searchable name, the certified check's state, and an
index for each filter of /admin/demandes, every one ending in the list's order
(created_at, then the rowid SQLite adds to every index)."""

from portail.storage.deposit_search import search_key


def up(db):
    """Add deposits.search_name (backfilled) and deposits.certified_state, and their indexes."""
    db.execute("ALTER TABLE deposits ADD COLUMN search_name TEXT")
    # NULL: the certified check has not run; else 'match', 'differences' or 'closed'.
    db.execute("ALTER TABLE deposits ADD COLUMN certified_state TEXT")
    rows = db.conn.execute("SELECT id, raison_sociale FROM deposits").fetchall()
    db.conn.executemany(
        "UPDATE deposits SET search_name = ? WHERE id = ?",
        [(search_key(name), deposit_id) for deposit_id, name in rows],
    )
    # The newest-first scan tests names in the index without reading the rows; it replaces
    # the index on created_at alone, which it serves as well.
    db.execute("DROP INDEX IF EXISTS idx_deposits_created_at")
    db.execute("CREATE INDEX deposits_created_name ON deposits (created_at, search_name)")
    db.execute("CREATE INDEX deposits_siret ON deposits (siret, created_at)")
    db.execute("CREATE INDEX deposits_certified ON deposits (certified_state, created_at)")
