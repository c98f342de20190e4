"""Attestation documents: the answer's facts, and the PDF downloaded through the app's
session from a real loopback server (the fault double) with every guard: https only, no
redirect, no token, PDF type and signature, size cap, total deadline, expired links."""

from __future__ import annotations

import hashlib
import time
from datetime import date

import pytest

from portail.apientreprise import budget, documents
from portail.apientreprise.catalogue import (
    BUCKET_DOCUMENTS,
    BUCKET_JSON,
    ROUTE_ATTESTATION_FISCALE,
    ROUTE_ATTESTATION_VIGILANCE,
    ROUTE_ETABLISSEMENT_DIFFUSIBLE,
)
from portail.apientreprise.documents import DocumentError, fetch_document, url_refusal
from portail.apientreprise.errors import BadAnswer, BudgetSpent, Timeout
from portail.apientreprise.policy import GatewayPolicy
from portail.apientreprise.sandbox import DEMO_RECIPIENT_SIRET, mint_demo_token
from portail.apientreprise.sandbox.pdf import one_page_pdf
from portail.apientreprise.transport import HttpTransport
from portail.core.api_urls import PRODUCTION_URL, SANDBOX_URL
from portail.core.settings_rules import Settings
from portail.core.tiers import BadPayload
from tests.api_helpers import gateway_for, settings_on
from tests.fault_double import Reply, refused_url

PDF = one_page_pdf("Attestation de test", ["Ligne"], created=date(2026, 3, 2), producer="tests")
PDF_TYPE = "application/pdf"
SIREN = "999123409"
ATTESTATION_SCOPES = ("attestation_fiscale_dgfip", "attestation_sociale_urssaf")


@pytest.fixture
def transport():
    session = HttpTransport()
    yield session
    session.close()


def fetch(transport, double, path="/files/attestation.pdf", **kwargs):
    kwargs.setdefault("api_url", double.url)
    kwargs.setdefault("timeout", 2.0)
    return fetch_document(transport, double.url + path, **kwargs)


def refused(transport, double, reply: Reply, **kwargs) -> DocumentError:
    double.on("/files/", reply)
    with pytest.raises(DocumentError) as caught:
        fetch(transport, double, **kwargs)
    return caught.value


def fiscale_answer(url: str) -> dict:
    return {
        "data": {
            "document_url": url,
            "document_url_expires_in": 86400,
            "date_delivrance_attestation": "2026-03-02",
            "date_periode_analysee": "2026-02-28",
        },
        "links": {},
        "meta": {},
    }


# -- the download -----------------------------------------------------------------------------


def test_a_pdf_is_downloaded_with_its_digest(transport, double):
    double.on("/files/", Reply(body=PDF, content_type=PDF_TYPE))
    document = fetch(transport, double)
    assert document.content == PDF
    assert document.size == len(PDF)
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    (seen,) = double.seen
    assert seen.path == "/files/attestation.pdf"
    assert seen.headers["Accept"] == PDF_TYPE


def test_an_html_page_instead_of_a_pdf_is_refused(transport, double):
    page = "<!doctype html><title>Connexion</title><p>Veuillez vous connecter</p>"
    error = refused(transport, double, Reply(body=page, content_type="text/html; charset=utf-8"))
    assert error.kind == "not_pdf"
    assert "text/html" in error.message and "n'est pas un PDF" in error.message


def test_a_body_without_the_pdf_signature_is_refused_whatever_its_type(transport, double):
    error = refused(transport, double, Reply(body=b"<html>PDF</html>", content_type=PDF_TYPE))
    assert error.kind == "not_pdf"
    assert "%PDF-" in error.message


@pytest.mark.parametrize("chunked", [False, True], ids=["announced", "chunked"])
def test_a_document_over_the_size_cap_is_refused(transport, double, chunked):
    big = PDF + b"0" * 5000
    error = refused(
        transport,
        double,
        Reply(body=big, content_type=PDF_TYPE, chunked=chunked),
        max_bytes=4096,
    )
    assert error.kind == "too_big"
    assert "4096 octets" in error.message


@pytest.mark.parametrize("status", [403, 404, 410])
def test_an_expired_link_is_refused_with_what_to_do(transport, double, status):
    error = refused(transport, double, Reply(status=status, body=b"<Error/>", content_type=None))
    assert error.kind == "expired"
    assert f"statut HTTP {status}" in error.message and "expiré" in error.message
    assert "nouveau lien" in error.action


def test_a_server_error_of_the_document_host_is_refused(transport, double):
    error = refused(transport, double, Reply(status=503, body=b"", content_type=None))
    assert error.kind == "http_error"
    assert "503" in error.message


def test_a_trickling_body_hits_the_total_deadline(transport, double):
    slow = Reply(body=PDF, content_type=PDF_TYPE, trickle=0.05, trickle_size=8)
    started = time.monotonic()
    error = refused(transport, double, slow, timeout=0.6)
    elapsed = time.monotonic() - started
    assert error.kind == "timeout"
    assert "0.6 secondes" in error.message
    assert 0.5 < elapsed < 1.6  # the whole body would take 6 s


