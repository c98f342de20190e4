"""A new lookup replaces the previous prefill, never the applicant's own values (issue 11).

Whether a value is the applicant's is decided on the server: the posted value against the
value the previous signed snapshot says the API proposed. Both paths: the htmx live lookup
(POST /demande/tiers with the tiers block and its snapshot) and the no-JS "Pré-remplir".
"""

from __future__ import annotations

import json
import re

import pytest

from portail.core.tiers import TIERS_FIELDS as TIERS
from portail.storage import settings
from tests.applicant.htmx_helpers import complete_form, csrf_token, lookup_post
from tests.applicant.test_deposit_prefill import form_fields, input_value, text

KEY = "test-secret-key-not-for-production"
HEAD_OFFICE = "99912340900016"  # enseigne VAL FLEURI, PARIS
SECONDARY = "99912340900024"  # enseigne VAL FLEURI LYON, LYON
UNKNOWN = "89923450400012"  # valid, answered 404
PROVIDER_DOWN = "89978915000013"  # answered 502
RATE_LIMITED = "89956783800011"  # answered 429
FOREIGN = "99978906800023"  # LONDRES, Royaume-Uni


def status_of(page: str) -> str:
    found = re.search(r'<div id="siret-status"[^>]*>(.*?)</div>', page, re.S)
    # Only ASCII white space is collapsed: the narrow no-break spaces are part of the text.
    return re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", found[1])).strip()


def live(client, siret: str, block: dict | None = None) -> str:
    """The htmx lookup as the page sends it: the SIRET, the tiers block and its snapshot."""
    return text(lookup_post(client, {**(block or {}), "siret": siret}))


def no_js(client, siret: str, block: dict | None = None) -> str:
    """The no-JS "Pré-remplir": the whole form posted to /demande (the applicant's own
    section filled in, the tiers block as `block` holds it)."""
    applicant = {k: v for k, v in complete_form(csrf_token(client)).items() if k not in TIERS}
    data = {**applicant, **(block or {}), "siret": siret}
    return text(client.post("/demande", data={**data, "action": "prefill"}))


def block_of(page: str) -> dict[str, str]:
    fields = form_fields(page)
    fields.pop("siret", None)
    # A whole page carries a fresh CSRF token, signed with the second it was made.
    fields.pop("csrf_token", None)
    return fields


PATHS = pytest.mark.parametrize("path", [live, no_js], ids=["htmx", "no-js"])


@PATHS
def test_a_siret_not_found_clears_the_previous_prefill_and_keeps_the_edits(client, path):
    first = block_of(path(client, HEAD_OFFICE))
    assert first["enseigne"] == "VAL FLEURI"
    edited = {**first, "enseigne": "VAL FLEURI ATELIERS", "sigle": ""}
    page = path(client, UNKNOWN, edited)
    after = block_of(page)
    assert after["enseigne"] == "VAL FLEURI ATELIERS"  # the applicant's correction stays
    for name in ("raison_sociale", "code_postal", "commune", "adresse_voie", "siret_siege"):
        assert after[name] == "", name  # the previous organisation's values are gone
    assert after["siege_social"] == "" and after["etat_administratif"] == ""
    assert after["pays"] == "France"  # the form's default, as on an empty form
    assert after["prefill_snapshot"] == ""  # it described the values just removed
    status = status_of(page)
    removed = "Les informations pré-remplies pour le SIRET précédent (999 123 409 00016) ont été"
    assert f"{removed} retirées." in status
    assert status.endswith("Votre modification a été conservée\u202f: Enseigne.")
    assert "Pré-rempli depuis" not in page


@PATHS
def test_another_siret_found_replaces_the_prefill_but_not_the_edits(client, path, db):
    first = block_of(path(client, HEAD_OFFICE))
    edited = {**first, "enseigne": "MON ENSEIGNE", "adresse_numero": "22 ter"}
    page = path(client, SECONDARY, edited)
    after = block_of(page)
    assert after["commune"] == "LYON" and after["code_postal"] == "69003"
    assert after["siege_social"] == "non"
    assert after["enseigne"] == "MON ENSEIGNE" and after["adresse_numero"] == "22 ter"
    assert "Vos 2 modifications ont été conservées\u202f: Enseigne, Numéro de voie." in status_of(
        page
    )
    assert "«\u202fVAL FLEURI LYON\u202f»" in page  # beside the kept value: the API's answer
    assert "«\u202f145\u202f»" in page
    # Filing records the kept values as the applicant's changes to SECONDARY's answer.
    form = {**complete_form(csrf_token(client)), **after, "siret": SECONDARY}
    assert client.post("/demande", data=form).status_code == 303
    row = next(db.query("SELECT * FROM deposits"))
    assert json.loads(row["changed_fields_json"]) == ["adresse_numero", "enseigne"]
    assert json.loads(row["prefilled_json"])["enseigne"] == "VAL FLEURI LYON"


