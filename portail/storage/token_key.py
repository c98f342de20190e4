"""The key that encrypts the API token at rest, kept outside the database.

Where the key comes from, first found wins:

1. the environment variable PORTAIL_TOKEN_KEY: one Fernet key, or several separated by
   commas (the first encrypts, every one decrypts: how a key is rotated in the environment);
2. the file `token_key` in the database's folder (the instance folder by default), mode
   0600, one key a line (same rule), created with a new key on first use.

The key belongs to the database it encrypts, so it is found from the database's own path:
every server thread, worker process, CLI command and test that opens the database reads the
token with the same key, without a cipher being handed through every caller. The wiring
(`app.create_app`) calls `prepare()` at start, which creates the key file or rejects a
malformed environment key before any request.

Encryption is `cryptography`'s Fernet (AES-128-CBC and HMAC-SHA256, authenticated): a
stored value is `fernet:` followed by the Fernet token. Nothing here ever logs a key.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from portail.storage.durable import fsync_path, write_private

ENV_VAR = "PORTAIL_TOKEN_KEY"
FILE_NAME = "token_key"
PREFIX = "fernet:"


class KeyProblem(Exception):
    """The key is unusable (malformed environment value or key file): a French message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TokenUnreadable(Exception):
    """A stored token that no available key decrypts (the key was lost or replaced)."""


def is_sealed(stored: str | None) -> bool:
    """True for a value written by `TokenCipher.seal` (legacy values are plaintext)."""
    return bool(stored) and stored.startswith(PREFIX)


_OPENED_MAX = 8


class TokenCipher:
    """Seal and open tokens with one or more keys: the first encrypts, all decrypt."""

    def __init__(self, keys: Sequence[bytes]):
        if not keys:
            raise KeyProblem("Aucune clé de chiffrement du jeton.")
        self.keys = tuple(keys)
        self._fernet = MultiFernet([Fernet(key) for key in self.keys])
        # The settings are read on every request: the stored token rarely changes, so its
        # decryption (an HMAC and an AES pass) is done once per stored value and key set.
        self._opened: dict[str, str] = {}
        self._opened_lock = threading.Lock()

    def seal(self, token: str) -> str:
        """The stored form of a token."""
        return PREFIX + self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def open(self, stored: str) -> str:
        """The token of a sealed value; TokenUnreadable when no key decrypts it."""
        if not is_sealed(stored):
            raise TokenUnreadable("not a sealed value")
        token = self._opened.get(stored)
        if token is not None:
            return token
        try:
            token = self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise TokenUnreadable("no key decrypts the stored token") from None
        with self._opened_lock:
            if len(self._opened) >= _OPENED_MAX:  # a few tokens a key set's lifetime
                self._opened.clear()
            self._opened[stored] = token
        return token

    def reseal(self, stored: str) -> str:
        """The same token sealed again with the first key (key rotation)."""
        return self.seal(self.open(stored))

    def __repr__(self) -> str:  # a key must never reach a log through repr()
        return f"TokenCipher({len(self.keys)} key(s))"


def generate() -> bytes:
    """A new random Fernet key."""
    return Fernet.generate_key()


def parse_keys(text: str, origin: str) -> list[bytes]:
    """Keys separated by commas or line breaks; KeyProblem naming `origin` when malformed."""
    keys = [part.strip().encode("ascii", "replace") for part in text.replace(",", "\n").split()]
    if not keys:
        raise KeyProblem(f"{origin} ne contient aucune clé.")
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise KeyProblem(
                f"{origin} ne contient pas une clé valide (une clé Fernet : 44 caractères "
                "base64 url-safe, par exemple produite par « flask --app app rotate-key »)."
            ) from None
    return keys


# -- where the key is ------------------------------------------------------------------------


@dataclass(frozen=True)
class KeySource:
    """Where the key of a database comes from: the environment, or a file."""

    environment: str | None  # the variable's value when it is set
    file: Path | None  # the key file otherwise (None for an in-memory database)

    @property
    def description(self) -> str:
        if self.environment is not None:
            return f"la variable d'environnement {ENV_VAR}"
        return f"le fichier {self.file}" if self.file else "une clé temporaire (base en mémoire)"


