"""The rate budget remembers which client (IP address, IPv6 per /64) each call was for,
so that one client cannot spend the budget every applicant shares."""


def up(db):
    """Add rate_budget_calls.client and its index."""
    db.execute("ALTER TABLE rate_budget_calls ADD COLUMN client TEXT")
    db.execute("CREATE INDEX rate_budget_calls_client_at ON rate_budget_calls (bucket, client, at)")
