"""The agent's "Récupérer les attestations": both attestations fetched through the gateway on
an authenticated agent's request, their PDFs downloaded at once (never with the token) and
kept 0600, listed on the deposit page; a provider's refusal shown as a fact about the
company, every failure explained; documents served to logged-in agents only, journaled."""

from __future__ import annotations

import functools
import hashlib
import re
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from portail.apientreprise import budget
from portail.apientreprise.catalogue import (
    BUCKET_DOCUMENTS,
    BUCKET_JSON,
    ROUTE_ATTESTATION_FISCALE,
    ROUTE_ATTESTATION_VIGILANCE,
)
from portail.core.tokens import mint_token
from portail.storage import attestations, deposits, settings
from tests.admin_helpers import csrf_from, make_app, page_text
from tests.fault_double import Reply, refused_url

text = functools.partial(page_text, collapse_spaces=True)

HEAD_OFFICE = "99912340900016"  # ATELIERS DU VAL FLEURI
CEASED = "99934562200016"  # TRANSPORTS MERIDIENNE: vigilance refused
UNKNOWN = "89923450400012"  # valid, unknown to every provider (404)
PROVIDER_DOWN = "89978915000013"  # 502 on every route
RATE_LIMITED = "89956783800011"  # 429 with Retry-After
TOKEN_REFUSED = "89934561500012"  # 401
ALL_SCOPES = ("open_data", "attestation_fiscale_dgfip", "attestation_sociale_urssaf")


@pytest.fixture
def app(tmp_path):
    """The portal with a cheap password hash, its documents under the test's folder."""
    return make_app(tmp_path, DOCUMENTS_DIR=str(tmp_path / "documents"))


@pytest.fixture
def documents_dir(app):
    return app.config["DOCUMENTS_DIR"]


def file(db, siret: str) -> str:
    return deposits.file_deposit(db, {"siret": siret}, Decimal("100"), None).ref


def fetch(client, ref: str):
    page = client.get(f"/admin/demandes/{ref}")
    return client.post(
        f"/admin/demandes/{ref}/attestations", data={"csrf_token": csrf_from(page.data)}
    )


def rows(db, ref: str) -> dict[str, attestations.Attestation]:
    """The latest attempt per kind."""
    found = {}
    for row in attestations.list_for_deposit(db, ref):
        found.setdefault(row.kind, row)
    return found


def section(response) -> str:
    """The words of the deposit page's attestations section, as read."""
    page = text(response)
    start = page.index('<section id="attestations"')
    html = page[start : page.index("</section>", start)]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def journal(db) -> list[dict]:
    return list(db.query("SELECT route, target, object, actor FROM api_journal ORDER BY id"))


def save(db, **changes) -> None:
    settings.save(db, changes, actor="test")


# -- the demonstration flow: the built-in sandbox, in process --------------------------------


