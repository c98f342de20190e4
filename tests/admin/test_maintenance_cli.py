"""The operator's commands for data at rest (issue 10): `backup`, `purge`, `rotate-key`, and
what the admin is told when the token's key is lost."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet, InvalidToken

from portail.core.tokens import mint_token
from portail.storage import accounts, retention, settings
from portail.storage import database as store
from tests.admin_helpers import logged_in, make_app, page_text, save_settings, saved_settings
from tests.api_helpers import journal_row
from tests.storage.test_retention import file_deposit, with_attestation
from tests.storage.test_token_encryption import distinctive, leaked, raw_files


def ago(months: int) -> str:
    return retention.months_before(datetime.now(UTC), months).isoformat(timespec="seconds")


def events(app, event: str) -> list[dict]:
    db = store.connect(app.config["DATABASE"])
    try:
        return [e for e in accounts.recent_events(db, 50) if e["event"] == event]
    finally:
        db.conn.close()


@pytest.fixture
def portal(tmp_path):
    return make_app(tmp_path, DOCUMENTS_DIR=str(tmp_path / "documents"))


@pytest.fixture
def db(portal):
    connection = store.connect(portal.config["DATABASE"])
    yield connection
    connection.conn.close()


# -- purge ---------------------------------------------------------------------------------


def test_purge_is_a_dry_run_unless_told_yes_then_deletes_and_is_journaled(portal, db, tmp_path):
    old = file_deposit(db, ago(40))
    pdf = with_attestation(db, old, tmp_path / "documents")
    recent = file_deposit(db, ago(2))
    journal_row(db)
    db.execute("UPDATE api_journal SET at = ?", [ago(37)])
    journal_row(db)
    runner = portal.test_cli_runner()

    dry = runner.invoke(args=["purge"])
    assert dry.exit_code == 0, dry.output
    assert "Simulation : rien n'est supprimé" in dry.output
    assert "(plus de 36 mois) : 1 à supprimer" in dry.output
    assert "dont fichiers PDF d'attestation : 1" in dry.output
    assert "Journal des appels à API Entreprise" in dry.output
    assert db.execute("SELECT count(*) FROM deposits").fetchone()[0] == 2
    assert events(portal, "retention_purge") == []

    done = runner.invoke(args=["purge", "--yes"])
    assert done.exit_code == 0, done.output
    assert "Purge faite" in done.output and "1 supprimée\n" in done.output
    assert [row[0] for row in db.execute("SELECT ref FROM deposits")] == [recent]
    assert not (tmp_path / "documents" / pdf).exists()
    assert db.execute("SELECT count(*) FROM api_journal").fetchone()[0] == 1
    journaled = events(portal, "retention_purge")
    assert len(journaled) == 1 and journaled[0]["username"] == "cli"
    assert "Demandes déposées avant le" in journaled[0]["detail"]


def test_a_journal_period_under_36_months_is_raised_with_a_warning(tmp_path):
    portal = make_app(tmp_path, JOURNAL_RETENTION_MONTHS=12, DEPOSIT_RETENTION_MONTHS=12)
    db = store.connect(portal.config["DATABASE"])
    file_deposit(db, ago(20))
    journal_row(db)
    db.execute("UPDATE api_journal SET at = ?", [ago(20)])
    result = portal.test_cli_runner().invoke(args=["purge", "--yes"])
    assert result.exit_code == 0, result.output
    assert "JOURNAL_RETENTION_MONTHS vaut 12" in result.output
    assert db.execute("SELECT count(*) FROM deposits").fetchone()[0] == 0  # 12 months
    assert db.execute("SELECT count(*) FROM api_journal").fetchone()[0] == 1  # 36 months
    db.conn.close()


def test_a_wrong_period_is_refused_in_french(tmp_path):
    portal = make_app(tmp_path, DEPOSIT_RETENTION_MONTHS="trois ans")
    result = portal.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 1
    assert "DEPOSIT_RETENTION_MONTHS doit être un nombre entier de mois" in result.output


# -- backup --------------------------------------------------------------------------------


def test_backup_copies_the_database_and_is_journaled(portal, db, tmp_path):
    ref = file_deposit(db, ago(1))
    target = tmp_path / "sauvegarde.sqlite3"
    result = portal.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert f"Sauvegarde faite : {target}" in result.output and "1 demande," in result.output
    assert "clé du jeton" in result.output
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT ref FROM deposits").fetchall() == [(ref,)]
    copy.close()
    assert events(portal, "database_backup")[0]["detail"] == target.name

    again = portal.test_cli_runner().invoke(args=["backup", str(target)])
    assert again.exit_code == 1 and "existe déjà" in again.output


# -- the token's key -------------------------------------------------------------------------


def test_rotate_key_replaces_the_key_file_and_the_old_key_opens_nothing(portal, db, tmp_path):
    token = mint_token(["open_data"])
    save_settings(portal, token=token)
    key_file = tmp_path / "token_key"
    old_key = key_file.read_text().split()
    old_sealed = db.execute("SELECT value FROM settings WHERE key = 'token'").fetchone()[0]

    result = portal.test_cli_runner().invoke(args=["rotate-key"])
    assert result.exit_code == 0, result.output
    assert "Nouvelle clé enregistrée" in result.output
    assert "chiffré avec la nouvelle clé" in result.output
    new_key = key_file.read_text().split()
    assert len(new_key) == 1 and new_key != old_key
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".token_key")] == []
    assert saved_settings(portal).token == token
    sealed = db.execute("SELECT value FROM settings WHERE key = 'token'").fetchone()[0]
    with pytest.raises(InvalidToken):
        Fernet(old_key[0].encode()).decrypt(sealed.removeprefix("fernet:").encode())
    assert not leaked(distinctive(old_sealed), raw_files(tmp_path / "portail.sqlite3"))
    assert token not in result.output and new_key[0] not in result.output
    assert events(portal, "token_key_rotated")[0]["detail"] == "resealed"


def test_rotate_key_with_the_environment_key(portal, db, tmp_path, monkeypatch):
    token = mint_token(["open_data"])
    first = Fernet.generate_key().decode()
    monkeypatch.setenv("PORTAIL_TOKEN_KEY", first)
    save_settings(portal, token=token)
    runner = portal.test_cli_runner()

    alone = runner.invoke(args=["rotate-key"])
    assert alone.exit_code == 1
    assert "NOUVELLE,ANCIENNE" in alone.output and first not in alone.output

    second = Fernet.generate_key().decode()
    monkeypatch.setenv("PORTAIL_TOKEN_KEY", f"{second},{first}")
    both = runner.invoke(args=["rotate-key"])
    assert both.exit_code == 0, both.output
    monkeypatch.setenv("PORTAIL_TOKEN_KEY", second)
    assert saved_settings(portal).token == token


def test_a_lost_key_tells_the_admin_and_a_new_token_can_be_pasted(tmp_path):
    portal = make_app(tmp_path)
    client = portal.test_client()
    auth = logged_in(portal, client)
    save_settings(portal, token=mint_token(["open_data"]))
    (tmp_path / "token_key").unlink()  # the key is lost (a new one is made on first use)

    assert saved_settings(portal).token == ""
    page = page_text(client.get("/admin/"), collapse_spaces=True)
    assert "Jeton illisible\u202f: clé perdue, ressaisissez le jeton" in page
    # The applicants fill by hand meanwhile: the page works, without prefill.
    assert client.get("/demande").status_code == 200
    shown = portal.test_cli_runner().invoke(args=["settings", "show"])
    assert "illisible : clé perdue, ressaisissez le jeton" in shown.output

    replacement = mint_token(["open_data"])
    response = client.post(
        "/admin/parametres",
        data={
            "csrf_token": auth.csrf(),
            "enabled": "y",
            "recipient_siret": saved_settings(portal).recipient_siret,
            "token": replacement,
            "context": saved_settings(portal).context,
            "api_url": saved_settings(portal).api_url,
            "action": "enregistrer",
        },
    )
    assert response.status_code == 303
    assert saved_settings(portal).token == replacement
    page = page_text(client.get("/admin/"), collapse_spaces=True)
    assert "clé perdue" not in page
    assert settings.token_lost(store.connect(portal.config["DATABASE"])) is False
