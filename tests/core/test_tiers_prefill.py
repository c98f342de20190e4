"""Prefill values that real payloads got wrong (issue 11): old NAF revisions, foreign addresses,
country names, special distribution, and whose headcount band is shown.

Each case starts from an établissement payload of the official v4 shape (the sandbox's
fictitious head office, validated against the schema by the contract tests) and changes only
the fields the case is about, as real payloads carry them.
"""

from __future__ import annotations

import copy

import pytest

from portail.apientreprise import sandbox
from portail.core.activity import is_old_naf
from portail.core.address import split_foreign_commune
from portail.core.tiers import country_name, tiers_from_etablissement

HEAD_OFFICE = "99912340900016"

OLD_NAF = {
    "code": "70.2C",
    "libelle": "ancienne révision NAF (NAF1993) non supportée",
    "nomenclature": "NAFRev1",
}
CURRENT_NAF = {
    "code": "68.20B",
    "libelle": "Location de terrains et d'autres biens immobiliers",
    "nomenclature": "NAFRev2",
}
BAND_10_19 = {
    "code": "11",
    "intitule": "10 à 19 salariés",
    "date_reference": "2023",
    "de": 10,
    "a": 19,
}
BAND_NULL = {"code": None, "intitule": None, "date_reference": None, "de": None, "a": None}
FOREIGN = {
    "numero_voie": None,
    "indice_repetition_voie": None,
    "type_voie": None,
    "libelle_voie": "MAINZER LANDSTRASSE 50",
    "complement_adresse": None,
    "code_commune": None,
    "code_postal": None,
    "distribution_speciale": None,
    "code_cedex": None,
    "libelle_cedex": None,
    "libelle_commune": None,
}


def payload(data=None, unite_legale=None, adresse=None) -> dict:
    """The sandbox head office's open data body with data, its unite_legale and adresse updated."""
    body = copy.deepcopy(sandbox.etablissement_payload(HEAD_OFFICE, protected=False))
    body["data"].update(data or {})
    body["data"]["unite_legale"].update(unite_legale or {})
    body["data"]["adresse"].update(adresse or {})
    return body


def prefill(body: dict) -> dict[str, str]:
    return tiers_from_etablissement(body, HEAD_OFFICE).form_values()


def foreign(commune, country="ALLEMAGNE", code="99109") -> dict:
    return {
        **FOREIGN,
        "libelle_commune_etranger": commune,
        "libelle_pays_etranger": country,
        "code_pays_etranger": code,
    }


ACTIVITY_CASES = {
    "old-revision-everywhere": (
        {"activite_principale": OLD_NAF},
        {"activite_principale": OLD_NAF},
        ("", ""),
    ),
    "old-told-by-label-only": (
        {"activite_principale": {**OLD_NAF, "nomenclature": None}},
        {"activite_principale": {**OLD_NAF, "nomenclature": None}},
        ("", ""),
    ),
    "old-told-by-nomenclature-only": (
        {
            "activite_principale": {
                "code": "7020",
                "libelle": "Agences immobilières",
                "nomenclature": "NAF1993",
            }
        },
        {"activite_principale": None},
        ("", ""),
    ),
    "old-told-by-code-only": (
        {"activite_principale": {"code": "702C", "libelle": None, "nomenclature": None}},
        {"activite_principale": None},
        ("", ""),
    ),
    "old-establishment-not-replaced-by-company": (
        {"activite_principale": OLD_NAF},
        {"activite_principale": CURRENT_NAF},
        ("", ""),
    ),
    "missing-establishment-old-company": (
        {"activite_principale": None},
        {"activite_principale": OLD_NAF},
        ("", ""),
    ),
    "current-revision-kept": (
        {"activite_principale": {**CURRENT_NAF, "code": "6820B"}},
        {"activite_principale": OLD_NAF},
        ("68.20B", "Location de terrains et d'autres biens immobiliers"),
    ),
    "naf-2025-kept": (
        {"activite_principale": {**CURRENT_NAF, "nomenclature": "NAF2025"}},
        {},
        ("68.20B", "Location de terrains et d'autres biens immobiliers"),
    ),
}


