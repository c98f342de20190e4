"""Flask glue of the acknowledgement e-mail: stored right after filing (never failing it),
and the operators' command `flask --app app mail send-pending`."""

from __future__ import annotations

import logging

import click
from flask import Flask
from flask.cli import AppGroup

from portail.storage import outbox
from portail.storage.deposits import FiledDeposit
from portail.web.extensions import get_db, get_services, get_settings

logger = logging.getLogger("portail.mail")

mail_cli = AppGroup("mail", help="Courriels : accusés de réception.")


def acknowledge(filed: FiledDeposit) -> None:
    """Put the deposit's acknowledgement in the outbox. Never raises: the deposit is
    filed whatever happens to its e-mail, and the admin page tells what became of it."""
    mailer = get_services().mailer
    if mailer is None:
        return
    try:
        mailer.acknowledge(get_db(), filed, demo=get_settings().demo)
    except Exception:  # a mail problem must never turn a filed deposit into an error page
        logger.exception("Accusé de réception de %s non enregistré", filed.ref)


@mail_cli.command("send-pending")
def send_pending_command() -> None:
    """Send now the messages waiting in the outbox whose next try is due."""
    mailer = get_services().mailer
    pruned = outbox.prune(get_db())
    if pruned:
        click.echo(f"Courriels de demandes supprimées (purge) effacés : {pruned}.")
    if mailer is None or mailer.config is None:
        click.echo("Envoi des courriels non configuré (SMTP_HOST absent) : rien n'est envoyé.")
        return
    counts = mailer.send_pending(get_db(), limit=1000)
    click.echo(
        f"Courriels envoyés : {counts.sent} ; à réessayer plus tard : {counts.retrying} ; "
        f"abandonnés : {counts.failed}."
    )


def init_app(app: Flask) -> None:
    """Register the command; resume sending what an earlier run left waiting."""
    app.cli.add_command(mail_cli)
    mailer = app.extensions["portail"].mailer
    if mailer is not None:
        mailer.resume()
