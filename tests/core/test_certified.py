"""Declared against certified: what counts as a difference, each normalisation, the verdict."""

from __future__ import annotations

import copy

import pytest

from portail.apientreprise.sandbox import association_payload, etablissement_payload
from portail.core import certified
from portail.core.certified import (
    DIFFERENT,
    NOT_CERTIFIED,
    NOT_DECLARED,
    SAME,
    STATE_CLOSED,
    STATE_DIFFERENCES,
    STATE_MATCH,
    CertifiedCheck,
    comparable,
    compare,
    field_status,
    review,
)
from portail.core.tiers import TIERS_FIELDS, tiers_from_etablissement

HEAD_OFFICE = "99912340900016"  # the sandbox's SAS, commune PARIS 12
ASSOCIATION = "89967895700015"
CLOSED = "99923451100023"
CEASED = "99934562200016"
PARTIAL = "99956784500014"
TRANSFERRED = "99989017100013"
SUCCESSOR = "99989017100021"


def protected(siret: str) -> dict:
    return etablissement_payload(siret, protected=True)


def declared_as_certified(siret: str) -> dict[str, str]:
    """What an applicant who copied the directory exactly would have filed."""
    return tiers_from_etablissement(protected(siret), siret).form_values()


@pytest.mark.parametrize(
    ("name", "declared", "certified_value"),
    [
        ("raison_sociale", "Ateliers du Val Fleuri", "ATELIERS DU VAL FLEURI"),
        ("raison_sociale", "Œuvre de l'Église", "OEUVRE DE L EGLISE"),
        ("raison_sociale", "  Les   Ateliers  ", "LES ATELIERS"),
        ("raison_sociale", "A.B.C. - Conseil", "ABC CONSEIL"),
        ("commune", "PARIS 12", "PARIS"),
        ("commune", "Paris 12e Arrondissement", "PARIS"),
        ("commune", "Paris 1er", "Paris"),
        ("commune", "LYON 3EME", "Lyon"),
        ("commune", "Marseille 8ème arrondissement", "MARSEILLE"),
        ("commune", "Saint-Étienne", "SAINT ETIENNE"),
        ("code_naf", "84.11Z", "8411Z"),
        ("code_naf", "8411z", "84.11Z"),
        ("code_postal", "75 012", "75012"),
        ("siret", "999 123 409 00016", "99912340900016"),
        ("siret_siege", "999.123.409.00016", "99912340900016"),
        ("adresse_numero", "22 BIS", "22 bis"),
        ("adresse_numero", "22b", "22 bis"),
        ("adresse_voie", "Bd des Jardiniers", "BOULEVARD DES JARDINIERS"),
        ("adresse_voie", "rue de l'Église", "RUE DE L EGLISE"),
        ("date_creation", "01/03/2016", "2016-03-01"),
        ("pays", "france", "France"),
        ("sigle", "", ""),
        ("rna", None, ""),
    ],
)
def test_these_are_not_differences(name, declared, certified_value):
    assert field_status(name, declared, certified_value) == SAME


@pytest.mark.parametrize(
    ("name", "declared", "certified_value"),
    [
        ("raison_sociale", "Ateliers du Val", "ATELIERS DU VAL FLEURI"),
        ("commune", "PARIS", "LYON"),
        ("commune", "Paris 12", "Lyon 3"),
        ("commune", "Villeneuve 12", "Villeneuve"),  # only Paris, Lyon, Marseille
        ("code_naf", "84.11Z", "84.12Z"),
        ("code_postal", "75012", "75011"),
        ("siret", "99989017100013", "99989017100021"),
        ("adresse_numero", "22", "22 bis"),
        ("date_creation", "2016-03-02", "2016-03-01"),
        ("etat_administratif", "actif", "fermé"),
    ],
)
def test_these_are_differences(name, declared, certified_value):
    assert field_status(name, declared, certified_value) == DIFFERENT


def test_a_value_on_one_side_only_is_not_a_difference():
    assert field_status("sigle", "", "AVF") == NOT_DECLARED
    assert field_status("sigle", "  ", "AVF") == NOT_DECLARED
    assert field_status("enseigne", "Val Fleuri", "") == NOT_CERTIFIED


def test_comparable_forms():
    assert comparable("commune", "Paris 12e Arrondissement") == "paris"
    assert comparable("code_naf", "84.11Z") == comparable("code_naf", "8411Z") == "8411Z"
    assert comparable("code_postal", "75 012") == "75012"
    assert comparable("raison_sociale", "L'Œuvre, Éclairée !") == "l oeuvre eclairee"
    assert comparable("raison_sociale", None) == ""


def test_an_applicant_who_copied_the_directory_matches():
    comparison = compare(declared_as_certified(HEAD_OFFICE), protected(HEAD_OFFICE))
    assert [row.name for row in comparison.rows] == list(TIERS_FIELDS)
    assert comparison.differences == ()
    assert comparison.state == STATE_MATCH
    assert not comparison.closed


def test_normalised_declarations_still_match():
    declared = declared_as_certified(HEAD_OFFICE)
    declared.update(
        raison_sociale=declared["raison_sociale"].title(),
        commune="Paris 12e Arrondissement",
        code_naf=declared["code_naf"].replace(".", ""),
        code_postal=declared["code_postal"][:2] + " " + declared["code_postal"][2:],
        adresse_voie=declared["adresse_voie"].lower(),
    )
    comparison = compare(declared, protected(HEAD_OFFICE))
    assert comparison.state == STATE_MATCH, comparison.differences


