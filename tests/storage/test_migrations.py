"""Named migrations upgrade databases in the field: applied once, in order, idempotent, and
safe on every schema a released portal may have left behind."""

from __future__ import annotations

from portail.apientreprise import budget
from portail.storage import database


def columns(db, table):
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})").fetchall()}


def test_a_second_migrate_applies_nothing(tmp_path):
    db = database.connect(tmp_path / "p.sqlite3")
    assert database.migrate(db)
    assert database.migrate(db) == []


def test_a_database_from_before_the_network_share_is_upgraded(tmp_path):
    db = database.connect(tmp_path / "p.sqlite3")
    database.migrate(db)
    # The schema a portal had before m0202: m0201 applied, no network column yet.
    db.execute("DROP INDEX rate_budget_calls_network_at")
    db.execute("ALTER TABLE rate_budget_calls DROP COLUMN network")
    db.execute("DELETE FROM _migrations WHERE name = 'm0202_budget_per_network'")
    db.execute("INSERT INTO rate_budget_calls (bucket, at, client) VALUES ('json', 1e9, 'ip:a')")
    assert "network" not in columns(db, "rate_budget_calls")

    assert database.migrate(db) == ["m0202_budget_per_network"]
    assert "network" in columns(db, "rate_budget_calls")
    granted = budget.try_acquire(
        db, per_minute=10, client="ip:b", per_client=5, network="net:x", per_network=5
    )
    assert granted.granted


def test_a_database_that_already_has_the_network_column_is_upgraded_too(tmp_path):
    db = database.connect(tmp_path / "p.sqlite3")
    database.migrate(db)
    db.execute("DELETE FROM _migrations WHERE name = 'm0202_budget_per_network'")
    assert database.migrate(db) == ["m0202_budget_per_network"]
    assert "network" in columns(db, "rate_budget_calls")
