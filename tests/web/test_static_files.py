"""Issue 11: static files with versioned URLs cached for a year, gzip when accepted."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest

from portail.web import static_files
from portail.web.layout import HTMX_FILE

STATIC = Path(__file__).resolve().parents[2] / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


def version(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def versioned(name: str) -> str:
    """site.css -> site.<version>.css"""
    stem, _, suffix = name.rpartition(".")
    return f"{stem}.{version(name)}.{suffix}"


def test_pages_reference_the_layouts_files_by_versioned_name(client):
    page = client.get("/demande").get_data(as_text=True)
    assert f'href="/static/{versioned("site.css")}"' in page
    assert f'src="/static/{versioned(HTMX_FILE)}"' in page
    assert "?v=" not in page


@pytest.mark.parametrize("name", ["site.css", HTMX_FILE, "deposit.js", "siret-lookup.js"])
def test_a_versioned_url_is_cached_for_a_year(client, name):
    page = client.get("/demande").get_data(as_text=True)
    stem, _, suffix = name.rpartition(".")
    url = re.search(rf'"(/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.{suffix})"', page)[1]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.get_data() == (STATIC / name).read_bytes()


def test_an_unversioned_or_stale_url_still_works_but_is_revalidated(client):
    for url in ("/static/site.css", "/static/site.000000000000.css"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.get_data() == (STATIC / "site.css").read_bytes()
        assert "immutable" not in response.headers["Cache-Control"]
        assert "max-age=31536000" not in response.headers["Cache-Control"]
    etag = client.get("/static/site.css").headers["ETag"]
    again = client.get("/static/site.css", headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize("name", ["site.css", HTMX_FILE, "deposit.js"])
def test_gzip_when_accepted_round_trips_to_the_file(client, name):
    response = client.get(
        f"/static/{versioned(name)}", headers={"Accept-Encoding": "gzip, deflate, br"}
    )
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == IMMUTABLE
    body = response.get_data()
    assert len(body) < (STATIC / name).stat().st_size
    assert int(response.headers["Content-Length"]) == len(body)
    assert gzip.decompress(body) == (STATIC / name).read_bytes()


@pytest.mark.parametrize("accept", [None, "identity", "br", "gzip;q=0"])
def test_plain_when_gzip_is_not_accepted(client, accept):
    headers = {"Accept-Encoding": accept} if accept else {}
    response = client.get("/static/site.css", headers=headers)
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["Vary"]  # a cache keeps both apart
    assert response.get_data() == (STATIC / "site.css").read_bytes()
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"


def test_each_representation_has_its_own_etag(client):
    plain = client.get("/static/site.css").headers["ETag"]
    packed = client.get("/static/site.css", headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    assert plain != packed


def test_a_changed_file_gets_a_new_version(tmp_path):
    (tmp_path / "app.css").write_text("body { color: black; }\n" * 20)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "logo.png").write_bytes(b"\x89PNG not really")
    before = static_files.scan(tmp_path)
    assert set(before) == {"app.css", "sub/logo.png"}
    assert before["sub/logo.png"].gzipped is None  # not text: sent as it is
    assert gzip.decompress(before["app.css"].gzipped) == (tmp_path / "app.css").read_bytes()
    (tmp_path / "app.css").write_text("body { color: navy; }\n" * 20)
    after = static_files.scan(tmp_path)
    assert after["app.css"].version != before["app.css"].version
    assert after["sub/logo.png"].version == before["sub/logo.png"].version


def test_a_changed_file_gets_a_new_url_at_the_next_start(app):
    site = app.extensions[static_files.EXTENSION_KEY]["site.css"]
    app.extensions[static_files.EXTENSION_KEY]["site.css"] = static_files.StaticFile(
        "abcdefabcdef", site.content_type, b"changed", None
    )
    with app.test_request_context():
        assert static_files.static_url("site.css") == "/static/site.abcdefabcdef.css"
    response = app.test_client().get("/static/site.abcdefabcdef.css")
    assert response.get_data() == b"changed"
    assert response.headers["Cache-Control"] == IMMUTABLE


def test_a_file_unknown_at_start_is_served_by_flask(app, client):
    app.extensions[static_files.EXTENSION_KEY].pop("deposit.js")
    with app.test_request_context():
        assert static_files.static_url("deposit.js") == "/static/deposit.js"
    response = client.get("/static/deposit.js")
    assert response.status_code == 200
    response.close()
    assert client.get("/static/absent.js").status_code == 404
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/absent.abcdefabcdef.js").status_code == 404
