"""The sandbox serves the attestations' documents: a small valid PDF it writes itself, at the
link its answer gives, in process and over loopback HTTP, never to a request carrying a
token, and nothing where the API gave no link."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import date, datetime

import pytest
import requests

from portail.apientreprise import sandbox
from portail.apientreprise.sandbox import records
from portail.apientreprise.sandbox.pdf import one_page_pdf, pdf_string
from portail.core.api_urls import SANDBOX_URL

SIREN = "999123409"  # ATELIERS DU VAL FLEURI
CEASED_SIREN = "999345622"  # TRANSPORTS MERIDIENNE, ceased: vigilance refused
PERSON_SIREN = "999456734"  # BERTRAND Élodie
QUERY = {"recipient": sandbox.DEMO_RECIPIENT_SIRET, "context": "Contrat", "object": "DEP-1"}
TODAY = date(2026, 3, 2)


def at_noon(day: date) -> float:
    return datetime(day.year, day.month, day.day, 12).timestamp()


def fixed_sandbox() -> sandbox.Sandbox:
    return sandbox.Sandbox(clock=lambda: at_noon(TODAY))


def document_path(kind: str, siren: str) -> str:
    return f"/documents/attestation_{kind}_{siren}.pdf"


def check_pdf_structure(pdf: bytes) -> None:
    """What a PDF reader checks first: header, every xref offset on its object, the trailer's
    size, startxref on the xref table, each stream's length."""
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))
    assert pdf[start : start + 5] == b"xref\n"
    first, count = map(int, re.match(rb"xref\n(\d+) (\d+)\n", pdf[start:]).groups())
    assert first == 0
    table = pdf[start:].split(b"\n", 2)[2]
    entries = [table[i * 20 : (i + 1) * 20] for i in range(count)]
    assert entries[0] == b"0000000000 65535 f \n"
    for number, entry in enumerate(entries[1:], start=1):
        assert re.fullmatch(rb"\d{10} 00000 n \n", entry), entry
        offset = int(entry[:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    trailer = pdf[start + 5 + len(b"0 %d\n" % count) + 20 * count :]
    assert trailer.startswith(b"trailer\n<< /Size %d /Root 1 0 R" % count)
    for match in re.finditer(rb"<< /Length (\d+) >>\nstream\n", pdf):
        length = int(match.group(1))
        assert pdf[match.end() + length : match.end() + length + 9] == b"endstream"


def test_the_pdf_is_structurally_valid_and_shows_the_company():
    pdf = records.attestation_document("vigilance", SIREN, TODAY)
    check_pdf_structure(pdf)
    assert b"(Entreprise : ATELIERS DU VAL FLEURI)" in pdf
    assert b"(SIREN : 999 123 409)" in pdf
    assert pdf_string("Attestation de vigilance") in pdf
    assert b"(Valable du 02/03/2026 au " in pdf
    assert "Délivrée par : Urssaf".encode("cp1252") in pdf
    assert "aucune valeur".encode("cp1252") in pdf
    assert records.attestation_document("vigilance", SIREN, TODAY) == pdf  # same bytes


def test_the_fiscal_pdf_says_its_period_and_a_person_by_name():
    pdf = records.attestation_document("fiscale", PERSON_SIREN, TODAY)
    check_pdf_structure(pdf)
    assert "Attestation de régularité fiscale".encode("cp1252") in pdf
    assert "BERTRAND ÉLODIE".encode("cp1252") in pdf
    assert b"(Situation au : 28/02/2026)" in pdf


def test_pdf_strings_are_escaped():
    assert pdf_string("a (b) \\ c\nd") == b"(a \\(b\\) \\\\ c d)"
    assert pdf_string("€ ✓") == b"(\x80 ?)"
    check_pdf_structure(one_page_pdf("(x)", ["\\", "é"], created=TODAY, producer="p"))


def test_the_answers_link_serves_the_pdf_in_process():
    box = fixed_sandbox()
    headers = {"Authorization": f"Bearer {sandbox.mint_demo_token()}"}
    for kind, route in (
        ("fiscale", f"/v4/dgfip/unites_legales/{SIREN}/attestation_fiscale"),
        ("vigilance", f"/v4/urssaf/unites_legales/{SIREN}/attestation_vigilance"),
    ):
        link = json.loads(box.handle("GET", route, QUERY, headers).body)["data"]["document_url"]
        assert link == f"{SANDBOX_URL}{document_path(kind, SIREN)}"
        served = box.handle("GET", link[len(SANDBOX_URL) :], {}, {})
        assert served.status == 200
        assert served.headers["Content-Type"] == "application/pdf"
        assert served.body == records.attestation_document(kind, SIREN, TODAY)


def test_a_document_request_carrying_a_token_is_refused():
    box = fixed_sandbox()
    token = sandbox.mint_demo_token()
    answer = box.handle(
        "GET", document_path("fiscale", SIREN), {}, {"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 400
    assert not answer.body.startswith(b"%PDF")
    assert json.loads(answer.body)["errors"][0]["code"] == "00400"


@pytest.mark.parametrize(
    "path",
    [
        document_path("vigilance", CEASED_SIREN),  # refused: the answer gave no link
        document_path("fiscale", "999999998"),  # unknown company
        document_path("fiscale", "89978915"),  # malformed
        "/documents/attestation_kbis_999123409.pdf",
        document_path("fiscale", "899789150"),  # the 502 persona's SIREN
    ],
)
def test_no_document_where_the_api_gave_no_link(path):
    answer = fixed_sandbox().handle("GET", path, {}, {})
    assert answer.status == 404
    assert json.loads(answer.body)["errors"][0]["code"] == "00410"


def test_documents_are_read_only():
    answer = fixed_sandbox().handle("POST", document_path("fiscale", SIREN), {}, {})
    assert answer.status == 405


def test_over_loopback_the_link_points_at_the_loopback_server():
    with sandbox.LoopbackSandbox() as server:
        answer = requests.get(
            f"{server.url}/v4/urssaf/unites_legales/{SIREN}/attestation_vigilance",
            params=QUERY,
            headers={"Authorization": f"Bearer {sandbox.mint_demo_token()}"},
            timeout=5,
        )
        link = answer.json()["data"]["document_url"]
        assert link == f"{server.url}{document_path('vigilance', SIREN)}"
        served = requests.get(link, timeout=5)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.content.startswith(b"%PDF-1.4")
    check_pdf_structure(served.content)


# .ci/run installs qpdf: in CI the check always runs; locally it may skip.
@pytest.mark.skipif(
    not shutil.which("qpdf") and not os.environ.get("CI"),
    reason="qpdf absent (apt-get install qpdf)",
)
def test_a_real_pdf_checker_accepts_the_document(tmp_path):
    """An extra layer where qpdf is installed: the structure check above stays the rule."""
    path = tmp_path / "attestation.pdf"
    path.write_bytes(records.attestation_document("vigilance", PERSON_SIREN, TODAY))
    result = subprocess.run(
        ["qpdf", "--check", str(path)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout
