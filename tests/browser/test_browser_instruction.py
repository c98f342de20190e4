"""In Debian's Chromium, an agent's whole instruction of a deposit on the demonstration's
built-in sandbox: log in, search the deposit, verify it against certified data and see the
difference, fetch both attestations, download one, export the list."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest

from portail.storage import database, deposits
from tests.admin_helpers import PASSWORD, USERNAME, AuthActions, make_app
from tests.browser_support import live_server

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

VAL_FLEURI = "99912340900016"  # the sandbox's ATELIERS DU VAL FLEURI, PARIS 12


@pytest.fixture
def portal(tmp_path):
    """The demonstration portal (in-process sandbox), one agent, three deposits, served live.

    The Val Fleuri deposit declares its name with other accents and case (not a difference)
    and another street (a difference)."""
    app = make_app(tmp_path)
    AuthActions(app, app.test_client()).create_admin()
    db = database.connect(app.config["DATABASE"])
    try:
        declared = {
            "siret": VAL_FLEURI,
            "raison_sociale": "Ateliers du Val-Fleuri",
            "adresse_numero": "22 bis",
            "adresse_voie": "Rue des Tanneurs",
            "code_postal": "75012",
            "commune": "Paris 12e Arrondissement",
            "intitule_projet": "Presse hydraulique",
        }
        ref = deposits.file_deposit(db, declared, Decimal("12500"), None).ref
        for name in ("Chorale des Tilleuls", "Boulangerie Martin"):
            other = {"siret": "99989017100013", "raison_sociale": name}
            deposits.file_deposit(db, other, Decimal("800"), None)
    finally:
        db.conn.close()
    with live_server(app) as base_url:
        yield base_url, ref


def test_an_agent_instructs_a_deposit_from_search_to_export(portal, chromium):
    base_url, ref = portal
    context = chromium.new_context(accept_downloads=True)
    page = context.new_page()

    page.goto(f"{base_url}/admin/demandes")
    page.get_by_label("Identifiant").fill(USERNAME)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    # Search by name, without the accents and hyphen that were filed.
    page.get_by_label("Référence, SIRET, SIREN ou nom de l'organisation").fill(
        "ateliers val fleuri"
    )
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("status")).to_contain_text("1 demande")
    page.get_by_role("link", name=ref).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ref)

    # Certified data: the street differs, the name and the commune do not.
    page.get_by_role("button", name="Vérifier auprès d'API Entreprise").click()
    verification = page.locator("#verification")
    table = verification.get_by_role("table")
    expect(table).to_contain_text("Certifié (API Entreprise)")
    street = table.get_by_role("row", name=re.compile("Voie"))
    expect(street).to_contain_text("RUE DES CHARRONS")
    expect(street).to_contain_text("Écart")
    expect(table.get_by_role("row", name=re.compile("Raison sociale"))).not_to_contain_text("Écart")
    expect(table.get_by_role("row", name=re.compile("Commune"))).not_to_contain_text("Écart")

    # Both attestations, kept and listed; one downloaded as a real PDF.
    page.get_by_role("button", name="Récupérer les attestations").click()
    attestations = page.locator("#attestations")
    expect(attestations.get_by_role("link", name=re.compile("Télécharger le PDF"))).to_have_count(2)
    with page.expect_download() as download_info:
        attestations.get_by_role("link", name=re.compile("Télécharger le PDF")).first.click()
    download = download_info.value
    assert download.suggested_filename.startswith("attestation-")
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    # Export the whole list: the three deposits, the verified one with its state.
    page.goto(f"{base_url}/admin/demandes")
    with page.expect_download() as export_info:
        page.get_by_role("link", name=re.compile("Exporter \\(CSV\\)")).click()
    with open(export_info.value.path(), "rb") as handle:
        raw = handle.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: French spreadsheets read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + 3
    header, exported = rows[0], next(row for row in rows if ref in row)
    assert "Ateliers du Val-Fleuri" in exported
    state = exported[header.index("Vérification des données certifiées")]
    assert state == "écarts"
    assert (
        sum(row[header.index("Vérification des données certifiées")] == state for row in rows) == 1
    )
    context.close()
