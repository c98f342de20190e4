"""Attestations of a deposit (table attestations) and their PDF files.

Every attempt an agent makes is a row: obtained ("obtenue", with its PDF), refused by the
provider ("refusée": a fact about the company), or failed ("erreur": what happened and what
to do). A row's id is a random 128-bit token: it is the identifier of the download URL, and
is only ever looked up together with its deposit.

The PDFs live in a directory of their own (DOCUMENTS_DIR, under the instance folder): the
directory is 0700, each file 0600, written atomically under a random name of its own (not
the row's id), with its size and SHA-256 kept in the row and checked when it is read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import sqlite_utils

from portail.core.paris_time import PARIS
from portail.storage.database import fetch_all, fetch_one, immediate, utcnow
from portail.storage.durable import fsync_path, write_private

OBTAINED = "obtenue"
REFUSED = "refusée"
FAILED = "erreur"
STATUSES = (OBTAINED, REFUSED, FAILED)

_ID = re.compile(r"[0-9a-f]{32}")
_FILE_NAME = re.compile(r"[0-9a-f]{32}\.pdf")
_MESSAGE_MAX_CHARS = 2000


@dataclass(frozen=True)
class Attestation:
    """One attempt at an attestation for a deposit."""

    id: str
    deposit_ref: str
    kind: str  # "fiscale" | "vigilance"
    siren: str
    fetched_at: str  # UTC ISO 8601
    actor: str  # the agent's user name
    status: str  # OBTAINED | REFUSED | FAILED
    delivered_on: str | None = None
    valid_until: str | None = None
    period_end: str | None = None
    security_code: str | None = None
    message: str | None = None
    error_kind: str | None = None
    file_name: str | None = None
    size: int | None = None
    sha256: str | None = None

    @property
    def downloadable(self) -> bool:
        return self.status == OBTAINED and bool(self.file_name)

    def expired_on(self, today: date | None = None) -> bool:
        """True once the validity's last day (a Paris calendar day) has passed: an expired
        attestation de vigilance no longer proves anything, the agent fetches a new one."""
        if not self.valid_until:
            return False
        try:
            last_day = date.fromisoformat(self.valid_until[:10])
        except ValueError:
            return False
        return last_day < (today or datetime.now(PARIS).date())

    @property
    def expired(self) -> bool:
        """`expired_on` today (for the templates)."""
        return self.expired_on()


def is_attestation_id(value: str) -> bool:
    """True for what `record` hands out as an id (32 lower-case hex digits)."""
    return bool(_ID.fullmatch(value or ""))


def record(
    db: sqlite_utils.Database,
    *,
    deposit_ref: str,
    kind: str,
    siren: str,
    actor: str,
    status: str,
    at: str | None = None,
    **facts,
) -> Attestation:
    """Store one attempt and return it with its new random id. `facts`: the optional fields
    of Attestation (delivered_on, valid_until, period_end, security_code, message,
    error_kind, file_name, size, sha256)."""
    if status not in STATUSES:
        raise ValueError(f"unknown attestation status {status!r}")
    if facts.get("message"):
        facts["message"] = str(facts["message"])[:_MESSAGE_MAX_CHARS]
    row = Attestation(
        id=secrets.token_hex(16),
        deposit_ref=deposit_ref,
        kind=kind,
        siren=siren,
        fetched_at=at or utcnow(),
        actor=actor,
        status=status,
        **facts,
    )
    with immediate(db):
        db["attestations"].insert(asdict(row))
    return row


def list_for_deposit(db: sqlite_utils.Database, ref: str) -> list[Attestation]:
    """Every attempt for a deposit, newest first (fiscale before vigilance within a second)."""
    rows = fetch_all(
        db,
        "SELECT * FROM attestations WHERE deposit_ref = ? "
        "ORDER BY fetched_at DESC, kind, rowid DESC",
        (ref,),
    )
    return [Attestation(**row) for row in rows]


def get(db: sqlite_utils.Database, ref: str, attestation_id: str) -> Attestation | None:
    """The attempt with this id, only if it belongs to this deposit."""
    if not is_attestation_id(attestation_id):
        return None
    row = fetch_one(
        db,
        "SELECT * FROM attestations WHERE id = ? AND deposit_ref = ?",
        (attestation_id, ref),
    )
    return Attestation(**row) if row is not None else None


# -- the PDF files -------------------------------------------------------------------------


def _directory(directory: str | Path) -> Path:
    path = Path(directory)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)  # created by hand or by an older version with a looser mode
    return path


def write_document(directory: str | Path, content: bytes) -> str:
    """Write a PDF atomically (temporary file, fsync, rename) under a new random name in
    `directory` (created 0700); the file is 0600. Returns the file's name."""
    folder = _directory(directory)
    name = f"{secrets.token_hex(16)}.pdf"
    temporary = folder / f".{name}.part"
    write_private(temporary, content)
    try:
        os.replace(temporary, folder / name)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    fsync_path(folder)  # the rename itself, durable
    return name


def remove_document(directory: str | Path, file_name: str) -> None:
    """Delete a file written by `write_document` (a row that could not be stored)."""
    if _FILE_NAME.fullmatch(file_name or ""):
        with contextlib.suppress(OSError):
            (Path(directory) / file_name).unlink()


class DocumentUnavailable(Exception):
    """The stored PDF is missing or no longer the one that was fetched."""


def read_document(directory: str | Path, attestation: Attestation) -> bytes:
    """The PDF of an obtained attestation, checked against its recorded size and SHA-256;
    DocumentUnavailable when it is missing or altered."""
    name = attestation.file_name or ""
    if not _FILE_NAME.fullmatch(name):
        raise DocumentUnavailable("no file")
    try:
        content = (Path(directory) / name).read_bytes()
    except OSError:
        raise DocumentUnavailable("missing") from None
    if len(content) != attestation.size or hashlib.sha256(content).hexdigest() != (
        attestation.sha256
    ):
        raise DocumentUnavailable("altered")
    return content
