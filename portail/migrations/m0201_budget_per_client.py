"""The rate budget remembers which client each call was for (its IP address, IPv6 per /64)
and, for IPv6, the client's wider network (its /48), so that one client cannot spend the
budget every applicant shares, even by hopping between the /64s of its allocation."""


def up(db):
    """Add rate_budget_calls.client and .network, and their indexes."""
    db.execute("ALTER TABLE rate_budget_calls ADD COLUMN client TEXT")
    db.execute("ALTER TABLE rate_budget_calls ADD COLUMN network TEXT")
    db.execute("CREATE INDEX rate_budget_calls_client_at ON rate_budget_calls (bucket, client, at)")
    db.execute(
        "CREATE INDEX rate_budget_calls_network_at ON rate_budget_calls (bucket, network, at)"
    )
