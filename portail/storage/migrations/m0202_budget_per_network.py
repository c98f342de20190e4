"""The rate budget also remembers the client's wider network (IPv6 /48), so that hopping
between the /64s of one allocation cannot spend the budget every applicant shares.

A development version of m0201 added this column already: add it only where it is missing.
"""


def up(db):
    """Add rate_budget_calls.network and its index, if absent."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(rate_budget_calls)").fetchall()}
    if "network" not in columns:
        db.execute("ALTER TABLE rate_budget_calls ADD COLUMN network TEXT")
    db.execute(
        "CREATE INDEX IF NOT EXISTS rate_budget_calls_network_at "
        "ON rate_budget_calls (bucket, network, at)"
    )
