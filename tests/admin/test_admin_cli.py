"""CLI: `admin create|set-password`, `settings show|set`, and the demonstration admin."""

from __future__ import annotations

import re
import time

import pytest

from portail.core import passwords
from portail.core.api_urls import PRODUCTION_URL, SANDBOX_URL, STAGING_URL
from portail.core.tokens import mint_token
from portail.storage import accounts, database, settings, throttle
from tests.admin_helpers import (
    PASSWORD,
    AuthActions,
    logged_in,
    make_app,
)
from tests.admin_helpers import saved_settings as load


def changes(db) -> list[dict]:
    return list(db.query("SELECT * FROM settings_changes ORDER BY id"))


# -- admin accounts ---------------------------------------------------------------------


def test_admin_create_prompts_twice(runner, db):
    result = runner.invoke(
        args=["admin", "create", "alice"],
        input="une phrase de passe solide\nune phrase de passe solide\n",
    )
    assert result.exit_code == 0, result.output
    assert "Administrateur « alice » créé." in result.output
    assert "une phrase de passe solide" not in result.output
    admin = accounts.find(db, "alice")
    stored = next(iter(db.query("SELECT password_hash FROM admins")))["password_hash"]
    assert admin and stored.startswith("scrypt$ln=10,r=8,p=1$")
    assert passwords.verify_password("une phrase de passe solide", stored)


