"""Files that survive a crash: written whole under a temporary name, synced, then renamed,
and the rename itself synced through the folder. One place for the steps the token key,
the attestations' PDFs and the backups share."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    """Flush a file or a folder (the renames in it) to disk. A folder cannot be synced on
    Windows: there, nothing is done."""
    with contextlib.suppress(OSError):
        descriptor = os.open(path, flags)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write_private(temporary: Path, content: bytes) -> None:
    """Create `temporary` (0600 from its creation, never an existing file) with `content`,
    synced to disk: ready to be renamed into place. A write that fails removes it."""
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
