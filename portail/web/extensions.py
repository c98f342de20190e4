"""Flask glue for the store: one kept connection per server thread, the init-db command."""

from __future__ import annotations

import os
import threading

import click
import sqlite_utils
from flask import Flask, current_app, g

from portail.core import settings_rules
from portail.storage import database, settings

_local = threading.local()


def get_db() -> sqlite_utils.Database:
    """This thread's connection to the app's database, opened on first use.

    Server threads keep their connection from one request to the next: opening one costs a
    file open and pragmas, and closing the last connection of a WAL database checkpoints
    it, which together cost more than a cache-hit lookup itself.
    """
    if "db" not in g:
        key = (os.getpid(), current_app.config["DATABASE"])
        cached = getattr(_local, "cached", None)
        if cached is None or cached[0] != key:
            if cached is not None and cached[0][0] == key[0]:
                cached[1].conn.close()  # one cached connection per thread at most
            cached = (key, database.connect(key[1]))
            _local.cached = cached
        g.db = cached[1]
    return g.db


def get_settings() -> settings_rules.Settings:
    """The settings, read once per request: the applicant's pages need them in several
    places (the lookup, the form, the layout's demonstration banner).

    For pages that only read them; a view that saves settings reads them afresh with
    `settings.load`.
    """
    if "settings" not in g:
        g.settings = settings.load(get_db())
    return g.settings


def release_db(_exc: BaseException | None = None) -> None:
    """End of request: never leave a transaction open on the kept connection."""
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def prepare_database(app: Flask) -> bool:
    """Migrate, and seed demonstration settings on a fresh database. True if seeded."""
    db = database.connect(app.config["DATABASE"])
    try:
        database.migrate(db)
        return settings.seed_demonstration(db)
    finally:
        db.conn.close()


@click.command("init-db")
def init_db_command() -> None:
    """Create or migrate the database (idempotent)."""
    db = get_db()
    applied = database.migrate(db)
    seeded = settings.seed_demonstration(db)
    click.echo(
        f"Base de données prête : {current_app.config['DATABASE']} "
        f"({len(applied)} migration(s) appliquée(s))."
    )
    if seeded:
        click.echo("Mode démonstration : bac à sable intégré, données fictives.")


def init_app(app: Flask) -> None:
    """Register the teardown and the CLI command."""
    app.teardown_appcontext(release_db)
    app.cli.add_command(init_db_command)
