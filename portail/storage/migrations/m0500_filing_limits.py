"""Filings per client address (IPv4, IPv6 /64, and the IPv6 /48 around it), kept one day: the
public form's filing limit, shared by every process."""


def up(db):
    """Create filing_attempts, read per key over a sliding window and purged by time."""
    db.execute(
        """
        CREATE TABLE filing_attempts (
            -- A throttle key of core.netaddr: "ip:192.0.2.1", "ip:2001:db8::/64",
            -- "net:2001:db8::/48". Never the deposit: the row only counts.
            key TEXT NOT NULL,
            at REAL NOT NULL  -- epoch seconds
        )
        """
    )
    db.execute("CREATE INDEX filing_attempts_key_at ON filing_attempts (key, at)")
    db.execute("CREATE INDEX filing_attempts_at ON filing_attempts (at)")
