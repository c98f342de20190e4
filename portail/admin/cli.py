"""CLI groups `admin` (create, set-password, list, delete) and `settings` (show, set).

`admin delete` never removes the last admin: accounts are created here only, so the admin
pages would be locked to everyone.

`settings set` applies the same validation as the settings page and journals the change with
the actor "cli". Changing the API host from the command line clears the saved token (there is
no second field to retype it in): it is never sent to a host it was not entered for.
"""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portail.admin import token_state
from portail.auth import guard
from portail.auth.guard import password_params
from portail.core import formats, passwords, settings_rules
from portail.core.paris_time import PARIS
from portail.storage import accounts, settings
from portail.web.extensions import get_db

admin_group = AppGroup("admin", help="Comptes administrateurs.")


settings_group = AppGroup("settings", help="Paramètres de l'assistance API Entreprise.")


CLI_ACTOR = "cli"


def _sessions_closed(count: int) -> str:
    """'aucune session ouverte fermée', '1 session ouverte fermée', '2 sessions ouvertes
    fermées': a real plural, not "(s)"."""
    if count == 0:
        return "aucune session ouverte fermée"
    plural = "s" if count > 1 else ""
    return f"{count} session{plural} ouverte{plural} fermée{plural}"


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        # Only the line break is removed: spaces may belong to a passphrase.
        return line.rstrip("\r\n")
    return click.prompt(
        "Mot de passe (12 caractères au moins ; une phrase de passe convient)",
        hide_input=True,
        confirmation_prompt="Confirmez le mot de passe",
        err=True,
    )


YES_WORDS = frozenset({"o", "oui", "y", "yes"})


def _confirmed(question: str) -> bool:
    """Ask a yes/no question in French; anything but "o"/"oui" (or no answer) means no.

    Not click.confirm: it only understands y/n, and a French operator answers "o".
    """
    try:
        answer = click.prompt(
            f"{question} [o/N]", default="", show_default=False, prompt_suffix=" ", err=True
        )
    except click.Abort:  # end of input: nobody said yes
        return False
    return answer.strip().lower() in YES_WORDS


def _params():
    return password_params(current_app)


@admin_group.command("create")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard.")
def admin_create(name: str, password_stdin: bool) -> None:
    """Create an admin account (prompts twice for the password)."""
    db = get_db()
    try:
        accounts.validate_username(name)
        if accounts.find(db, name.strip()):
            raise accounts.AccountError(f"Un administrateur « {name.strip()} » existe déjà.")
        password = _read_password(password_stdin)
        admin = accounts.create(db, name, password, _params(), actor=CLI_ACTOR)
    except (accounts.AccountError, passwords.WeakPassword) as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Administrateur « {admin.username} » créé.")


@admin_group.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard.")
def admin_set_password(name: str, password_stdin: bool) -> None:
    """Change an admin's password and end all of that admin's sessions."""
    db = get_db()
    try:
        if accounts.find(db, name.strip()) is None:
            raise accounts.AccountError(f"Aucun administrateur « {name.strip()} ».")
        password = _read_password(password_stdin)
        ended = accounts.set_password(db, name, password, _params(), actor=CLI_ACTOR)
    except (accounts.AccountError, passwords.WeakPassword) as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Mot de passe de « {name.strip()} » changé ; {_sessions_closed(ended)}.")


@admin_group.command("list")
def admin_list() -> None:
    """List admin accounts: creation, last login, open sessions, login delay (no hash)."""
    db = get_db()
    guard.purge_expired_sessions(db)  # "open sessions" must not count dead ones
    listed = accounts.list_accounts(db)
    if not listed:
        click.echo(
            "Aucun administrateur. Créez le premier compte avec "
            "« flask --app app admin create NOM »."
        )
        return
    paris = formats.paris_datetime
    rows = [("Identifiant", "Créé le", "Dernière connexion", "Sessions", "État")]
    for account in listed:
        if account.throttled_until:
            # To the second: the delays after failed logins are seconds long.
            until = account.throttled_until.astimezone(PARIS)
            state = f"connexion refusée jusqu'au {until:%d/%m/%Y à %H:%M:%S} (trop d'échecs)"
        else:
            state = "actif"
        rows.append(
            (
                account.username,
                paris(account.created_at),
                paris(account.last_login_at) if account.last_login_at else "jamais",
                str(account.open_sessions),
                state,
            )
        )
    # Padded columns, the last one left ragged so that no line ends with spaces.
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        click.echo("  ".join([*cells, row[-1]]))
    click.echo(f"{formats.count_of(len(listed), 'administrateur')}. Heures de Paris.")