def test_both_attestations_are_fetched_kept_and_listed(auth, client, db, documents_dir):
    ref = file(db, HEAD_OFFICE)
    response = fetch(client, ref)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/demandes/{ref}#attestations")

    found = rows(db, ref)
    assert set(found) == {"fiscale", "vigilance"}
    folder = Path(documents_dir)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for row in found.values():
        assert row.status == "obtenue" and row.actor == "alice" and row.siren == "999123409"
        path = folder / row.file_name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        content = path.read_bytes()
        assert content.startswith(b"%PDF-1.4") and b"(SIREN : 999 123 409)" in content
        assert (row.size, row.sha256) == (len(content), hashlib.sha256(content).hexdigest())
        assert row.id not in row.file_name  # the URL's id does not name the file
    assert found["vigilance"].valid_until and found["vigilance"].security_code == "SBX999123409"
    assert found["fiscale"].period_end and found["fiscale"].delivered_on

    # Each call is traced to the agent and the deposit, and spent the documents' quota.
    assert journal(db) == [
        {
            "route": route,
            "target": "999123409",
            "object": f"Attestations {ref}",
            "actor": "admin alice",
        }
        for route in (ROUTE_ATTESTATION_FISCALE, ROUTE_ATTESTATION_VIGILANCE)
    ]
    assert budget.snapshot(db, bucket=BUCKET_DOCUMENTS)["used_last_minute"] == 2
    assert budget.snapshot(db, bucket=BUCKET_JSON)["used_last_minute"] == 0
    assert db["lookup_cache"].count == 0

    page = client.get(f"/admin/demandes/{ref}")
    assert page.headers["Cache-Control"] == "no-store"
    words = text(page)
    assert "Attestation fiscale obtenue, délivrée le" in words  # the flashed messages
    assert "Attestation de vigilance obtenue, valable du" in words
    html = text(page)[text(page).index('<section id="attestations"') :]
    assert 'aria-labelledby="attestations-title"' in html
    assert "<caption>Attestations demandées pour cette demande" in html
    assert '<th scope="col">Délivrance et validité</th>' in html
    read = section(page)
    assert read.count("Obtenue") == 2 and "par alice" in read
    delivered = found["fiscale"].delivered_on
    assert f"Délivrée le {delivered[8:]}/{delivered[5:7]}/{delivered[:4]}" in read
    until = found["vigilance"].valid_until
    assert f"au {until[8:]}/{until[5:7]}/{until[:4]}" in read
    for row in found.values():
        assert f"/admin/demandes/{ref}/attestations/{row.id}" in html
    assert "Récupérer les attestations" in read


def test_the_document_host_never_sees_the_token(auth, client, db, loopback):
    ref = file(db, HEAD_OFFICE)
    fetch(client, ref)
    seen = {path: headers for _method, path, _query, headers in loopback.requests_seen}
    api_calls = [path for path in seen if "/unites_legales/" in path]
    downloads = [path for path in seen if path.startswith("/documents/")]
    assert len(api_calls) == 2 and len(downloads) == 2
    token = settings.load(db).token
    for path in api_calls:
        assert seen[path]["Authorization"] == f"Bearer {token}"
    for path in downloads:
        assert not {name.lower() for name in seen[path]} & {"authorization", "cookie"}
        assert token not in repr(seen[path])
    assert {row.status for row in rows(db, ref).values()} == {"obtenue"}


# -- facts about the company -------------------------------------------------------------------


def test_a_refused_vigilance_is_a_fact_about_the_company(auth, client, db):
    ref = file(db, CEASED)
    fetch(client, ref)
    found = rows(db, ref)
    assert found["fiscale"].status == "obtenue"
    vigilance = found["vigilance"]
    assert vigilance.status == "refusée" and vigilance.file_name is None
    assert vigilance.message == (
        "L'Urssaf a refusé de délivrer l'attestation de vigilance\u202f: la délivrance de "
        "l'attestation de vigilance a été refusée par l'Urssaf."
    )
    page = client.get(f"/admin/demandes/{ref}")
    read = section(page)
    assert "Refusée par l’organisme" in read
    assert "L'Urssaf a refusé de délivrer l'attestation de vigilance" in read
    assert "erreur" not in read.lower()
    assert read.count("Télécharger le PDF") == 1


def test_a_company_unknown_to_the_providers_is_a_fact_too(auth, client, db):
    ref = file(db, UNKNOWN)
    fetch(client, ref)
    found = rows(db, ref)
    assert {row.status for row in found.values()} == {"refusée"}
    assert found["fiscale"].message.startswith(
        "La DGFiP n'a pas délivré l'attestation fiscale\u202f: l'entreprise lui est inconnue ou "
        "n'est pas à jour de ses obligations fiscales (réponse 404, code 03003)."
    )
    assert "L'Urssaf n'a pas délivré l'attestation de vigilance" in found["vigilance"].message
    assert "cotisations sociales" in found["vigilance"].message


# -- what cannot be fetched ------------------------------------------------------------------


