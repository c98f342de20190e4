"""CLI: `admin create|set-password`, `settings show|set`, and the demonstration admin."""

from __future__ import annotations

import time

import pytest

from app import create_app
from portail import auth_accounts, auth_passwords, settings, store
from portail.api_urls import PRODUCTION_URL, SANDBOX_URL, STAGING_URL
from portail.tokens import mint_token
from tests.admin_helpers import TEST_SCRYPT_N, make_app


@pytest.fixture
def app(tmp_path):
    """The portal with a cheap password hash."""
    return make_app(tmp_path)


def load(app) -> settings.Settings:
    db = store.connect(app.config["DATABASE"])
    try:
        return settings.load(db)
    finally:
        db.conn.close()


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
    admin = auth_accounts.find(db, "alice")
    stored = next(iter(db.query("SELECT password_hash FROM admins")))["password_hash"]
    assert admin and stored.startswith("scrypt$ln=10,r=8,p=1$")
    assert auth_passwords.verify_password("une phrase de passe solide", stored)


def test_admin_create_with_password_stdin_keeps_spaces(runner, db):
    result = runner.invoke(
        args=["admin", "create", "bob", "--password-stdin"],
        input="  espaces au début et à la fin  \n",
    )
    assert result.exit_code == 0, result.output
    stored = next(iter(db.query("SELECT password_hash FROM admins")))["password_hash"]
    assert auth_passwords.verify_password("  espaces au début et à la fin  ", stored)


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


def test_no_default_admin_outside_demonstration(tmp_path, capsys):
    app = make_app(tmp_path, DEMO_ADMIN=True)
    db = store.connect(app.config["DATABASE"])
    settings.save(db, {"api_url": PRODUCTION_URL}, actor="test")
    db["admins"].delete_where()
    db.conn.close()
    capsys.readouterr()
    # A second start on an existing database creates nobody and prints nothing.
    create_app(
        {
            "TESTING": True,
            "DATABASE": app.config["DATABASE"],
            "SECRET_KEY": "x",
            "PASSWORD_SCRYPT_N": TEST_SCRYPT_N,
        }
    )
    assert "Mot de passe" not in capsys.readouterr().err
    db = store.connect(app.config["DATABASE"])
    assert db["admins"].count == 0
    db.conn.close()


def test_demonstration_first_start_creates_admin_and_prints_password_once(tmp_path, capsys):
    # Production defaults (no TESTING, no DEMO_ADMIN key), with a cheap hash for speed.
    config = {
        "DATABASE": str(tmp_path / "portail.sqlite3"),
        "SECRET_KEY": "x",
        "PASSWORD_SCRYPT_N": TEST_SCRYPT_N,
    }
    app = create_app(config)
    err = capsys.readouterr().err
    assert "Identifiant : admin" in err
    password = err.split("Mot de passe : ", 1)[1].split()[0]
    assert len(password) >= 12
    db = store.connect(app.config["DATABASE"])
    stored = next(iter(db.query("SELECT password_hash FROM admins WHERE username = 'admin'")))
    assert auth_passwords.verify_password(password, stored["password_hash"])
    db.conn.close()
    # Restarting the same portal prints nothing again.
    create_app(config)
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