@admin_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Supprimer sans demander de confirmation.")
def admin_delete(name: str, yes: bool) -> None:
    """Delete an admin account and end its sessions; the last admin cannot be deleted."""
    db = get_db()
    admin = accounts.find(db, name.strip())
    try:
        if admin is None:
            raise accounts.AccountError(f"Aucun administrateur « {name.strip()} ».")
        # Refused before asking: confirming something that cannot be done would mislead.
        accounts.ensure_not_last(db, admin)
    except accounts.AccountError as error:
        raise click.ClickException(error.message) from None
    question = (
        f"Supprimer définitivement l'administrateur « {admin.username} » ? Ses sessions "
        "ouvertes seront fermées."
    )
    if not yes and not _confirmed(question):
        click.echo("Suppression annulée : aucun compte n'a été supprimé.", err=True)
        raise click.exceptions.Exit(1)
    try:
        ended = accounts.delete(db, admin.username, actor=CLI_ACTOR)
    except accounts.AccountError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Administrateur « {admin.username} » supprimé ; {_sessions_closed(ended)}.")


@settings_group.command("show")
def settings_show() -> None:
    """Print the settings; the token is masked (last 4 characters, expiry, scopes)."""
    db = get_db()
    current = settings.load(db)
    extra = current_app.config.get("EXTRA_API_BASE_URLS") or []
    state = token_state.token_state(current.token)
    click.echo(f"enabled          {'on' if current.enabled else 'off'}")
    click.echo(f"recipient_siret  {current.recipient_siret or '(vide)'}")
    click.echo(f"context          {current.context}")
    click.echo(
        f"api_url          {current.api_url} ({settings_rules.url_label(current.api_url, extra)})"
    )
    if not state.present and settings.token_lost(db):
        click.echo("token            (illisible : clé perdue, ressaisissez le jeton)")
    elif not state.present:
        click.echo("token            (aucun)")
    elif not state.readable:
        click.echo(f"token            …{state.last4} (illisible : ce n'est pas un JWT)")
    else:
        click.echo(f"token            …{state.last4}, {state.expiry_text}")
        click.echo(f"  droits         {', '.join(state.scopes) or '(aucun)'}")
        for label, allowed in state.features:
            click.echo(f"  {'[x]' if allowed else '[ ]'} {label}")
    if not current.prefill_available:
        availability = "indisponible"
    elif state.readable and state.expired:
        availability = "indisponible : le jeton a expiré"
    elif state.readable and not state.features[0][1]:
        availability = "indisponible : le jeton n'a pas le droit de pré-remplissage public"
    else:
        availability = "disponible"
    click.echo(
        f"Pré-remplissage pour les demandeurs : {availability}"
        + (" (mode démonstration : bac à sable intégré)" if current.demo else "")
    )


@settings_group.command("set")
@click.argument("key", type=click.Choice(settings.KEYS))
@click.argument("value")
def settings_set(key: str, value: str) -> None:
    """Set one setting; VALUE `-` reads it from standard input (advised for the token)."""
    if value == "-":
        value = sys.stdin.read().strip()
    elif key == "token":
        click.echo(
            "Conseil : « settings set token - » lit le jeton sur l'entrée standard, sans le "
            "laisser dans l'historique du shell ni dans la liste des processus.",
            err=True,
        )
    db = get_db()
    current = settings.load(db)
    extra = current_app.config.get("EXTRA_API_BASE_URLS") or []
    changes: dict[str, str | bool] = {}
    try:
        if key == "enabled":
            changes["enabled"] = settings_rules.parse_enabled(value)
        elif key == "recipient_siret":
            changes["recipient_siret"] = settings_rules.validate_recipient(value)
        elif key == "context":
            changes["context"] = settings_rules.validate_context(value)
        elif key == "token":
            changes["token"], _info = settings_rules.validate_token(value)
        elif key == "api_url":
            url = settings_rules.validate_api_url(value, extra)
            changes["api_url"] = url
            if current.token and settings_rules.host_changed(current.api_url, url):
                changes["token"] = ""  # nosec B105  # erasing the token, not a password
    except settings_rules.SettingError as error:
        raise click.ClickException(error.message) from None
    changed = settings.apply_changes(db, changes, CLI_ACTOR)
    if not changed:
        click.echo(f"{key} : inchangé.")
        return
    click.echo(f"{key} : enregistré.")
    if key == "api_url" and "token" in changed:
        click.echo(
            "Le jeton enregistré a été effacé : il ne doit pas partir vers un autre hôte que "
            "celui pour lequel il a été saisi. Enregistrez le jeton de cet environnement avec "
            "« flask --app app settings set token - ».",
            err=True,
        )
    saved = settings.load(db)
    if saved.enabled and not saved.prefill_available:
        click.echo(
            "Attention : l'assistance est activée mais des paramètres manquent ; les "
            "demandeurs remplissent à la main en attendant.",
            err=True,
        )


def init_app(app: Flask) -> None:
    """Register the `admin` and `settings` command groups."""
    app.cli.add_command(admin_group)
    app.cli.add_command(settings_group)