def test_a_missing_scope_names_the_habilitation_and_sends_nothing(auth, client, db):
    save(db, token=mint_token(["open_data", "attestation_fiscale_dgfip"]))
    ref = file(db, HEAD_OFFICE)
    fetch(client, ref)
    found = rows(db, ref)
    assert found["fiscale"].status == "obtenue"
    vigilance = found["vigilance"]
    assert vigilance.status == "erreur" and vigilance.error_kind == "scope_missing"
    assert "Aucun appel n'a été envoyé" in vigilance.message
    assert "DataPass" in vigilance.message
    assert "«\u202fAttestation de vigilance\u202f» (Urssaf)" in vigilance.message
    assert [row["route"] for row in journal(db)] == [ROUTE_ATTESTATION_FISCALE]
    assert "DataPass" in section(client.get(f"/admin/demandes/{ref}"))


@pytest.mark.parametrize(
    ("siret", "words", "action"),
    [
        (PROVIDER_DOWN, "fournisseur de données indisponible", "Vous pourrez réessayer plus tard"),
        (RATE_LIMITED, "trop de requêtes", "Vous pourrez réessayer plus tard"),
        (TOKEN_REFUSED, "jeton refusé", "Vérifiez le jeton dans les paramètres"),
    ],
)
def test_an_api_failure_is_explained_and_the_page_still_works(
    auth, client, db, siret, words, action
):
    ref = file(db, siret)
    response = fetch(client, ref)
    assert response.status_code == 303
    found = rows(db, ref)
    fiscale = found["fiscale"]
    assert fiscale.status == "erreur" and fiscale.file_name is None
    assert f"L'attestation fiscale n'a pas pu être obtenue ({words})" in fiscale.message
    page = client.get(f"/admin/demandes/{ref}")
    assert page.status_code == 200
    read = section(page)
    assert "Non obtenue" in read and words in read
    assert action in fiscale.message
    assert "Récupérer les attestations" in read
    assert "Bearer" not in text(page)


def test_an_unreachable_api_keeps_the_page_working(auth, client, db):
    save(db, api_url=refused_url())
    ref = file(db, HEAD_OFFICE)
    assert fetch(client, ref).status_code == 303
    assert {row.error_kind for row in rows(db, ref).values()} == {"unreachable"}
    page = client.get(f"/admin/demandes/{ref}")
    assert page.status_code == 200
    assert "API injoignable" in section(page)


def test_a_bad_document_is_an_error_that_keeps_the_providers_facts(auth, client, db, double):
    save(db, api_url=double.url, token=mint_token(list(ALL_SCOPES)))
    answer = {
        "data": {
            "document_url": f"{double.url}/files/fiscale.pdf",
            "document_url_expires_in": 86400,
            "date_delivrance_attestation": "2026-03-02",
            "date_periode_analysee": "2026-02-28",
        },
        "links": {},
        "meta": {},
    }
    double.on("/v4/dgfip/", Reply(body=answer))
    double.on("/v4/urssaf/", Reply(status=502, body={"errors": []}))
    double.on("/files/", Reply(body="<html>Connexion</html>", content_type="text/html"))
    ref = file(db, HEAD_OFFICE)
    fetch(client, ref)
    fiscale = rows(db, ref)["fiscale"]
    assert fiscale.status == "erreur" and fiscale.error_kind == "document_not_pdf"
    assert "son document n'a pas pu être téléchargé" in fiscale.message
    assert "n'est pas un PDF" in fiscale.message
    assert (fiscale.delivered_on, fiscale.period_end) == ("2026-03-02", "2026-02-28")
    download = [seen for seen in double.seen if seen.path == "/files/fiscale.pdf"]
    assert len(download) == 1 and "Authorization" not in download[0].headers
    assert "02/03/2026" in section(client.get(f"/admin/demandes/{ref}"))


