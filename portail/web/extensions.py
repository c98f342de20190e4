"""Per-app services for the views: the database connection of each server thread, the
settings read once per request, the API gateway, and the init-db command.

The wiring (`app.create_app`) builds the `Services` once per app; views reach them through
`get_db`, `get_settings`, `get_gateway` and `get_services`, never through module globals.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import click
import sqlite_utils
from flask import Flask, abort, current_app, g

from portail.apientreprise.gateway import Gateway
from portail.core import settings_rules
from portail.core.formats import count_of
from portail.mail.worker import Mailer
from portail.storage import database, settings
from portail.storage.deposits import FiledDeposit, get_deposit

_local = threading.local()
EXTENSION = "portail"


@dataclass(frozen=True)
class Services:
    """What the wiring gives the app: the gateway, the settings a fresh database starts
    with (the demonstration), and the demonstration's personas (from the sandbox's data)."""

    gateway: Gateway
    demo_settings: Callable[[], dict]
    personas: Sequence = ()
    # One CSV export at a time in this process (a full journal export reads a million
    # rows): admin/csv_export.py takes it without waiting and answers 429 when taken.
    exports: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(1)
    )
    # The acknowledgement e-mails' outbox worker (portail/mail), None: no e-mail at all.
    mailer: Mailer | None = None


def get_services() -> Services:
    """The current app's services."""
    return current_app.extensions[EXTENSION]


def get_gateway() -> Gateway:
    """The current app's API Entreprise gateway (one per app: transports, calls in flight)."""
    return current_app.extensions[EXTENSION].gateway


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


def deposit_or_404(ref: str) -> FiledDeposit:
    """The deposit `ref` names (the reference as typed in a URL, cut to a sane length), or
    the 404 page: one rule for the admin's deposit page and the instruction's actions."""
    filed = get_deposit(get_db(), ref[:64])
    if filed is None:
        abort(404)
    return filed


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
        return settings.seed_demonstration(db, app.extensions[EXTENSION].demo_settings)
    finally:
        db.conn.close()


@click.command("init-db")
def init_db_command() -> None:
    """Create or migrate the database (idempotent)."""
    db = get_db()
    applied = database.migrate(db)
    seeded = settings.seed_demonstration(db, get_services().demo_settings)
    click.echo(
        f"Base de données prête : {current_app.config['DATABASE']} "
        f"({count_of(len(applied), 'migration')} appliquée{'s' if len(applied) > 1 else ''})."
    )
    if seeded:
        click.echo("Mode démonstration : bac à sable intégré, données fictives.")


def init_app(app: Flask, services: Services) -> None:
    """Keep the app's services, register the teardown and the CLI command."""
    app.extensions[EXTENSION] = services
    app.teardown_appcontext(release_db)
    app.cli.add_command(init_db_command)
