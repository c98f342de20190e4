"""Admin accounts, their server-side sessions, login throttling and the admin event journal."""


def up(db):
    """Create admins, admin_sessions, login_throttle and admin_events."""
    # NOCASE: "Admin" and "admin" are one account, so nobody can create a look-alike.
    db.execute(
        """
        CREATE TABLE admins (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            password_changed_at TEXT NOT NULL,
            last_login_at TEXT
        )
        """
    )
    # The cookie carries a random id; only its SHA-256 is stored, so a copy of the database
    # cannot be replayed as a cookie.
    db.execute(
        """
        CREATE TABLE admin_sessions (
            id_hash TEXT PRIMARY KEY,
            admin_id INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            ip TEXT
        )
        """
    )
    db.execute("CREATE INDEX admin_sessions_admin ON admin_sessions(admin_id)")
    # One row per throttled key ("ip:..." or "account:..."): consecutive failures and the time
    # before which the next attempt is refused.
    db["login_throttle"].create(
        {"key": str, "failures": int, "last_failure_at": str, "blocked_until": str},
        pk="key",
    )
    # Security journal: logins (successes, failures, throttled), logouts, password changes,
    # admin access to filed deposits. Kept at least 36 months (no pruning).
    db["admin_events"].create(
        {
            "id": int,
            "at": str,
            "event": str,
            "username": str,
            "admin_id": int,
            "ip": str,
            "detail": str,
        },
        pk="id",
        not_null={"at", "event"},
    )
    db["admin_events"].create_index(["at"])
    db["admin_events"].create_index(["event", "at"])