def source_for(database_path: str | Path, environ: Mapping[str, str] | None = None) -> KeySource:
    """Where the key of the database at `database_path` comes from."""
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_VAR)
    if value is not None and value.strip():
        return KeySource(environment=value, file=None)
    path = str(database_path)
    if not path or path == ":memory:" or path.startswith("file:"):
        return KeySource(environment=None, file=None)
    return KeySource(environment=None, file=_key_file_beside(path))


@functools.lru_cache(maxsize=64)
def _key_file_beside(database_path: str) -> Path:
    """The key file beside a database file (its real folder), resolved once per path: the
    settings are read on every request."""
    return Path(database_path).resolve().parent / FILE_NAME


def database_path(db: sqlite_utils.Database) -> str:
    """The main file of an open database ('' for an in-memory one)."""
    row = db.conn.execute("PRAGMA database_list").fetchone()
    return row[2] or ""


# -- the key file ------------------------------------------------------------------------------


def _write_temporary(path: Path, keys: Sequence[bytes]) -> Path:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.part")
    write_private(temporary, b"\n".join(keys) + b"\n")
    return temporary


def write_keys(path: Path, keys: Sequence[bytes]) -> None:
    """Replace the key file atomically (temporary file 0600, fsync, rename)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = _write_temporary(path, keys)
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    fsync_path(path.parent)


def _create_once(path: Path) -> None:
    """Create the key file with a new key unless it exists; two processes starting at once
    end up with the same key (the file appears whole, through a hard link, or not at all)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = _write_temporary(path, [generate()])
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process created it first: its key is the key
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    fsync_path(path.parent)


def read_file(path: Path, *, create: bool = True) -> list[bytes]:
    """The keys of a key file (created with a new key when missing and `create`); a file
    readable by others is brought back to 0600."""
    if create and not path.exists():
        _create_once(path)
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            path.chmod(0o600)
        text = path.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        raise KeyProblem(f"Le fichier de clé {path} est introuvable.") from None
    except OSError as error:
        raise KeyProblem(f"Le fichier de clé {path} est illisible ({error.strerror}).") from None
    return parse_keys(text, f"Le fichier de clé {path}")


# -- the cipher of a database --------------------------------------------------------------

_lock = threading.Lock()
_cache: dict[tuple, TokenCipher] = {}
_CACHE_MAX = 64
# An in-memory database lives as long as the process: a key of the process suffices.
_memory_cipher = TokenCipher([generate()])


def cipher_from(source: KeySource, *, create: bool = True) -> TokenCipher:
    """The cipher of a key source. The file is read again when it changed (a rotation by
    another process), else taken from a small cache: one stat per call."""
    if source.environment is not None:
        stamp: tuple = ("env", source.environment)
    elif source.file is None:
        return _memory_cipher
    else:
        try:
            status = source.file.stat()
        except FileNotFoundError:
            status = None
        if status is None:
            if not create:
                raise KeyProblem(f"Le fichier de clé {source.file} est introuvable.")
            stamp = ()
        else:
            stamp = ("file", str(source.file), status.st_ino, status.st_mtime_ns, status.st_size)
    with _lock:
        cached = _cache.get(stamp) if stamp else None
    if cached is not None:
        return cached
    if source.environment is not None:
        cipher = TokenCipher(parse_keys(source.environment, f"La variable {ENV_VAR}"))
    else:
        cipher = TokenCipher(read_file(source.file, create=create))
        status = source.file.stat()
        stamp = ("file", str(source.file), status.st_ino, status.st_mtime_ns, status.st_size)
    with _lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[stamp] = cipher
    return cipher


def cipher_for(db: sqlite_utils.Database) -> TokenCipher:
    """The cipher of an open database's token (see the module's docstring)."""
    return cipher_from(source_for(database_path(db)))


def prepare(database: str | Path, environ: Mapping[str, str] | None = None) -> KeySource:
    """At start: create the key file on first use (0600), or check the environment key.
    KeyProblem (French message) when the key is unusable."""
    source = source_for(database, environ)
    cipher_from(source)
    if source.file is not None and source.file.stat().st_mode & 0o077:
        source.file.chmod(0o600)  # a key file copied in by hand with a looser mode
    return source