def test_headers_that_never_come_hit_the_deadline(transport, double):
    started = time.monotonic()
    error = refused(transport, double, Reply(hang=True), timeout=0.5)
    assert error.kind == "timeout"
    assert time.monotonic() - started < 1.5


def test_a_redirect_is_never_followed(transport, double):
    double.on("/files/elsewhere.pdf", Reply(body=PDF, content_type=PDF_TYPE))
    moved = Reply(status=302, body=b"", content_type=None)
    moved.headers["Location"] = f"{double.url}/files/elsewhere.pdf"
    error = refused(transport, double, moved)
    assert error.kind == "redirect"
    assert "302" in error.message and "ne suit jamais" in error.message
    assert double.count("/files/elsewhere") == 0


def test_a_refused_connection_says_so(transport):
    dead = refused_url()
    with pytest.raises(DocumentError) as caught:
        fetch_document(transport, dead + "/a.pdf", api_url=dead, timeout=1.0)
    assert caught.value.kind == "unreachable"
    assert "injoignable" in caught.value.message


# -- which links are opened ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "api_url", "allowed"),
    [
        ("https://storage.entreprise.api.gouv.fr/a.pdf?sig=x", PRODUCTION_URL, True),
        (f"{SANDBOX_URL}/documents/attestation_fiscale_{SIREN}.pdf", SANDBOX_URL, True),
        ("http://127.0.0.1:8001/documents/a.pdf", "http://127.0.0.1:8001", True),
        ("http://localhost:9/a.pdf", "http://[::1]:8001", True),
        ("http://storage.example.org/a.pdf", PRODUCTION_URL, False),
        ("http://127.0.0.1:8001/a.pdf", PRODUCTION_URL, False),  # loopback only for loopback
        ("http://storage.example.org/a.pdf", "http://127.0.0.1:8001", False),
        ("https://user:secret@storage.example.org/a.pdf", PRODUCTION_URL, False),
        ("ftp://storage.example.org/a.pdf", PRODUCTION_URL, False),
        ("file:///etc/passwd", PRODUCTION_URL, False),
        ("https:///a.pdf", PRODUCTION_URL, False),
    ],
)
def test_only_https_links_or_loopback_beside_a_loopback_api_are_opened(url, api_url, allowed):
    assert (url_refusal(url, api_url) is None) is allowed


def test_plain_http_to_another_host_is_refused_before_anything_is_sent(transport, double):
    with pytest.raises(DocumentError) as caught:
        fetch_document(
            transport, "http://storage.example.org/a.pdf", api_url=PRODUCTION_URL, timeout=1
        )
    assert caught.value.kind == "url_refused"
    assert "https" in caught.value.message
    # Not even to a loopback host while the API is not on loopback.
    with pytest.raises(DocumentError):
        fetch_document(transport, double.url + "/files/a.pdf", api_url=PRODUCTION_URL, timeout=1)
    assert double.seen == []


# -- the token never reaches the document host ---------------------------------------------------


def test_the_token_goes_to_the_api_and_never_to_the_document_host(database, double):
    conf = settings_on(double.url, ATTESTATION_SCOPES)
    double.on("/v4/dgfip/", Reply(body=fiscale_answer(f"{double.url}/files/fiscale.pdf")))
    double.on("/files/", Reply(body=PDF, content_type=PDF_TYPE))
    gateway = gateway_for()
    answer = gateway.call(
        database,
        conf,
        ROUTE_ATTESTATION_FISCALE,
        SIREN,
        actor="admin alice",
        object_="Attestations AIDE-1",
        check=lambda body: documents.read_attestation("fiscale", body),
    )
    facts = answer.checked
    assert facts.period_end == "2026-02-28" and facts.delivered_on == "2026-03-02"
    document = fetch_document(
        gateway.transport, facts.document_url, api_url=conf.api_url, timeout=2.0
    )
    assert document.content == PDF

    api_call, download = double.seen
    assert api_call.path == f"/v4/dgfip/unites_legales/{SIREN}/attestation_fiscale"
    assert api_call.headers["Authorization"] == f"Bearer {conf.token}"
    assert download.path == "/files/fiscale.pdf"
    assert "authorization" not in {name.lower() for name in download.headers}
    assert "cookie" not in {name.lower() for name in download.headers}
    assert conf.token not in repr(download)
    assert conf.token[-12:] not in repr(download)


# -- the answers' facts --------------------------------------------------------------------------


def test_a_delivered_vigilance_gives_its_dates_and_security_code():
    facts = documents.read_attestation(
        "vigilance",
        {
            "data": {
                "entity_status": {"code": "ok", "libelle": "x", "description": "y"},
                "date_debut_validite": "2026-03-02",
                "date_fin_validite": "2026-09-30",
                "code_securite": "SBX999123409",
                "document_url": "https://example.org/v.pdf",
                "document_url_expires_in": 86400,
            }
        },
    )
    assert (facts.delivered_on, facts.valid_until) == ("2026-03-02", "2026-09-30")
    assert facts.security_code == "SBX999123409"
    assert facts.refusal is None and facts.document_url == "https://example.org/v.pdf"


