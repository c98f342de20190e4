"""The API token at rest (issue 10, secrets and files at rest): stored encrypted with a key
kept outside the database, so that a copy of the database file and its WAL reveals no
token, neither the current one nor one replaced or erased before."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from app import create_app
from portail.core.tokens import mint_token
from portail.storage import database as store
from portail.storage import settings, token_key


def raw_files(path) -> bytes:
    """What a thief copying the database file and its WAL (not the key) would hold."""
    content = b""
    for suffix in ("", "-wal"):
        file = path.with_name(path.name + suffix)
        if file.exists():
            content += file.read_bytes()
    return content


def leaked(value: str, files: bytes, width: int = 20) -> bool:
    """True when any `width` characters of `value` lie in the files: a fragment of a token
    left in free space gives it away as surely as the whole."""
    return any(
        value[start : start + width].encode() in files for start in range(0, len(value) - width + 1)
    )


def distinctive(value: str) -> str:
    """What is unique to a token or a sealed value: a JWT without its header (the same in
    every token) and the first characters of its claims; a Fernet token after its
    version and timestamp."""
    if value.startswith("fernet:"):
        return value[30:]
    return value.split(".", 1)[1][12:]


# Long enough to spill out of the settings page into an overflow page (a token with many
# scopes); a page freed without secure_delete keeps it in the file.
MANY_SCOPES = [f"scope_numero_{number:03d}" for number in range(200)]
SOME_SCOPES = ["open_data", "entreprises", "etablissements", "associations", "attestations"]


def stored_token(db) -> str:
    row = db.conn.execute("SELECT value FROM settings WHERE key = 'token'").fetchone()
    return row[0] if row else ""


@pytest.fixture
def path(tmp_path):
    return tmp_path / "portail.sqlite3"


@pytest.fixture
def db(path):
    connection = store.connect(path)
    store.migrate(connection)
    yield connection
    connection.conn.close()


def test_the_token_is_stored_encrypted_and_read_back(db, path):
    token = mint_token(["open_data"])
    settings.save(db, {"token": token}, actor="test")
    stored = stored_token(db)
    assert stored.startswith("fernet:") and token not in stored
    assert settings.load(db).token == token
    # The key is the file beside the database, created 0600 on first use.
    key_file = path.parent / "token_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().split()[0]
    assert Fernet(key.encode()).decrypt(stored.removeprefix("fernet:").encode()) == token.encode()
    # Saving the same token again changes nothing (the ciphertexts differ, the token not).
    assert settings.save(db, {"token": token}, actor="test") == []


def test_a_copy_of_the_files_reveals_no_token_even_replaced_or_erased(db, path):
    # A server thread keeps its connection open, idle, as in production.
    server = store.connect(path)
    settings.load(server)
    settings.save(db, {"enabled": True, "recipient_siret": "21999001700010"}, actor="t")
    # A long token replaced by a shorter one: the new cell does not cover the old one.
    first, second = mint_token(SOME_SCOPES), mint_token(["open_data"])
    settings.apply_changes(db, {"token": first}, actor="alice")
    first_sealed = stored_token(db)
    settings.apply_changes(db, {"token": second}, actor="alice")
    second_sealed = stored_token(db)
    assert settings.load(server).token == second

    files = raw_files(path)
    assert not leaked(distinctive(first), files) and not leaked(distinctive(second), files)
    assert not leaked(distinctive(first_sealed), files)  # the replaced ciphertext too
    assert second_sealed.encode() in files

    settings.apply_changes(db, {"token": ""}, actor="alice")
    files = raw_files(path)
    assert not leaked(distinctive(second_sealed), files)
    assert not leaked(distinctive(second), files)
    server.conn.close()


def test_a_plaintext_token_of_an_older_version_is_sealed_and_leaves_no_trace(db, path):
    # What an older version left: plaintext tokens written without secure_delete, a long
    # one (spilling into an overflow page) replaced by the current one, m0002 not applied.
    old, current = mint_token(MANY_SCOPES), mint_token(["open_data"])
    db.conn.execute("PRAGMA secure_delete = OFF")
    db.execute(
        "INSERT INTO settings (key, value, updated_at, updated_by) "
        "VALUES ('token', ?, '2025-01-01T00:00:00+00:00', 'test')",
        [old],
    )
    db.execute("UPDATE settings SET value = ? WHERE key = 'token'", [current])
    db.execute("DELETE FROM _migrations WHERE name = 'm0002_seal_token'")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.execute("PRAGMA secure_delete = ON")
    assert leaked(distinctive(old), raw_files(path))  # the old token, in a free page

    assert store.migrate(db) == ["m0002_seal_token"]
    assert stored_token(db).startswith("fernet:")
    assert settings.load(db).token == current
    files = raw_files(path)
    assert not leaked(distinctive(old), files) and not leaked(distinctive(current), files)


def test_a_token_no_key_opens_reads_as_absent_and_a_new_one_can_be_saved(db, path):
    token = mint_token(["open_data"])
    settings.save(db, {"enabled": True, "recipient_siret": "21999001700010"}, actor="t")
    settings.save(db, {"token": token}, actor="test")
    (path.parent / "token_key").unlink()  # the key is lost; a new one is made on first use

    current = settings.load(db)
    assert current.token == "" and not current.prefill_available
    assert settings.token_lost(db)

    replacement = mint_token(["open_data"])
    assert settings.apply_changes(db, {"token": replacement}, actor="alice") == ["token"]
    assert settings.load(db).token == replacement
    assert not settings.token_lost(db)


def test_a_damaged_key_file_never_breaks_a_read(db, path):
    settings.save(db, {"token": mint_token(["open_data"])}, actor="test")
    (path.parent / "token_key").write_text("not a key\n")
    assert settings.load(db).token == ""
    assert settings.token_lost(db)


def test_the_environment_key_wins_over_the_file(tmp_path, monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("PORTAIL_TOKEN_KEY", key)
    path = tmp_path / "env" / "portail.sqlite3"
    db = store.connect(path)
    store.migrate(db)
    token = mint_token(["open_data"])
    settings.save(db, {"token": token}, actor="test")
    sealed = stored_token(db).removeprefix("fernet:")
    assert Fernet(key.encode()).decrypt(sealed.encode()) == token.encode()
    assert not (path.parent / "token_key").exists()
    # Without the variable, the file's key (a new one) does not open it.
    monkeypatch.delenv("PORTAIL_TOKEN_KEY")
    assert settings.load(db).token == "" and settings.token_lost(db)
    db.conn.close()


def test_a_malformed_environment_key_stops_the_start_with_a_french_message(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAIL_TOKEN_KEY", "trop-courte")
    with pytest.raises(token_key.KeyProblem) as raised:
        create_app({"TESTING": True, "DATABASE": str(tmp_path / "p.sqlite3"), "SECRET_KEY": "k"})
    assert "PORTAIL_TOKEN_KEY" in raised.value.message
    assert "trop-courte" not in raised.value.message


def test_the_key_stays_out_of_the_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAIL_TOKEN_KEY", Fernet.generate_key().decode())
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "p.sqlite3"), "SECRET_KEY": "k"})
    assert "TOKEN_KEY" not in app.config
    assert "fernet" not in json.dumps({k: str(v) for k, v in app.config.items()}).lower()


def test_two_keys_decrypt_the_first_encrypts():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    sealed_old = token_key.TokenCipher([old]).seal("jeton")
    both = token_key.TokenCipher([new, old])
    assert both.open(sealed_old) == "jeton"
    assert token_key.TokenCipher([new]).open(both.reseal(sealed_old)) == "jeton"
    assert "key" in repr(both) and new.decode() not in repr(both)
