"""Issue 10: the live lookup is a POST carrying the CSRF token in a header and only the fields
its fragment needs; GET /demande/tiers?siret= stays for links and reads the SIRET alone."""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

from portail.storage import settings
from tests.applicant.htmx_helpers import HX, csrf_token, lookup_post

HEAD_OFFICE = "99912340900016"
PRIVATE = {
    "representant_nom": "Martin",
    "representant_prenom": "Paul",
    "email": "paul.martin@example.org",
    "telephone": "02 99 00 00 00",
    "intitule_projet": "Atelier secret",
    "description_projet": "Une description privée.",
    "montant_demande": "12 500",
}


def static_version(name: str) -> str:
    """The content hash static_url puts in a static file's URL."""
    body = (Path(__file__).resolve().parents[2] / "static" / name).read_bytes()
    return hashlib.sha256(body).hexdigest()[:12]


def lookups(server) -> list:
    return [seen for seen in server.requests_seen if "/etablissements/diffusibles/" in seen[1]]


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_page_posts_the_lookup_with_the_csrf_header_and_only_the_lookup_fields(client):
    page = text(client.get("/demande"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    form_tag = re.search(r'<form[^>]*id="deposit-form"[^>]*>', page, re.S)[0]
    assert f'hx-headers=\'{{"X-CSRFToken": "{token}"}}\'' in form_tag
    params = re.search(r'hx-params="([^"]+)"', form_tag)[1].split(",")
    assert "siret" in params and "raison_sociale" in params and "prefill_snapshot" in params
    for private in (*PRIVATE, "csrf_token", "consentement", "action"):
        assert private not in params, private
    assert "hx-get" not in page  # no htmx request of the page puts fields in a URL
    siret_input = re.search(r'<input[^>]*id="f-siret"[^>]*>', page, re.S)[0]
    assert 'hx-post="/demande/tiers"' in siret_input
    # Both scripts by their content-hashed URL, cached for a year like the layout's files.
    for name in ("deposit.js", "siret-lookup.js"):
        stem, _, suffix = name.rpartition(".")
        tag = f'<script src="/static/{stem}.{static_version(name)}.{suffix}" defer></script>'
        assert tag in page


def test_htmx_lookup_by_post_with_the_csrf_header_prefills(client):
    response = lookup_post(client, {"siret": HEAD_OFFICE, "commune": "typed"})
    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page and "Informations publiques trouvées" in page
    assert re.search(r'name="adresse_numero"[^>]*value="22 bis"', page)
    # What the applicant typed stays (issue 11), and the status says so.
    assert re.search(r'name="commune"[^>]*value="typed"', page)
    assert "Votre modification a été conservée\u202f: Commune." in page
    assert response.headers["Cache-Control"] == "no-store"


def test_htmx_lookup_without_or_with_a_wrong_csrf_token_is_refused(client, loopback):
    client.get("/demande")  # a session exists: only the token is missing or wrong
    for token in ("", "forged-token"):
        response = lookup_post(client, {"siret": HEAD_OFFICE, "commune": "BREST"}, token=token)
        assert response.status_code == 403
        page = text(response)
        assert "votre session a expiré" in page
        assert "BREST" not in page and "PARIS" not in page  # nothing echoed, nothing found
        # The status line, not the tiers block, takes the message (static/deposit.js).
        assert response.headers["HX-Retarget"] == "#siret-status"
        assert response.headers["HX-Reswap"] == "innerHTML"
    assert lookups(loopback) == []


def test_a_foreign_post_to_the_lookup_without_htmx_gets_the_siret_only(client, loopback):
    data = {"siret": HEAD_OFFICE, **PRIVATE}
    response = client.post("/demande/tiers", data=data, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 422
    page = text(response)
    assert HEAD_OFFICE in page and "depuis un autre site" in page
    for value in PRIVATE.values():
        assert value not in page, value
    assert lookups(loopback) == []


def test_a_lookup_link_reads_the_siret_alone_even_for_htmx(client):
    query = {"siret": "99912", "raison_sociale": "NOM SAISI", "email": PRIVATE["email"]}
    fragment = text(client.get("/demande/tiers", query_string=query, headers=HX))
    assert "vous en avez saisi 5." in fragment
    assert "NOM SAISI" not in fragment and PRIVATE["email"] not in fragment
    page = text(client.get("/demande/tiers", query_string=query))
    assert 'value="99912"' in page
    assert "NOM SAISI" not in page and PRIVATE["email"] not in page


def test_the_deposit_script_is_static_and_tiny(client):
    with client.get("/static/deposit.js") as script:
        assert script.status_code == 200
        body = script.get_data(as_text=True)
    assert "htmx:beforeSwap" in body and "eval(" not in body and "Function(" not in body
    assert len(body) < 1500


def test_feature_off_has_no_htmx_lookup_at_all(client, db):
    from_settings = client.get("/demande")  # demo: on
    assert "hx-post" in from_settings.get_data(as_text=True)
    settings.save(db, {"enabled": False}, actor="test")
    page = client.get("/demande").get_data(as_text=True)
    assert "hx-post" not in page and "hx-headers" not in page and "deposit.js" not in page
    assert csrf_token(client)  # the plain form still carries its token