@pytest.mark.parametrize(
    ("data", "unite_legale", "expected"), ACTIVITY_CASES.values(), ids=ACTIVITY_CASES.keys()
)
def test_an_old_naf_revision_is_never_shown_as_the_activity(data, unite_legale, expected):
    values = prefill(payload(data, unite_legale))
    assert (values["code_naf"], values["libelle_naf"]) == expected


def test_old_naf_detection_does_not_flag_current_codes():
    assert is_old_naf(OLD_NAF)
    assert not is_old_naf(CURRENT_NAF)
    assert not is_old_naf({"code": "84.11Z", "libelle": "Administration publique générale"})
    assert not is_old_naf({})


ADDRESS_CASES = {
    "postcode-first": (foreign("60528 FRANKFURT AM MAIN"), "60528", "FRANKFURT AM MAIN"),
    "postcode-with-country-letters": (
        foreign("D-60528 FRANKFURT AM MAIN"),
        "D-60528",
        "FRANKFURT AM MAIN",
    ),
    "grouped-postcode": (foreign("00-950 WARSZAWA", "POLOGNE", "99122"), "00-950", "WARSZAWA"),
    "postcode-last": (foreign("NEW YORK 10001", "ETATS-UNIS", "99404"), "10001", "NEW YORK"),
    "no-postcode": (foreign("LONDRES", "ROYAUME-UNI", "99132"), "", "LONDRES"),
    "no-commune": (foreign(None, "ETATS-UNIS", "99404"), "", ""),
    "digits-belong-to-no-postcode": (foreign("1000", "BELGIQUE", "99131"), "", "1000"),
    "dutch-postcode-with-letters": (
        foreign("1012 AB AMSTERDAM", "PAYS-BAS", "99135"),
        "1012 AB",
        "AMSTERDAM",
    ),
    # Only the Netherlands' postcodes end with letters: LA is the commune's article here.
    "belgian-commune-with-an-article": (
        foreign("1310 LA HULPE", "BELGIQUE", "99131"),
        "1310",
        "LA HULPE",
    ),
    # The postcode in INSEE's own field when the commune label has none (Monaco).
    "postcode-in-its-own-field": (
        {**foreign("MONACO", "MONACO", "99138"), "code_postal": "98000"},
        "98000",
        "MONACO",
    ),
}


@pytest.mark.parametrize(
    ("adresse", "postcode", "commune"), ADDRESS_CASES.values(), ids=ADDRESS_CASES.keys()
)
def test_a_foreign_commune_gives_its_postcode_and_commune(adresse, postcode, commune):
    values = prefill(payload(adresse=adresse))
    assert (values["code_postal"], values["commune"]) == (postcode, commune)
    assert values["pays"] not in ("", "France")
    assert values["adresse_voie"] == "MAINZER LANDSTRASSE 50"


def test_split_foreign_commune_keeps_labels_without_a_postcode():
    assert split_foreign_commune("  60528   FRANKFURT AM MAIN ") == ("60528", "FRANKFURT AM MAIN")
    assert split_foreign_commune("SAINT-MARIN") == ("", "SAINT-MARIN")
    assert split_foreign_commune("") == ("", "")


COUNTRY_CASES = {
    "ETATS-UNIS": "États-Unis",
    "ALLEMAGNE": "Allemagne",
    "ROYAUME-UNI": "Royaume-Uni",
    "COTE D'IVOIRE": "Côte d'Ivoire",
    "REPUBLIQUE DEMOCRATIQUE DU CONGO": "République démocratique du Congo",
    "EMIRATS ARABES UNIS": "Émirats arabes unis",
    "Etats-Unis": "États-Unis",  # already in mixed case, still without its accent
    "États-Unis": "États-Unis",
    "SAO TOME-ET-PRINCIPE": "Sao Tomé-et-Principe",
    "ERYTHREE": "Érythrée",
    "CONGO (REPUBLIQUE DEMOCRATIQUE)": "République démocratique du Congo",
    "ATLANTIDE": "Atlantide",  # in no INSEE list: title-cased
}