def test_one_real_difference_makes_the_state_differences():
    declared = declared_as_certified(HEAD_OFFICE)
    declared["code_postal"] = "75011"
    comparison = compare(declared, protected(HEAD_OFFICE))
    assert [row.name for row in comparison.differences] == ["code_postal"]
    row = comparison.differences[0]
    assert row.status_label == "Écart" and row.declared == "75011"
    assert comparison.state == STATE_DIFFERENCES


def test_a_closed_establishment_is_closed_whatever_the_fields():
    comparison = compare(declared_as_certified(CLOSED), protected(CLOSED))
    assert comparison.tiers.etat_administratif == "fermé"
    assert comparison.tiers.closed_on == "2023-06-30"
    assert comparison.differences == ()
    assert comparison.state == STATE_CLOSED


def test_a_ceased_company_is_closed():
    comparison = compare(declared_as_certified(CEASED), protected(CEASED))
    assert comparison.tiers.company_ceased
    assert comparison.state == STATE_CLOSED


def test_a_ceased_company_with_an_open_establishment_is_still_closed():
    body = copy.deepcopy(protected(HEAD_OFFICE))
    body["data"]["unite_legale"]["etat_administratif"] = "C"
    body["data"]["unite_legale"]["date_cessation"] = 1_700_000_000
    comparison = compare(declared_as_certified(HEAD_OFFICE), body)
    assert comparison.tiers.etat_administratif == "actif"
    assert comparison.state == STATE_CLOSED
    assert comparison.ceased_on == "2023-11-14"


def test_a_transferred_establishment_shows_the_answered_siret_as_a_difference():
    declared = declared_as_certified(TRANSFERRED)
    declared["siret"] = TRANSFERRED  # as filed
    comparison = compare(declared, protected(TRANSFERRED))
    assert comparison.tiers.redirected_from == TRANSFERRED
    assert comparison.tiers.siret == SUCCESSOR
    assert [row.name for row in comparison.differences] == ["siret"]
    assert comparison.state == STATE_DIFFERENCES


def test_a_partially_diffusible_entity_gives_its_protected_values_to_the_agent():
    comparison = compare({"siret": PARTIAL}, protected(PARTIAL))
    values = comparison.tiers.form_values()
    assert comparison.tiers.partially_diffusible
    assert values["adresse_voie"] == "CHEMIN DES VIGNES" and values["code_postal"] == "26400"
    assert values["raison_sociale"] == "LEROUX Jean-Baptiste"
    # What the applicant could not see is "not declared", not a difference.
    statuses = {row.name: row.status for row in comparison.rows}
    assert statuses["code_postal"] == NOT_DECLARED
    assert comparison.state == STATE_MATCH


def test_an_association_is_completed_from_its_protected_record():
    body = protected(ASSOCIATION)
    association = association_payload(ASSOCIATION[:9], protected=True)
    comparison = compare({"siret": ASSOCIATION}, body, association)
    values = comparison.tiers.form_values()
    assert values["rna"] and values["objet_association"]
    assert comparison.tiers.is_association


def test_review_of_a_stored_check():
    assert review(None, {}) is None
    failed_only = CertifiedCheck(ref="R", siret=HEAD_OFFICE, failed_at="2026-01-01T00:00:00")
    assert review(failed_only, {}).comparison is None
    stored = CertifiedCheck(
        ref="R", siret=HEAD_OFFICE, checked_at="2026-01-01", etablissement=protected(HEAD_OFFICE)
    )
    seen = review(stored, declared_as_certified(HEAD_OFFICE))
    assert seen.comparison.state == STATE_MATCH
    broken = CertifiedCheck(ref="R", checked_at="2026-01-01", etablissement={"data": {}})
    assert review(broken, {}).unreadable


def test_empty_on_both_sides_says_so():
    comparison = compare(declared_as_certified(HEAD_OFFICE), protected(HEAD_OFFICE))
    rna = next(row for row in comparison.rows if row.name == "rna")
    assert rna.status == SAME and rna.status_label == "Vide des deux côtés"
    assert certified.STATE_LABELS[comparison.state].startswith("Conforme")


@pytest.mark.parametrize(
    ("name", "declared", "certified"),
    [
        ("commune", "St Etienne", "SAINT-ETIENNE"),
        ("commune", "Ste Foy les Lyon", "SAINTE-FOY-LES-LYON"),
        ("commune", "Paris Cedex 12", "PARIS"),
        ("commune", "Lyon cedex", "LYON"),
        ("raison_sociale", "Dupont & Fils", "DUPONT ET FILS"),
        ("raison_sociale", "Jean Dupont", "DUPONT Jean"),  # a sole trader, as typed
    ],
)
def test_review_findings_are_not_differences(name, declared, certified):
    assert field_status(name, declared, certified) == SAME


@pytest.mark.parametrize(
    ("name", "declared", "certified"),
    [
        ("commune", "Saint-Étienne", "SAINT-CHAMOND"),
        ("commune", "Paris Cedex 12", "LYON"),
        ("raison_sociale", "Dupont & Fils", "DUPONT"),
        ("raison_sociale", "Jean Dupont", "DUPONT JEANNE"),
    ],
)
def test_the_new_rules_still_see_real_differences(name, declared, certified):
    assert field_status(name, declared, certified) == DIFFERENT
