"""An online copy of the database while the portal serves: SQLite's backup API.

The copy is taken in one step, inside one read transaction of the source: it is the
database as of that instant, every transaction committed before it included, none half
included. In WAL mode a reader never blocks the writers, so applicants keep filing during
the copy. The copy is written under a temporary name (0600 from its creation), checked
(`PRAGMA integrity_check`), switched out of WAL mode so that it is one self-contained file,
synced, then renamed into place: a file at the final path is always a whole backup.

The token's key is not in the copy (storage/token_key): keep it apart from the backups.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from portail.storage import database
from portail.storage.durable import fsync_path


class BackupError(Exception):
    """The backup could not be made; a French message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    pages: int
    deposits: int


def default_name(moment: datetime | None = None) -> str:
    """portail-20260131-021500.sqlite3 (UTC): sorts by date, never overwrites another."""
    moment = moment or datetime.now(UTC)
    return f"portail-{moment.astimezone(UTC):%Y%m%d-%H%M%S}.sqlite3"


def target_path(requested: str | Path) -> Path:
    """The file to write: `requested`, or a dated name inside it when it is a folder."""
    path = Path(requested)
    return path / default_name() if path.is_dir() else path


def backup(source: str | Path, requested: str | Path) -> BackupResult:
    """Copy the database at `source` to `requested` (a new file, or a folder to put a dated
    file in). BackupError when the target exists or cannot be written."""
    target = target_path(requested)
    if target.exists():
        raise BackupError(f"Le fichier {target} existe déjà : choisissez un autre nom.")
    if not target.parent.is_dir():
        raise BackupError(f"Le dossier {target.parent} n'existe pas.")
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    try:
        # Created 0600 before SQLite opens it: the copy holds every deposit's personal data.
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        raise BackupError(f"Impossible d'écrire dans {target.parent} ({error.strerror}).") from None
    src = database.connect(source)
    try:
        copy = sqlite3.connect(str(temporary), isolation_level=None)
        try:
            src.conn.backup(copy)  # pages=-1: one step, one consistent snapshot
            copy.execute("PRAGMA journal_mode = DELETE")
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"La copie est incohérente ({check}) : elle n'est pas gardée.")
            pages = copy.execute("PRAGMA page_count").fetchone()[0]
            deposits = copy.execute("SELECT count(*) FROM deposits").fetchone()[0]
        finally:
            copy.close()
        fsync_path(temporary, os.O_RDWR)
        os.link(temporary, target)  # never replaces a file that appeared meanwhile
    except FileExistsError:
        raise BackupError(f"Le fichier {target} existe déjà : choisissez un autre nom.") from None
    except sqlite3.Error as error:
        raise BackupError(f"La sauvegarde a échoué : {error}.") from None
    finally:
        src.conn.close()
        for leftover in (temporary, temporary.with_name(temporary.name + "-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
    fsync_path(target.parent)
    return BackupResult(target, target.stat().st_size, pages, deposits)