@pytest.mark.parametrize(("insee", "expected"), COUNTRY_CASES.items(), ids=COUNTRY_CASES.keys())
def test_countries_have_their_french_names(insee, expected):
    assert prefill(payload(adresse=foreign("BERLIN", insee, code=None)))["pays"] == expected
    assert country_name(insee) == expected


CODED_COUNTRY_CASES = {
    "the-code-names-the-country": (foreign("ASMARA", "ERYTHREE", "99317"), "Érythrée"),
    "the-code-over-a-stray-label": (foreign("TORTOLA", "ETATS-UNIS", "99109"), "Allemagne"),
    "the-code-alone": (
        foreign("TORTOLA", None, "99425"),
        "Territoires britanniques dans les Antilles et Bermudes",
    ),
    "a-territory-of-the-code": (
        foreign("ROAD TOWN", "ILES VIERGES BRITANNIQUES", "99425"),
        "Îles Vierges britanniques",
    ),
    "a-withheld-label-withholds-the-code": (foreign("ASMARA", "[ND]", "99317"), ""),
}


@pytest.mark.parametrize(
    ("adresse", "expected"), CODED_COUNTRY_CASES.values(), ids=CODED_COUNTRY_CASES.keys()
)
def test_the_insee_code_of_the_country_is_used(adresse, expected):
    assert prefill(payload(adresse=adresse))["pays"] == expected


COMPLEMENT_CASES = {
    "joined-with-the-complement": (
        {"complement_adresse": "BATIMENT B", "distribution_speciale": "BP 4087"},
        "BATIMENT B, BP 4087",
    ),
    "alone": ({"complement_adresse": None, "distribution_speciale": "BP 4087"}, "BP 4087"),
    "already-in-the-complement": (
        {"complement_adresse": "BATIMENT B BP 4087", "distribution_speciale": "BP 4087"},
        "BATIMENT B BP 4087",
    ),
    "none": ({"complement_adresse": "BATIMENT B", "distribution_speciale": None}, "BATIMENT B"),
    "withheld": ({"complement_adresse": "BATIMENT B", "distribution_speciale": "[ND]"}, ""),
}


@pytest.mark.parametrize(
    ("adresse", "expected"), COMPLEMENT_CASES.values(), ids=COMPLEMENT_CASES.keys()
)
def test_special_distribution_joins_the_complement(adresse, expected):
    result = tiers_from_etablissement(payload(adresse=adresse), HEAD_OFFICE)
    assert result.adresse_complement == expected
    assert ("adresse_complement" in result.masked_fields) is (expected == "")
    assert "[ND]" not in repr(result)


HEADCOUNT_CASES = {
    "head-office-own-band": (True, "A", BAND_10_19, "10 à 19 salariés (établissement)"),
    "head-office-company-band": (True, "A", BAND_NULL, "20 à 49 salariés (entreprise)"),
    "head-office-no-band-at-all": (True, "A", None, "20 à 49 salariés (entreprise)"),
    "secondary-own-band": (False, "A", BAND_10_19, "10 à 19 salariés (établissement)"),
    "secondary-without-band": (False, "A", BAND_NULL, ""),
    "closed-head-office-own-band": (True, "F", BAND_10_19, "10 à 19 salariés (établissement)"),
    "closed-head-office-without-band": (True, "F", BAND_NULL, ""),
    "closed-secondary-without-band": (False, "F", BAND_NULL, ""),
    "unknown-head-office-without-band": (None, "A", BAND_NULL, ""),
}


@pytest.mark.parametrize(
    ("siege", "state", "band", "expected"), HEADCOUNT_CASES.values(), ids=HEADCOUNT_CASES.keys()
)
def test_the_headcount_band_says_whose_it_is(siege, state, band, expected):
    data = {"siege_social": siege, "etat_administratif": state, "tranche_effectif_salarie": band}
    # The company's band (20 à 49) differs from the establishment's own (10 à 19).
    assert prefill(payload(data))["tranche_effectif"] == expected


def test_no_company_band_and_no_own_band_leaves_the_headcount_empty():
    body = payload({"tranche_effectif_salarie": BAND_NULL}, {"tranche_effectif_salarie": BAND_NULL})
    assert prefill(body)["tranche_effectif"] == ""
