"""Operator commands for data at rest: `backup`, `purge`, `rotate-key`.

- `backup PATH`: an online copy of the database (SQLite's backup API) while the portal
  serves, file 0600; journaled.
- `purge` (a dry run unless `--yes`): deposits and journal rows past their keeping period
  (DEPOSIT_RETENTION_MONTHS, JOURNAL_RETENTION_MONTHS, never under 36), in small batches;
  journaled.
- `rotate-key`: a new key for the API token, the token encrypted again, the old key file
  replaced atomically (0600); journaled.

Every command answers in French and never prints the token nor a key in use.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from portail.core import formats
from portail.storage import accounts, backup, retention, settings, token_key
from portail.web.extensions import get_db

CLI_ACTOR = "cli"


def _documents_dir() -> Path:
    # The same rule as the instruction package's (which the admin package may not import).
    configured = current_app.config.get("DOCUMENTS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "documents"


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=True, file_okay=True, path_type=Path))
def backup_command(path: Path) -> None:
    """Copy the database to PATH (a new file, or a folder for a dated file), while the
    portal serves."""
    try:
        result = backup.backup(current_app.config["DATABASE"], path)
    except backup.BackupError as error:
        raise click.ClickException(error.message) from None
    accounts.record_event(
        get_db(), "database_backup", username=CLI_ACTOR, detail=f"{result.path.name}"
    )
    size = f"{result.size:,}".replace(",", "\u202f")  # 1 234 567, the French way
    deposits = formats.count_of(result.deposits, "demande")
    click.echo(
        f"Sauvegarde faite : {result.path} ({size} octets, {deposits}, "
        "intégrité vérifiée, fichier lisible par son seul propriétaire)."
    )
    click.echo(
        "À garder aussi : les attestations PDF (DOCUMENTS_DIR) et, à part de cette copie, la "
        "clé du jeton (instance/token_key ou PORTAIL_TOKEN_KEY).",
        err=True,
    )


def _policy() -> retention.Policy:
    try:
        policy = retention.Policy.from_config(
            current_app.config.get("DEPOSIT_RETENTION_MONTHS"),
            current_app.config.get("JOURNAL_RETENTION_MONTHS"),
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    for warning in policy.warnings:
        click.echo(f"Attention : {warning}", err=True)
    return policy


def _report(counts: retention.Counts, policy: retention.Policy, done: bool) -> list[str]:

    def verb(count: int) -> str:  # deposits and journal lines: both feminine
        return ("supprimée" if count < 2 else "supprimées") if done else "à supprimer"

    lines = [
        f"Demandes déposées avant le {formats.paris_datetime(counts.deposits_before)} "
        f"(plus de {policy.deposit_months} mois) : {counts.deposits} {verb(counts.deposits)}",
    ]
    for table, rows in sorted(counts.related.items()):
        lines.append(f"  dont lignes liées ({table}) : {rows}")
    lines.append(f"  dont fichiers PDF d'attestation : {counts.files}")
    labels = dict(retention.JOURNALS)
    for table, rows in counts.journals.items():
        lines.append(
            f"{labels[table][0].upper()}{labels[table][1:]}, lignes d'avant le "
            f"{formats.paris_datetime(counts.journal_before)} (plus de {policy.journal_months} "
            f"mois) : {rows} {verb(rows)}"
        )
    return lines


@click.command("purge")
@with_appcontext
@click.option("--yes", is_flag=True, help="Supprimer pour de bon (sans cette option : simulation).")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=retention.BATCH_SIZE,
    show_default=True,
    help="Lignes supprimées par transaction.",
)
def purge_command(yes: bool, batch_size: int) -> None:
    """Delete deposits and journal rows past their keeping period (a dry run without --yes)."""
    policy = _policy()
    db = get_db()
    if not yes:
        counts = retention.plan(db, policy)
        click.echo("Simulation : rien n'est supprimé. Relancez avec --yes pour supprimer.")
        for line in _report(counts, policy, done=False):
            click.echo(line)
        return
    counts = retention.purge(db, policy, _documents_dir(), batch_size=batch_size)
    lines = _report(counts, policy, done=True)
    accounts.record_event(db, "retention_purge", username=CLI_ACTOR, detail="; ".join(lines))
    click.echo(
        f"Purge faite ({formats.count_of(counts.batches, 'transaction')} courte"
        f"{'s' if counts.batches > 1 else ''}) :"
    )
    for line in lines:
        click.echo(line)


@click.command("rotate-key")
@with_appcontext
def rotate_key_command() -> None:
    """Encrypt the API token with a new key; the old key file is replaced atomically."""
    db = get_db()
    source = token_key.source_for(token_key.database_path(db))
    if source.environment is not None:
        _rotate_in_environment(db, source)
        return
    if source.file is None:
        raise click.ClickException("Base en mémoire : aucune clé à renouveler.")
    try:
        old_keys = token_key.read_file(source.file)
    except token_key.KeyProblem as error:
        raise click.ClickException(error.message) from None
    new_key = token_key.generate()
    # The new key first, the old ones still accepted: a server reading the token during
    # the rotation decrypts it whichever of the two keys it is sealed with.
    token_key.write_keys(source.file, [new_key, *old_keys])
    outcome = settings.reseal_token(db, token_key.TokenCipher([new_key, *old_keys]))
    token_key.write_keys(source.file, [new_key])
    accounts.record_event(db, "token_key_rotated", username=CLI_ACTOR, detail=outcome)
    click.echo(f"Nouvelle clé enregistrée dans {source.file} (mode 0600) ; l'ancienne est effacée.")
    _say(outcome)


def _rotate_in_environment(db, source: token_key.KeySource) -> None:
    try:
        keys = token_key.parse_keys(source.environment or "", f"La variable {token_key.ENV_VAR}")
    except token_key.KeyProblem as error:
        raise click.ClickException(error.message) from None
    if len(keys) < 2:
        raise click.ClickException(
            f"La clé vient de la variable {token_key.ENV_VAR}, que le portail ne peut pas "
            f"modifier. Mettez-y « NOUVELLE,ANCIENNE » (nouvelle clé : "
            f"{token_key.generate().decode()}), relancez « flask --app app rotate-key », puis "
            "ne laissez que la nouvelle clé et redémarrez le portail."
        )
    outcome = settings.reseal_token(db, token_key.TokenCipher(keys))
    accounts.record_event(db, "token_key_rotated", username=CLI_ACTOR, detail=outcome)
    click.echo(
        f"Jeton chiffré avec la première clé de {token_key.ENV_VAR}. Ne laissez plus que "
        "celle-ci dans la variable, puis redémarrez le portail."
    )
    _say(outcome)


def _say(outcome: str) -> None:
    if outcome == "resealed":
        click.echo("Le jeton enregistré est chiffré avec la nouvelle clé.")
    elif outcome == "unreadable":
        click.echo(
            "Le jeton enregistré était déjà illisible (clé perdue) : ressaisissez-le sur "
            "/admin/parametres ou avec « flask --app app settings set token - ».",
            err=True,
        )
    else:
        click.echo("Aucun jeton n'est enregistré : la nouvelle clé servira au prochain.")


def init_app(app: Flask) -> None:
    """Register `backup`, `purge` and `rotate-key`."""
    app.cli.add_command(backup_command)
    app.cli.add_command(purge_command)
    app.cli.add_command(rotate_key_command)