def test_a_refused_vigilance_gives_the_providers_words_and_no_link():
    facts = documents.read_attestation(
        "vigilance",
        {
            "data": {
                "entity_status": {
                    "code": "refus_de_delivrance",
                    "libelle": "Attestation refusée par l'Urssaf",
                    "description": "L'entité n'est pas à jour de ses cotisations sociales.",
                },
                "document_url": None,
            }
        },
    )
    assert facts.refusal == "L'entité n'est pas à jour de ses cotisations sociales."
    assert facts.document_url is None


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("fiscale", {"date_delivrance_attestation": "2026-03-02"}),  # no link
        ("fiscale", {"document_url": "https://x/a.pdf", "date_delivrance_attestation": "hier"}),
        ("vigilance", {"document_url": "https://x/a.pdf"}),  # no entity_status
    ],
)
def test_an_unreadable_attestation_answer_is_a_bad_payload(kind, data):
    with pytest.raises(BadPayload):
        documents.read_attestation(kind, {"data": data})


def test_through_the_gateway_an_answer_without_link_is_a_bad_answer(database, double):
    body = fiscale_answer("")
    double.on("/v4/dgfip/", Reply(body=body))
    with pytest.raises(BadAnswer):
        gateway_for().call(
            database,
            settings_on(double.url, ATTESTATION_SCOPES),
            ROUTE_ATTESTATION_FISCALE,
            SIREN,
            actor="admin alice",
            object_="Attestations AIDE-1",
            check=lambda body: documents.read_attestation("fiscale", body),
        )


# -- the documents quota and timeout ------------------------------------------------------------


def demo_settings() -> Settings:
    return Settings(
        enabled=True,
        recipient_siret=DEMO_RECIPIENT_SIRET,
        token=mint_demo_token(),
        context="Aides publiques",
        api_url=SANDBOX_URL,
    )


def call(database, route, target, policy=None):
    return gateway_for(policy).call(
        database, demo_settings(), route, target, actor="admin alice", object_="Attestations X"
    )


def test_a_document_call_spends_the_documents_bucket_not_the_json_one(database):
    call(database, ROUTE_ATTESTATION_VIGILANCE, SIREN)
    assert budget.snapshot(database, bucket=BUCKET_DOCUMENTS)["used_last_minute"] == 1
    assert budget.snapshot(database, bucket=BUCKET_JSON)["used_last_minute"] == 0

    call(database, ROUTE_ETABLISSEMENT_DIFFUSIBLE, "99912340900016")
    assert budget.snapshot(database, bucket=BUCKET_DOCUMENTS)["used_last_minute"] == 1
    assert budget.snapshot(database, bucket=BUCKET_JSON)["used_last_minute"] == 1


def test_a_spent_documents_bucket_leaves_json_calls_alone(database):
    policy = GatewayPolicy(document_budget_per_minute=1)
    call(database, ROUTE_ATTESTATION_FISCALE, SIREN, policy)
    with pytest.raises(BudgetSpent):
        call(database, ROUTE_ATTESTATION_VIGILANCE, SIREN, policy)
    call(database, ROUTE_ETABLISSEMENT_DIFFUSIBLE, "99912340900016", policy)  # still allowed


def test_document_routes_get_the_document_timeout_json_routes_do_not(database, double):
    policy = GatewayPolicy(timeout=0.2, document_timeout=3.0)
    conf = settings_on(double.url, ("open_data", *ATTESTATION_SCOPES))
    double.on("/v4/dgfip/", Reply(body=fiscale_answer("https://x/a.pdf"), delay=0.5))
    double.on("/v4/insee/", Reply(delay=0.5))
    gateway = gateway_for(policy)
    answer = gateway.call(database, conf, ROUTE_ATTESTATION_FISCALE, SIREN, actor="a", object_="o")
    assert answer.body["data"]["document_url"] == "https://x/a.pdf"
    with pytest.raises(Timeout):
        gateway.call(
            database, conf, ROUTE_ETABLISSEMENT_DIFFUSIBLE, "99912340900016", actor="a", object_="o"
        )


@pytest.mark.parametrize(
    "link",
    [
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://127.0.0.1:8443/attestation.pdf",
        "https://[::1]/attestation.pdf",
        "https://localhost/attestation.pdf",
        "https://10.0.0.5/attestation.pdf",
        "https://192.168.1.20/attestation.pdf",
        "https://bac-a-sable.api-entreprise.invalid/documents/a.pdf",  # sandbox, real API
    ],
)
def test_a_link_to_an_internal_host_is_never_opened_beside_the_real_api(link):
    assert documents.url_refusal(link, "https://entreprise.api.gouv.fr")


def test_public_and_demonstration_links_are_opened():
    production = "https://entreprise.api.gouv.fr"
    assert documents.url_refusal("https://storage.entreprise.api.gouv.fr/a.pdf", production) is None
    sandbox_url = "https://bac-a-sable.api-entreprise.invalid"
    assert documents.url_refusal(f"{sandbox_url}/documents/a.pdf", sandbox_url) is None
