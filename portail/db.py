"""Flask glue for the store: one connection per request, the init-db command."""

from __future__ import annotations

import click
import sqlite_utils
from flask import Flask, current_app, g

from portail import settings, store


def get_db() -> sqlite_utils.Database:
    """The request's (or CLI command's) database connection, opened on first use."""
    if "db" not in g:
        g.db = store.connect(current_app.config["DATABASE"])
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """Close the connection opened for this request, if any."""
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


def prepare_database(app: Flask) -> bool:
    """Migrate, and seed demonstration settings on a fresh database. True if seeded."""
    db = store.connect(app.config["DATABASE"])
    try:
        store.migrate(db)
        return settings.seed_demonstration(db)
    finally:
        db.conn.close()


@click.command("init-db")
def init_db_command() -> None:
    """Create or migrate the database (idempotent)."""
    db = get_db()
    applied = store.migrate(db)
    seeded = settings.seed_demonstration(db)
    click.echo(
        f"Base de données prête : {current_app.config['DATABASE']} "
        f"({len(applied)} migration(s) appliquée(s))."
    )
    if seeded:
        click.echo("Mode démonstration : bac à sable intégré, données fictives.")


def init_app(app: Flask) -> None:
    """Register the teardown and the CLI command."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
