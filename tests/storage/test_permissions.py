"""Files at rest are the owner's only, whatever the umask: the instance folder 0700, the
database, its -wal and -shm, the keys and the backups 0600 (issue 10)."""

from __future__ import annotations

import os
import stat

import pytest

from app import create_app
from portail.storage import backup, settings
from portail.storage import database as store


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    """The umask of most servers' shells: files readable by everyone unless told."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_fresh_instance_is_private_whatever_the_umask(tmp_path, loose_umask):
    instance = tmp_path / "instance"
    app = create_app({"TESTING": True, "DEMO_ADMIN": False}, instance_path=str(instance))
    database = instance / "portail.sqlite3"
    assert app.config["DATABASE"] == str(database)
    # A server thread's connection, writing: the -wal and -shm exist while it is open.
    db = store.connect(database)
    settings.save(db, {"context": "Aides à la culture"}, actor="test")
    copy = backup.backup(database, tmp_path / "copie.sqlite3")

    modes = {
        path.name: mode(path)
        for path in [
            instance,
            instance / "secret_key",
            instance / "token_key",
            database,
            instance / "portail.sqlite3-wal",
            instance / "portail.sqlite3-shm",
            copy.path,
        ]
    }
    db.conn.close()
    assert modes == {
        "instance": 0o700,
        "secret_key": 0o600,
        "token_key": 0o600,
        "portail.sqlite3": 0o600,
        "portail.sqlite3-wal": 0o600,
        "portail.sqlite3-shm": 0o600,
        "copie.sqlite3": 0o600,
    }


def test_files_an_older_version_left_readable_are_made_private(tmp_path, loose_umask):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    database = instance / "portail.sqlite3"
    db = store.connect(database)
    store.migrate(db)
    settings.save(db, {"context": "Aides"}, actor="test")
    for path in instance.iterdir():
        path.chmod(0o644)  # as the portal left them before: world-readable
    instance.chmod(0o755)
    db.conn.close()

    create_app(
        {"TESTING": True, "DEMO_ADMIN": False, "SECRET_KEY": "k"}, instance_path=str(instance)
    )
    loose = {path.name: oct(mode(path)) for path in instance.iterdir() if mode(path) & 0o077}
    assert loose == {}
    assert mode(instance) == 0o700


def test_a_database_elsewhere_gets_a_private_folder_when_created(tmp_path, loose_umask):
    database = tmp_path / "var" / "portail" / "portail.sqlite3"
    db = store.connect(database)
    store.migrate(db)
    assert mode(database.parent) == 0o700
    assert mode(database) == 0o600
    db.conn.close()
