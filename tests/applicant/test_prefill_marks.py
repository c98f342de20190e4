"""A refused submit keeps the prefill's marks and warnings (issue 11): the page is rendered
again from the signed snapshot the form posted, never from a new API call, and a field the
applicant changed shows as theirs, with the API's value beside it."""

from __future__ import annotations

import re

import pytest

from portail.storage import deposits
from tests.applicant.htmx_helpers import complete_form, csrf_token, lookup_post
from tests.applicant.test_deposit_prefill import form_fields, input_value, text

KEY = "test-secret-key-not-for-production"
HEAD_OFFICE = "99912340900016"
SECONDARY = "99912340900024"
CLOSED = "99923451100023"  # a closed secondary establishment
CEASED = "99934562200016"
PARTLY_PUBLIC = "99956784500014"
REDIRECTED = "99989017100013"
SUCCESSOR = "99989017100021"


def prefilled_block(client, siret: str) -> dict[str, str]:
    """The tiers block and its snapshot as the live lookup leaves them in the page."""
    return form_fields(text(lookup_post(client, {"siret": siret})))


def field_div(page: str, name: str) -> str:
    return re.search(rf'<div class="[^"]*">\s*<label for="f-{name}">.*?</div>', page, re.S)[0]


def prefilled_form(client, siret: str, token: str | None = None, **edits) -> dict[str, str]:
    """The whole form after a live lookup of `siret`, the e-mail missing, `edits` typed."""
    token = csrf_token(client) if token is None else token
    block = prefilled_block(client, siret)
    return {**complete_form(token), **block, "siret": siret, "email": "", **edits}


def refused_submit(client, siret: str, **edits):
    """File the prefilled form with the e-mail missing: 422."""
    return client.post("/demande", data=prefilled_form(client, siret, **edits))


def test_a_refused_submit_shows_the_marks_and_the_edited_field(client, db):
    data = prefilled_form(client, HEAD_OFFICE, enseigne="LE VAL FLEURI")
    journaled = db["api_journal"].count
    assert journaled == 1  # the live lookup
    response = client.post("/demande", data=data)
    assert db["api_journal"].count == journaled  # read from the snapshot: no call, no cache
    assert response.status_code == 422
    page = text(response)
    assert "error-summary" in page and db["deposits"].count == 0
    commune = field_div(page, "commune")
    assert 'class="field prefilled"' in commune
    assert "Pré-rempli depuis API Entreprise, modifiable." in commune
    assert 'aria-describedby="f-commune-hint f-commune-source"' in commune
    enseigne = field_div(page, "enseigne")
    assert input_value(enseigne, "enseigne") == "LE VAL FLEURI"
    assert "prefilled" not in enseigne and "Pré-rempli" not in enseigne
    assert 'class="field edited"' in enseigne
    note = re.search(r'<span class="hint" id="f-enseigne-source">([^<]*)</span>', enseigne)[1]
    assert note == "Modifié par vous. Valeur d'API Entreprise\u202f: «\u202fVAL FLEURI\u202f»."
    assert 'aria-describedby="f-enseigne-source"' in enseigne
    # A select gives the API's answer by its label, as the applicant reads it.
    select = field_div(
        text(refused_submit(client, HEAD_OFFICE, siege_social="non")), "siege_social"
    )
    assert "«\u202fOui\u202f»" in select
    # The snapshot travels on: filing from the refused page records the change.
    form = form_fields(page)
    form.update(email="paul.martin@example.org", consentement="y")
    assert client.post("/demande", data=form).status_code == 303
    row = next(db.query("SELECT prefilled_json, changed_fields_json FROM deposits"))
    assert '"enseigne": "VAL FLEURI"' in row["prefilled_json"]
    assert row["changed_fields_json"] == '["enseigne"]'


@pytest.mark.parametrize(
    ("siret", "notices"),
    [
        (SECONDARY, ["status-secondary"]),
        (CLOSED, ["status-closed", "status-secondary"]),
        (CEASED, ["status-closed"]),
        (PARTLY_PUBLIC, ["status-masked"]),
    ],
)
def test_a_refused_submit_repeats_the_establishment_warnings(client, siret, notices):
    page = text(refused_submit(client, siret))
    status = re.search(r'<div id="siret-status"[^>]*>(.*?)</div>', page, re.S)[1]
    assert re.findall(r'id="(status-\w+)"', status) == notices
    if siret == CEASED:
        assert "Entreprise cessée" in status


def test_a_refused_submit_of_a_transferred_siret_repeats_the_notice(client):
    # htmx: the field keeps the old SIRET.
    page = text(client.post("/demande", data=prefilled_form(client, REDIRECTED)))
    assert 'id="status-redirect"' in page and 'id="siret-redirect"' in page
    assert f'name="use_siret"\n            value="{SUCCESSOR}"' in page
    assert 'class="field prefilled"' in field_div(page, "commune")


def test_a_forged_or_mismatched_snapshot_shows_nothing(client):
    block = prefilled_form(client, CLOSED)
    sealed = block["prefill_snapshot"]
    genuine = text(client.post("/demande", data=block))
    assert "Pré-rempli depuis" in genuine and 'id="status-closed"' in genuine
    forged = sealed[:-3] + ("AAA" if not sealed.endswith("AAA") else "BBB")
    for data in (
        {**block, "prefill_snapshot": forged},
        {**block, "siret": HEAD_OFFICE},  # sealed for another SIRET
        {**block, "siret": "1234"},  # the SIRET itself is wrong
    ):
        response = client.post("/demande", data=data)
        assert response.status_code == 422
        page = text(response)
        assert "Pré-rempli depuis" not in page and "Modifié par vous" not in page
        assert "status-closed" not in page and "status-secondary" not in page
        assert input_value(page, "prefill_snapshot") == data["prefill_snapshot"]  # carried on
        assert input_value(page, "commune") == "RENNES"  # nothing typed is lost


def test_an_expired_session_keeps_the_marks_too(client):
    data = prefilled_form(client, CLOSED, token="stale", commune="SAINT-MALO")
    response = client.post("/demande", data=data)
    assert response.status_code == 422
    page = text(response)
    assert "Votre session a expiré" in page
    assert "Pré-rempli depuis" in field_div(page, "code_postal")
    assert "«\u202fRENNES\u202f»" in field_div(page, "commune")
    assert 'id="status-closed"' in page


def test_a_snapshot_that_no_longer_reads_shows_the_marks_without_warnings(client):
    sealed = deposits.seal_snapshot(
        KEY, HEAD_OFFICE, {"etablissement": {"data": 1}}, {"sigle": "X"}
    )
    data = {**complete_form(csrf_token(client)), "siret": HEAD_OFFICE, "sigle": "X", "email": ""}
    page = text(client.post("/demande", data={**data, "prefill_snapshot": sealed}))
    assert "Pré-rempli depuis" in field_div(page, "sigle")
    assert "status-" not in re.search(r'<div id="siret-status".*?</div>', page, re.S)[0]