def test_admin_create_with_password_stdin_keeps_spaces(runner, db):
    result = runner.invoke(
        args=["admin", "create", "bob", "--password-stdin"],
        input="  espaces au début et à la fin  \n",
    )
    assert result.exit_code == 0, result.output
    stored = next(iter(db.query("SELECT password_hash FROM admins")))["password_hash"]
    assert passwords.verify_password("  espaces au début et à la fin  ", stored)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["alice", "--password-stdin"], "trop court\n", "au moins 12 caractères"),
        (["alice"], "une phrase de passe\nune autre phrase\n", "Error"),
        (["é!", "--password-stdin"], "une phrase de passe solide\n", "L'identifiant"),
    ],
)
def test_admin_create_refusals(runner, db, args, stdin, message):
    result = runner.invoke(args=["admin", "create", *args], input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert db["admins"].count == 0


def test_admin_create_refuses_a_duplicate_whatever_the_case(runner, db):
    runner.invoke(args=["admin", "create", "alice", "--password-stdin"], input="x" * 12 + "\n")
    result = runner.invoke(
        args=["admin", "create", "ALICE", "--password-stdin"], input="y" * 12 + "\n"
    )
    assert result.exit_code == 1
    assert "existe déjà" in result.output
    assert db["admins"].count == 1


def test_set_password_for_unknown_admin(runner):
    result = runner.invoke(
        args=["admin", "set-password", "personne", "--password-stdin"], input="z" * 12 + "\n"
    )
    assert result.exit_code == 1
    assert "Aucun administrateur « personne »" in result.output


# -- admin list and delete --------------------------------------------------------------


def admin_events(db, event: str) -> list[dict]:
    return list(db.query("SELECT * FROM admin_events WHERE event = ? ORDER BY id", [event]))


def test_admin_list_shows_accounts_without_their_hashes(app, runner, db):
    logged_in(app)  # alice has logged in once, and her session is still open
    bob = AuthActions(app, app.test_client())
    bob.create_admin("bob")
    for _ in range(throttle.ACCOUNT_FREE_FAILURES + 1):  # bob's next attempts must wait
        assert bob.login("bob", "pas le bon mot de passe").status_code == 401
    result = runner.invoke(args=["admin", "list"])
    assert result.exit_code == 0, result.output
    table = [re.split(r"\s{2,}", line) for line in result.output.splitlines()[:3]]
    assert table[0] == ["Identifiant", "Créé le", "Dernière connexion", "Sessions", "État"]
    alice, bob_row = table[1], table[2]
    when = r"\d\d/\d\d/\d{4} à \d\d:\d\d"
    assert alice[0] == "alice" and re.fullmatch(when, alice[1]) and re.fullmatch(when, alice[2])
    assert alice[3:] == ["1", "actif"]
    assert bob_row[0] == "bob" and bob_row[2:4] == ["jamais", "0"]
    assert re.fullmatch(rf"connexion refusée jusqu'au {when}:\d\d \(trop d'échecs\)", bob_row[4])
    assert "2 administrateurs" in result.output
    hashes = [row["password_hash"] for row in db.query("SELECT password_hash FROM admins")]
    assert all(stored not in result.output for stored in hashes)
    assert "scrypt$" not in result.output and PASSWORD not in result.output


def test_admin_list_without_accounts_says_how_to_create_one(runner):
    result = runner.invoke(args=["admin", "list"])
    assert result.exit_code == 0
    assert "Aucun administrateur." in result.output and "admin create NOM" in result.output


def test_admin_delete_with_yes_ends_sessions_and_is_journaled(app, runner, db):
    logged_in(app, username="alice")
    bob = logged_in(app, username="bob")
    assert bob.client.get("/admin/").status_code == 200
    result = runner.invoke(args=["admin", "delete", "BOB", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Administrateur « bob » supprimé ; 1 session ouverte fermée." in result.output
    assert accounts.find(db, "bob") is None
    # Bob's cookie, still in his browser, opens nothing any more.
    assert bob.client.get("/admin/").status_code == 303
    assert db["admin_sessions"].count == 1  # alice's
    deleted = admin_events(db, "admin_deleted")
    assert [(row["username"], row["detail"]) for row in deleted] == [("bob", "cli")]


def test_admin_deletion_shows_in_the_dashboard_activity(app, runner):
    alice = logged_in(app)
    AuthActions(app, app.test_client()).create_admin("bob")
    assert runner.invoke(args=["admin", "delete", "bob", "--yes"]).exit_code == 0
    page = alice.client.get("/admin/").get_data(as_text=True)
    assert "Compte administrateur supprimé" in page


@pytest.mark.parametrize(
    ("answer", "deleted"),
    [("o\n", True), ("oui\n", True), ("n\n", False), ("\n", False), ("", False)],
)
def test_admin_delete_asks_for_confirmation(app, runner, db, answer, deleted):
    auth = AuthActions(app, app.test_client())
    auth.create_admin("alice")
    auth.create_admin("bob")
    result = runner.invoke(args=["admin", "delete", "bob"], input=answer)
    assert "Supprimer définitivement l'administrateur « bob » ?" in result.output
    assert (accounts.find(db, "bob") is None) is deleted
    if deleted:
        assert result.exit_code == 0
    else:
        assert result.exit_code == 1
        assert "Suppression annulée : aucun compte n'a été supprimé." in result.output
        assert admin_events(db, "admin_deleted") == []


def test_admin_delete_refuses_the_last_admin(app, runner, db):
    alice = logged_in(app)
    result = runner.invoke(args=["admin", "delete", "alice"])
    assert result.exit_code == 1
    assert "« alice » est le dernier administrateur" in result.output
    assert "admin create NOM" in result.output
    assert "Supprimer définitivement" not in result.output  # refused before asking
    assert runner.invoke(args=["admin", "delete", "alice", "--yes"]).exit_code == 1
    assert accounts.find(db, "alice") is not None
    assert alice.client.get("/admin/").status_code == 200  # her session is untouched
    assert admin_events(db, "admin_deleted") == []


def test_admin_delete_unknown_account(runner):
    result = runner.invoke(args=["admin", "delete", "personne", "--yes"])
    assert result.exit_code == 1
    assert "Aucun administrateur « personne »" in result.output


def test_account_layer_refuses_to_delete_the_last_admin_too(app, db):
    # The CLI checks before asking; delete() checks again inside its write transaction, so
    # a deletion running at the same time as another cannot empty the table.
    AuthActions(app, app.test_client()).create_admin("alice")
    AuthActions(app, app.test_client()).create_admin("bob")
    accounts.delete(db, "alice")
    with pytest.raises(accounts.AccountError, match="dernier administrateur"):
        accounts.delete(db, "bob")
    assert accounts.count(db) == 1


def test_no_default_admin_outside_demonstration(tmp_path, capsys):
    app = make_app(tmp_path, DEMO_ADMIN=True)
    db = database.connect(app.config["DATABASE"])
    settings.save(db, {"api_url": PRODUCTION_URL}, actor="test")
    db["admins"].delete_where()
    db.conn.close()
    capsys.readouterr()
    # A second start on an existing database creates nobody and prints nothing, even with
    # the demonstration admin asked for: the database holds an authority's settings.
    make_app(tmp_path, DEMO_ADMIN=True)
    assert "Mot de passe" not in capsys.readouterr().err
    db = database.connect(app.config["DATABASE"])
    assert db["admins"].count == 0
    db.conn.close()


def test_demonstration_first_start_creates_admin_and_prints_password_once(tmp_path, capsys):
    # Production defaults (no TESTING, no DEMO_ADMIN key), with a cheap hash for speed.
    app = make_app(tmp_path, production_defaults=True)
    err = capsys.readouterr().err
    assert "Identifiant : admin" in err
    password = err.split("Mot de passe : ", 1)[1].split()[0]
    assert len(password) >= 12
    db = database.connect(app.config["DATABASE"])
    stored = next(iter(db.query("SELECT password_hash FROM admins WHERE username = 'admin'")))
    assert passwords.verify_password(password, stored["password_hash"])
    db.conn.close()
    # Restarting the same portal prints nothing again.
    make_app(tmp_path, production_defaults=True)
    assert "Mot de passe" not in capsys.readouterr().err


# -- settings show ----------------------------------------------------------------------


def test_settings_show_masks_the_token(app, runner):
    token = load(app).token
    result = runner.invoke(args=["settings", "show"])
    assert result.exit_code == 0
    assert token not in result.output
    assert f"…{token[-4:]}" in result.output
    assert "expire le" in result.output
    assert "open_data" in result.output
    assert "enabled          on" in result.output
    assert SANDBOX_URL in result.output and "mode démonstration" in result.output


@pytest.mark.parametrize(
    ("token", "said"),
    [
        (lambda: mint_token(["open_data"]), "disponible (mode"),
        (lambda: mint_token(["open_data"], exp=int(time.time()) - 60), "indisponible : le jeton a"),
        (lambda: mint_token(["attestations_fiscales"]), "indisponible : le jeton n'a pas le droit"),
    ],
    ids=["valid", "expired", "without-open-data"],
)
def test_settings_show_says_why_the_prefill_is_unavailable(app, runner, token, said):
    db = database.connect(app.config["DATABASE"])
    settings.save(db, {"token": token()}, actor="test")  # as another process would
    db.conn.close()
    result = runner.invoke(args=["settings", "show"])
    assert f"Pré-remplissage pour les demandeurs : {said}" in result.output


# -- settings set -----------------------------------------------------------------------


def test_settings_set_enabled_on_off(app, runner, db):
    assert runner.invoke(args=["settings", "set", "enabled", "off"]).exit_code == 0
    assert load(app).enabled is False
    assert runner.invoke(args=["settings", "set", "enabled", "on"]).exit_code == 0
    assert load(app).enabled is True
    result = runner.invoke(args=["settings", "set", "enabled", "peut-être"])
    assert result.exit_code == 1 and "on ou off" in result.output
    assert [row["actor"] for row in changes(db)] == ["cli", "cli"]


def test_settings_set_recipient_is_validated(app, runner):
    result = runner.invoke(args=["settings", "set", "recipient_siret", "123456789"])
    assert result.exit_code == 1 and "SIREN" in result.output
    result = runner.invoke(args=["settings", "set", "recipient_siret", "732 829 320 00074"])
    assert result.exit_code == 0
    assert load(app).recipient_siret == "73282932000074"


def test_settings_set_token_from_stdin(app, runner, db):
    token = mint_token(["open_data"])
    result = runner.invoke(args=["settings", "set", "token", "-"], input=token + "\n")
    assert result.exit_code == 0, result.output
    assert load(app).token == token
    assert token not in result.output
    assert token not in str(changes(db))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("pas-un-jwt", "n'est pas un jeton"),
        (mint_token(["open_data"], exp=int(time.time()) - 86400), "a expiré"),
    ],
)
def test_settings_set_token_refusals(app, runner, value, message):
    before = load(app).token
    result = runner.invoke(args=["settings", "set", "token", "-"], input=value)
    assert result.exit_code == 1 and message in result.output
    assert load(app).token == before


def test_settings_set_token_on_the_command_line_warns(runner):
    result = runner.invoke(args=["settings", "set", "token", mint_token(["open_data"])])
    assert result.exit_code == 0
    assert "settings set token -" in result.output


def test_settings_set_context_bounded(app, runner):
    result = runner.invoke(args=["settings", "set", "context", "x" * 300])
    assert result.exit_code == 1 and "au plus 200 caractères" in result.output
    assert runner.invoke(args=["settings", "set", "context", "Subventions"]).exit_code == 0
    assert load(app).context == "Subventions"


def test_settings_set_api_url_refuses_unlisted_and_clears_token_on_host_change(app, runner, db):
    result = runner.invoke(args=["settings", "set", "api_url", "https://evil.example"])
    assert result.exit_code == 1 and "n'est pas autorisée" in result.output
    result = runner.invoke(args=["settings", "set", "api_url", STAGING_URL])
    assert result.exit_code == 0
    current = load(app)
    assert current.api_url == STAGING_URL and current.token == ""
    assert "Le jeton enregistré a été effacé" in result.output
    assert {row["key"] for row in changes(db)} == {"api_url", "token"}
    assert any(row["summary"] == "jeton effacé" for row in changes(db))


def test_settings_set_unknown_key(runner):
    result = runner.invoke(args=["settings", "set", "password", "x"])
    assert result.exit_code == 2


def test_admin_list_does_not_count_expired_sessions(app, runner, db):
    logged_in(app)
    # Her session went idle long ago: it can no longer be used, so it is not "open".
    db.execute("UPDATE admin_sessions SET last_seen_at = '2000-01-01T00:00:00+00:00'")
    result = runner.invoke(args=["admin", "list"])
    alice = re.split(r"\s{2,}", result.output.splitlines()[1])
    assert alice[0] == "alice" and alice[3] == "0"
