"""Static files served from memory: versioned URLs, cached for a year, gzip when accepted.

At start, every file of the static folder is read once: its short sha256 (the version) and,
for text formats, its gzip form. `static_url('site.css')` gives `/static/site.<hash>.css`, a
versioned file name (unlike a query string, every cache and proxy keys on it): a changed file
gets a new name, so a versioned answer can be cached for a year, `immutable` (browsers never
revalidate it). The plain name, or a versioned name of another version (a page cached before
a deployment), still gets the current file, but revalidated (ETag). waitress compresses
nothing, hence the gzip kept in memory, sent only to clients that accept it
(`Vary: Accept-Encoding`).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, current_app, request, url_for

# site.3f2a1b9c0d4e.css: the name, 12 hex digits of the content's sha256, the extension.
_VERSIONED = re.compile(r"(?P<stem>.+)\.(?P<version>[0-9a-f]{12})(?P<suffix>\.[A-Za-z0-9]+)")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"  # an unversioned URL: always checked, answered 304 while unchanged
COMPRESSIBLE = {".css", ".js", ".json", ".svg", ".txt", ".html", ".map"}
EXTENSION_KEY = "portail_static"


@dataclass(frozen=True)
class StaticFile:
    """One file of the static folder, as read at start."""

    version: str
    content_type: str
    body: bytes
    gzipped: bytes | None  # None: not worth it (not text, or no smaller)


def version_of(body: bytes) -> str:
    """The first 12 hex digits of the content's sha256."""
    return hashlib.sha256(body).hexdigest()[:12]


def _read(path: Path) -> StaticFile:
    body = path.read_bytes()
    gzipped = None
    if path.suffix in COMPRESSIBLE:
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        gzipped = packed if len(packed) < len(body) else None
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type == "application/javascript":
        content_type += "; charset=utf-8"
    return StaticFile(version_of(body), content_type, body, gzipped)


def scan(folder: str | Path) -> dict[str, StaticFile]:
    """Every file under `folder`, keyed by its path relative to it (with `/`)."""
    root = Path(folder)
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): _read(path)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _files() -> dict[str, StaticFile]:
    return current_app.extensions[EXTENSION_KEY]


def versioned_name(filename: str, version: str) -> str:
    """`site.css` -> `site.<version>.css` (the version before the last extension)."""
    stem, dot, suffix = filename.rpartition(".")
    return f"{stem}.{version}.{suffix}" if dot and "/" not in suffix else f"{filename}.{version}"


def _unversioned(filename: str) -> tuple[str, str] | None:
    """(file name, version) of a versioned name, or None."""
    match = _VERSIONED.fullmatch(filename)
    if match is None:
        return None
    return match["stem"] + match["suffix"], match["version"]


def static_url(filename: str) -> str:
    """The file's versioned URL, for a year of caching; a file unknown at start gets the
    plain URL."""
    known = _files().get(filename)
    if known is None:
        return url_for("static", filename=filename)
    return url_for("static", filename=versioned_name(filename, known.version))


def _accepts_gzip() -> bool:
    """gzip (or `*`) named in Accept-Encoding with a quality above zero."""
    return request.accept_encodings["gzip"] > 0


def serve(filename: str):
    """The `static` endpoint: from memory when the file was there at start (by its plain or
    versioned name), else Flask's."""
    files = _files()
    known, asked_version = files.get(filename), None
    if known is None and (parts := _unversioned(filename)) is not None:
        known, asked_version = files.get(parts[0]), parts[1]
    if known is None:
        return current_app.send_static_file(filename)
    body = known.body
    response = Response(content_type=known.content_type)
    if known.gzipped is not None:
        response.vary.add("Accept-Encoding")
        if _accepts_gzip():
            body = known.gzipped
            response.headers["Content-Encoding"] = "gzip"
    response.set_data(body)
    # One tag per representation: a cache must not answer gzip to a client that refused it.
    suffix = "-gz" if response.headers.get("Content-Encoding") else ""
    response.set_etag(known.version + suffix)
    if asked_version == known.version:
        response.headers["Cache-Control"] = IMMUTABLE
    else:
        response.headers["Cache-Control"] = REVALIDATE
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Read the static folder once; serve it from memory; offer `static_url` to templates."""
    app.extensions[EXTENSION_KEY] = scan(app.static_folder or "")
    app.view_functions["static"] = serve
    app.add_template_global(static_url, "static_url")
