"""Dashboard, deposits list and detail, and the DataPass guide."""

from __future__ import annotations

import functools
import re
import time
from decimal import Decimal

from portail.apientreprise import budget, circuit
from portail.core.tokens import mint_token
from portail.storage import deposits, settings
from tests.admin_helpers import (
    page_text,
)
from tests.api_helpers import journal_row

text = functools.partial(page_text, collapse_spaces=True)


def file(db, number: int, **values) -> str:
    base = {
        "siret": "73282932000074",
        "raison_sociale": f"Association n° {number}",
        "intitule_projet": f"Projet {number}",
        "email": "contact@example.org",
    }
    base.update(values)
    return deposits.file_deposit(db, base, Decimal("1234.5"), None).ref


# -- dashboard --------------------------------------------------------------------------


def test_dashboard_shows_feature_token_calls_and_deposits(auth, client, db):
    file(db, 1)
    journal_row(db, request_id="req-ok")
    journal_row(db, status=503, error_code="00503", request_id="req-ko", kind="unavailable")
    page = text(client.get("/admin/"))
    assert "Activée" in page and "Mode démonstration" in page
    assert "Jeton d'accès" in page and "se termine par" in page and "expire le" in page
    assert "Dernier succès" in page and "Dernier échec" in page
    assert "HTTP 503" in page and "req-ko" in page
    assert "(fournisseur indisponible)" in page  # the kind in words, not "unavailable"
    assert "Refus d'appel notés (24 h)</dt> <dd>aucun</dd>" in page
    assert "0 appel dans la dernière minute, sur 200 permis" in page
    assert "1 demande déposée" in page and 'href="/admin/demandes"' in page
    assert "Connexion réussie" in page  # alice's login in the recent activity


def test_dashboard_shows_refused_lookups_and_a_suspension_after_a_429(auth, client, db):
    for _ in range(3):
        journal_row(
            db,
            status=None,
            duration_ms=None,
            request_id=None,
            kind="client_share_spent",
            refused=True,
        )
    budget.try_acquire(db, per_minute=200)
    budget.block_until(db, time.time() + 600)
    page = text(client.get("/admin/"))
    assert "1 appel dans la dernière minute" in page
    assert "Appels suspendus jusqu'au" in page
    assert 'href="/admin/journal?statut=refuse">3</a>' in page


def test_dashboard_names_the_providers_held_back_and_a_documents_suspension(auth, client, db):
    assert "Fournisseurs de données</dt> <dd>tous répondent normalement" in text(
        client.get("/admin/")
    )
    policy = circuit.CircuitPolicy(threshold=1, cooldown=60)
    circuit.record_failure(db, "urssaf", policy, now=time.time())
    circuit.record_failure(db, "insee", policy, now=time.time() - 120)  # its cool-down is over
    budget.block_until(db, time.time() + 600, bucket="documents")
    page = text(client.get("/admin/"))
    assert "Urssaf (attestation de vigilance)</strong>\u202f: appels suspendus" in page
    assert "INSEE (répertoire Sirene" in page and "un appel d'essai vérifie" in page
    assert "DGFiP" not in page.split("Fournisseurs de données")[1].split("</dd>")[0]
    assert "Attestations suspendues jusqu'au" in page
    assert "tous répondent normalement" not in page


def test_dashboard_when_feature_is_off(auth, app, client, db):
    settings.save(db, {"enabled": False}, actor="test")
    page = text(client.get("/admin/"))
    assert "Désactivée" in page and "entièrement manuel" in page


def test_dashboard_when_enabled_without_token(auth, client, db):
    settings.save(db, {"token": ""}, actor="test")
    page = text(client.get("/admin/"))
    assert "Activée mais incomplète" in page and "Aucun jeton enregistré" in page
    assert 'class="token-banner warning"' in page


# -- deposits ---------------------------------------------------------------------------


def test_deposits_list_is_paginated_by_50(auth, client, db):
    for number in range(120):
        file(db, number)
    first = text(client.get("/admin/demandes"))
    assert "120 demandes au total, page 1 sur 3" in first
    assert first.count('href="/admin/demandes/AIDE-') == 50
    assert "Page suivante" in first and "Page précédente" not in first
    last = text(client.get("/admin/demandes?page=3"))
    assert last.count('href="/admin/demandes/AIDE-') == 20
    assert "Page précédente" in last and "Page suivante" not in last
    assert text(client.get("/admin/demandes?page=99")).count("/admin/demandes/AIDE-") == 20
    assert client.get("/admin/demandes?page=abc").status_code == 200


def test_deposits_list_columns(auth, client, db):
    ref = file(db, 7)
    page = text(client.get("/admin/demandes"))
    assert ref in page
    assert "732 829 320 00074" in page
    assert "Association n° 7" in page and "Projet 7" in page
    assert "1\u202f234,50\u00a0€" in page


def test_deposit_detail_shows_values_prefilled_and_changed_fields_and_snapshot(auth, client, db):
    values = {
        "siret": "73282932000074",
        "raison_sociale": "Les Jardins Partagés (nouveau nom)",
        "commune": "RENNES",
        "email": "elise@example.org",
        "intitule_projet": "Jardin",
    }
    snapshot = {
        "payload": {"etablissement": {"data": {"siret": "73282932000074"}}},
        "prefilled": {
            "siret": "73282932000074",
            "raison_sociale": "LES JARDINS PARTAGES",
            "commune": "RENNES",
        },
    }
    ref = deposits.file_deposit(db, values, Decimal("500"), snapshot).ref
    response = client.get(f"/admin/demandes/{ref}")
    page = text(response)
    assert response.status_code == 200
    assert "Les Jardins Partagés (nouveau nom)" in page
    assert (
        "Modifié par le demandeur" in page and "Valeur proposée\u202f: LES JARDINS PARTAGES" in page
    )
    assert page.count("Pré-rempli</span>") == 2  # siret and commune, unchanged
    assert "elise@example.org" in page
    assert "3 champs pré-remplis depuis API Entreprise, dont 1 modifié" in page
    assert '"siret": "73282932000074"' in page  # the snapshot
    viewed = list(db.query("SELECT * FROM admin_events WHERE event = 'deposit_viewed'"))
    assert viewed and viewed[0]["detail"] == ref and viewed[0]["username"] == "alice"