def test_the_button_needs_csrf_and_a_logged_in_agent(app, auth, client, db):
    ref = file(db, HEAD_OFFICE)
    assert client.post(f"/admin/demandes/{ref}/attestations").status_code == 400
    anonymous = app.test_client()
    token = csrf_from(anonymous.get("/demande").data)  # a valid CSRF token, but no login
    response = anonymous.post(f"/admin/demandes/{ref}/attestations", data={"csrf_token": token})
    assert response.status_code == 303 and "/admin/connexion" in response.headers["Location"]
    assert journal(db) == [] and attestations.list_for_deposit(db, ref) == []
    token = csrf_from(client.get(f"/admin/demandes/{ref}").data)
    unknown = client.post(
        "/admin/demandes/AIDE-0000-INCONNUE/attestations", data={"csrf_token": token}
    )
    assert unknown.status_code == 404 and "Page introuvable" in text(unknown)


# -- the documents ------------------------------------------------------------------------------


def obtained(client, db, siret: str = HEAD_OFFICE) -> tuple[str, attestations.Attestation]:
    ref = file(db, siret)
    fetch(client, ref)
    return ref, rows(db, ref)["vigilance"]


def test_a_logged_in_agent_downloads_the_pdf_and_it_is_journaled(auth, client, db, documents_dir):
    ref, row = obtained(client, db)
    response = client.get(f"/admin/demandes/{ref}/attestations/{row.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="attestation-vigilance-999123409-{row.delivered_on}.pdf"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF-")
    assert response.data == (Path(documents_dir) / row.file_name).read_bytes()
    events = list(
        db.query("SELECT event, username, detail FROM admin_events WHERE event LIKE 'attest%'")
    )
    assert events == [
        {"event": "attestation_downloaded", "username": "alice", "detail": f"{ref} vigilance"}
    ]
    dashboard = text(client.get("/admin/"))
    assert "Téléchargement d'une attestation" in dashboard


def test_no_document_for_anonymous_or_logged_out_visitors(app, auth, client, db):
    ref, row = obtained(client, db)
    url = f"/admin/demandes/{ref}/attestations/{row.id}"
    stolen = auth.session_cookie()
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 303 and b"%PDF" not in anonymous.data
    assert "/admin/connexion" in anonymous.headers["Location"]

    auth.logout()
    after = client.get(url)
    assert after.status_code == 303 and b"%PDF" not in after.data
    thief = app.test_client()
    thief.set_cookie("portail_admin", stolen, path="/admin")
    assert thief.get(url).status_code == 303
    assert (
        db.execute(
            "SELECT count(*) FROM admin_events WHERE event = 'attestation_downloaded'"
        ).fetchone()[0]
        == 0
    )


def test_an_id_of_another_deposit_or_unknown_is_not_found(auth, client, db):
    ref, row = obtained(client, db)
    other = file(db, CEASED)
    for url in (
        f"/admin/demandes/{other}/attestations/{row.id}",
        f"/admin/demandes/{ref}/attestations/{'0' * 32}",
        f"/admin/demandes/{ref}/attestations/{row.file_name}",
        f"/admin/demandes/{ref}/attestations/{row.id[:-1]}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"%PDF" not in response.data
        assert "Page introuvable" in text(response)
    refused = rows(db, other).get("vigilance")
    assert refused is None  # nothing fetched for it: the id belongs to `ref` only


def test_a_refused_attestation_has_no_document(auth, client, db):
    ref, row = obtained(client, db, CEASED)
    assert row.status == "refusée"
    assert client.get(f"/admin/demandes/{ref}/attestations/{row.id}").status_code == 404


def test_a_missing_or_altered_file_is_said_in_french(auth, client, db, documents_dir):
    ref, row = obtained(client, db)
    path = Path(documents_dir) / row.file_name
    path.write_bytes(path.read_bytes().replace(b"SIREN", b"SIRET"))
    response = client.get(f"/admin/demandes/{ref}/attestations/{row.id}")
    assert response.status_code == 404
    assert "Document indisponible" in text(response) and b"%PDF" not in response.data
    path.unlink()
    assert "Récupérez de nouveau" in text(
        client.get(f"/admin/demandes/{ref}/attestations/{row.id}")
    )
