"""Accessibility defects from the audit (issue 11), checked on the HTML the portal serves:
the tiers warnings in the aria-live status, the required consent, the demo banner in a
landmark, French typography."""

from __future__ import annotations

import re

import pytest

from tests.applicant.htmx_helpers import COMPLETE_FORM, complete_form, csrf_token, lookup_post

HX = {"HX-Request": "true", "HX-Target": "tiers-block", "HX-Trigger": "f-siret"}
HEAD_OFFICE = "99912340900016"
SECONDARY = "99912340900024"
CLOSED = "99923451100023"
CEASED = "99934562200016"
PARTIAL = "99956784500014"
REDIRECTED = "99989017100013"

WARNINGS = {
    SECONDARY: "Cet établissement est un établissement secondaire",
    CLOSED: "Cet établissement est fermé depuis le 30/06/2023",
    CEASED: "Cette entreprise a cessé son activité",
    PARTIAL: "n'est pas diffusée publiquement",
    REDIRECTED: "a été remplacé dans le répertoire Sirene",
}
IDS = ["secondary", "closed", "ceased", "partial", "transferred"]


def collapsed(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("&#39;", "'"))


def live_status(page: str) -> str:
    """The content of the aria-live status: in the page, or the fragment's out-of-band div."""
    match = re.search(
        r'<div id="siret-status" (?:role="status" aria-live="polite"|hx-swap-oob="innerHTML")>'
        r"(.*?)</div>",
        page,
        re.S,
    )
    assert match, page[-2000:]
    return collapsed(match.group(1))


@pytest.mark.parametrize("siret", list(WARNINGS), ids=IDS)
def test_the_tiers_warnings_are_in_the_live_status_of_the_fragment(client, siret):
    page = client.get(f"/demande/tiers?siret={siret}", headers=HX).get_data(as_text=True)
    status = live_status(page)
    assert WARNINGS[siret] in status
    assert 'class="status warning"' in status


@pytest.mark.parametrize("siret", list(WARNINGS), ids=IDS)
def test_the_tiers_warnings_are_in_the_live_status_of_the_page(client, siret):
    page = client.get(f"/demande/tiers?siret={siret}").get_data(as_text=True)
    assert 'role="status" aria-live="polite"' in page
    status = live_status(page)
    assert WARNINGS[siret] in status
    assert 'class="status warning"' in status


def test_the_posted_lookup_fragment_announces_the_warning_once(client):
    page = lookup_post(client, {"siret": CLOSED}, headers=HX).get_data(as_text=True)
    assert WARNINGS[CLOSED] in live_status(page)
    assert collapsed(page).count(WARNINGS[CLOSED]) == 1  # said once, in the status


def test_a_head_office_has_no_warning(client):
    page = client.get(f"/demande/tiers?siret={HEAD_OFFICE}", headers=HX).get_data(as_text=True)
    status = live_status(page)
    assert "Informations publiques trouvées" in status
    assert "warning" not in status


def test_the_consent_checkbox_is_required(client):
    page = client.get("/demande").get_data(as_text=True)
    checkbox = re.search(r'<input type="checkbox" id="f-consentement"[^>]*>', page, re.S)[0]
    assert re.search(r"\srequired[\s>]", checkbox)
    assert 'aria-required="true"' in checkbox


def test_the_demo_banner_is_inside_a_named_landmark(client):
    page = client.get("/demande").get_data(as_text=True)
    banner = re.search(r"<(\w+) class=\"demo-banner\"([^>]*)>(.*?)</\1>", page, re.S)
    assert banner, "no demo banner in demonstration mode"
    tag, attributes, content = banner.groups()
    assert tag == "section"  # a section with an accessible name is a region landmark
    labelled_by = re.search(r'aria-labelledby="([^"]+)"', attributes)[1]
    assert f'id="{labelled_by}"' in content
    assert "Démonstration" in content
    assert "role=" not in attributes  # no role overriding the region


def test_the_error_summary_counts_fields_with_a_real_plural(client):
    token = csrf_token(client)
    several = client.post("/demande", data={"csrf_token": token}).get_data(as_text=True)
    assert "(s)" not in collapsed(several)
    assert re.search(r"\b\d+ champs à corriger", several)
    data = complete_form(csrf_token(client), email="pas-une-adresse")
    one = client.post("/demande", data=data).get_data(as_text=True)
    assert "1 champ à corriger" in one


def test_the_receipt_shows_yes_and_active_capitalised(client):
    data = {**COMPLETE_FORM, "siege_social": "oui", "etat_administratif": "actif"}
    response = client.post("/demande", data={**data, "csrf_token": csrf_token(client)})
    assert response.status_code == 303
    receipt = collapsed(client.get(response.headers["Location"]).get_data(as_text=True))
    assert re.search(r"<dd>Oui\s*</dd>", receipt)
    assert re.search(r"<dd>Actif\s*</dd>", receipt)