@PATHS
def test_looking_the_same_siret_up_again_keeps_the_corrections(client, path):
    first = block_of(path(client, HEAD_OFFICE))
    page = path(client, HEAD_OFFICE, {**first, "commune": "PARIS 12E", "telephone": "x"})
    after = block_of(page)
    assert after["commune"] == "PARIS 12E"
    assert after["raison_sociale"] == "ATELIERS DU VAL FLEURI"
    assert status_of(page).endswith("Votre modification a été conservée\u202f: Commune.")
    assert "Modifié par vous. Valeur d'API Entreprise\u202f: «\u202fPARIS\u202f»." in page


def test_values_typed_before_any_prefill_are_kept_but_not_defaults_nor_emptied_ones(client):
    page = live(client, HEAD_OFFICE, {"sigle": "VF", "pays": "France", "commune": ""})
    after = block_of(page)
    assert after["sigle"] == "VF" and after["commune"] == "PARIS"
    assert status_of(page).endswith("Votre modification a été conservée\u202f: Sigle.")
    # An emptied field takes the new answer: there is nothing of the applicant's to keep.
    after = block_of(live(client, SECONDARY, {**after, "sigle": ""}))
    assert after["sigle"] == "AVF"
    # "France" was in the field before anyone typed: a foreign answer replaces it silently.
    page = live(client, FOREIGN, {"pays": "France", "sigle": "VF"})
    assert block_of(page)["pays"] == "Royaume-Uni"
    assert "Pays" not in status_of(page) and "Sigle." in status_of(page)


@pytest.mark.parametrize("failing", [PROVIDER_DOWN, RATE_LIMITED])
def test_a_failed_lookup_of_another_siret_never_erases_what_was_typed(client, failing):
    first = block_of(live(client, HEAD_OFFICE))
    edited = {**first, "enseigne": "VAL FLEURI ATELIERS", "rna": "W123456789"}
    page = live(client, failing, edited)
    after = block_of(page)
    assert after["enseigne"] == "VAL FLEURI ATELIERS" and after["rna"] == "W123456789"
    assert after["commune"] == ""  # PARIS was the head office's, not this SIRET's
    assert "Vos 2 modifications ont été conservées\u202f: Enseigne, Numéro RNA." in page


@PATHS
def test_a_failed_lookup_of_the_same_siret_changes_nothing(client, db, path):
    first = block_of(path(client, HEAD_OFFICE))
    edited = {**first, "enseigne": "VAL FLEURI ATELIERS"}
    # The API unreachable (and the cache keyed by its URL: nothing cached for this one).
    settings.save(db, {"api_url": "http://127.0.0.1:9"}, actor="test")
    page = path(client, HEAD_OFFICE, edited)
    after = block_of(page)
    assert after == edited  # every value and the snapshot as posted
    assert "conservée" not in status_of(page) and "retirées" not in status_of(page)
    # The page still shows which values came from the API, and which one is the applicant's.
    assert "Pré-rempli depuis API Entreprise" in page
    assert "Modifié par vous. Valeur d'API Entreprise\u202f: «\u202fVAL FLEURI\u202f»." in page


def test_the_announcement_is_in_the_live_status(client):
    first = block_of(live(client, HEAD_OFFICE))
    page = live(client, UNKNOWN, {**first, "enseigne": "X", "sigle": "Y", "commune": "Z"})
    oob = re.search(r'<div id="siret-status" hx-swap-oob="innerHTML">(.*?)</div>', page, re.S)
    assert "Vos 3 modifications ont été conservées\u202f: Sigle, Enseigne, Commune." in oob[1]
    assert "champ(s)" not in oob[1] and "modification(s)" not in oob[1]
    assert input_value(page, "commune") == "Z"