def test_deposit_page_shows_values_in_words_not_raw_codes(auth, client, db):
    values = {
        "siret": "73282932000074",
        "raison_sociale": "LES JARDINS PARTAGES",
        "date_creation": "2019-05-01",
        "siege_social": "oui",
        "montant_demande": "1234.5",
        "consentement": "y",
        "sigle": "",  # left empty by the applicant
    }
    snapshot = {
        "payload": {},
        "prefilled": {"siret": "73282932000074", "date_creation": "2019-05-01"},
    }
    ref = deposits.file_deposit(db, values, Decimal("1234.50"), snapshot).ref
    db.execute("UPDATE deposits SET created_at = '2026-11-30T13:05:00+00:00' WHERE ref = ?", [ref])
    page = text(client.get(f"/admin/demandes/{ref}"))
    filed_at = "30 novembre 2026 à 14\u00a0h\u00a005"  # Paris time (UTC+1 in winter)
    assert f"Déposée le {filed_at}." in page
    row = re.compile(r'<th scope="row">([^<]+)</th>\s*<td>([^<]*)</td>')
    shown = dict(row.findall(page))
    assert shown["Consentement à l'utilisation des données"] == f"donné le {filed_at}"
    assert shown["Date de création"] == "1er mai 2019"
    assert shown["Numéro SIRET"] == "732 829 320 00074"
    assert shown["Siège social"] == "Oui"
    assert shown["Montant demandé"] == "1\u202f234,50\u00a0€"
    assert "2019-05-01" not in page.split('id="snapshot-title"')[0] and ": y<" not in page
    sigle = re.search(r'<th scope="row">Sigle</th>\s*<td>(.*?)</td>\s*<td>(.*?)</td>', page, re.S)
    assert "Non renseigné" in sigle.group(1) and "Saisi" not in sigle.group(2)
    assert "2 champs pré-remplis depuis API Entreprise, aucun modifié par le demandeur." in page


def test_deposit_filed_with_a_replaced_siret_warns_the_instructor(auth, client, db):
    # The applicant kept the old SIRET; the directory answered for its successor.
    snapshot = {
        "payload": {"etablissement": {"data": {"siret": "99989017100021"}}},
        "prefilled": {"commune": "ANGERS"},
        "answered_siret": "99989017100021",
    }
    values = {"siret": "99989017100013", "commune": "ANGERS", "intitule_projet": "Atelier"}
    ref = deposits.file_deposit(db, values, Decimal("900"), snapshot).ref
    page = text(client.get(f"/admin/demandes/{ref}"))
    assert "Le SIRET déposé (999 890 171 00013) a été remplacé" in page
    assert "par le SIRET <strong>999 890 171 00021</strong>" in page
    plain = file(db, 2)
    assert "a été remplacé dans le répertoire" not in text(client.get(f"/admin/demandes/{plain}"))


def test_deposit_without_prefill(auth, client, db):
    ref = file(db, 1)
    page = text(client.get(f"/admin/demandes/{ref}"))
    assert "Aucun champ pré-rempli" in page
    assert "la demande a été remplie sans pré-remplissage" in page


def test_unknown_deposit_is_404(auth, client):
    assert client.get("/admin/demandes/AIDE-2026-XXXX-XXXX-XXXX").status_code == 404


def test_deposits_require_login(app):
    client = app.test_client()
    assert client.get("/admin/demandes").status_code == 303
    assert client.get("/admin/demandes/AIDE-2026-XXXX-XXXX-XXXX").status_code == 303


# -- guide ------------------------------------------------------------------------------


def test_guide_walks_through_the_habilitation(client):
    response = client.get("/admin/guide-jeton")
    page = text(response)
    assert response.status_code == 200
    assert "Obtenir et renouveler le jeton" in page
    assert "DataPass" in page and "SIRET de votre organisation" in page
    assert "décret n° 2019-31 du 18 janvier 2019" in page
    assert 'href="https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000038029589"' in page
    assert "agents instructeurs" in page and "36 mois" in page
    assert "protection des données" in page
    assert "contact technique" in page and "contact métier" in page
    assert "tableau de bord de votre" in page
    assert "nouvelle demande" in page and "Jeton d'accès" in page


def test_guide_is_linked_from_settings_and_banner(auth, client, db):
    settings.save(db, {"token": mint_token(["open_data"], expires_in=10 * 86400)}, actor="t")
    page = text(client.get("/admin/parametres"))
    banner = re.search(r'<section class="token-banner.*?</section>', page, re.S).group(0)
    assert 'href="/admin/guide-jeton"' in banner
    assert page.count('href="/admin/guide-jeton"') >= 3  # nav, banner, page text


def test_snapshot_json_is_escaped(auth, client, db):
    snapshot = {"payload": {"x": "<script>alert(1)</script>"}, "prefilled": {}}
    ref = deposits.file_deposit(db, {"siret": "1"}, Decimal("1"), snapshot).ref
    raw = client.get(f"/admin/demandes/{ref}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
