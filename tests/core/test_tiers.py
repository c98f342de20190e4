"""Mapping API Entreprise payloads to the form's tiers fields."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime

import pytest

from portail.apientreprise import sandbox
from portail.core.tiers import (
    TIERS_FIELDS,
    BadPayload,
    Tiers,
    add_association,
    commune_without_arrondissement,
    country_label,
    normalise_naf,
    paris_date,
    tiers_from_etablissement,
)

HEAD_OFFICE = "99912340900016"
SECONDARY = "99912340900024"
CLOSED = "99923451100023"
CEASED = "99934562200016"
PERSON = "99945673400014"
PARTIAL_PERSON = "99956784500014"
ASSOCIATION = "89967895700015"
FOREIGN = "99978906800023"
LA_POSTE = "35600000040011"
MOVED = "99989017100013"
MOVED_TO = "99989017100021"
OK_SIRETS = [p.siret for p in sandbox.PERSONAS if p.kind == "ok"]


def open_data(siret: str) -> dict:
    """The body the open data (diffusibles) route gives for siret."""
    payload = sandbox.etablissement_payload(siret, protected=False)
    assert payload is not None
    return payload


def protected(siret: str) -> dict:
    """The body the protected route gives for siret."""
    payload = sandbox.etablissement_payload(siret, protected=True)
    assert payload is not None
    return payload


def test_form_fields_follow_the_contract_in_display_order():
    assert TIERS_FIELDS == (
        "siret",
        "raison_sociale",
        "sigle",
        "enseigne",
        "forme_juridique",
        "code_naf",
        "libelle_naf",
        "tranche_effectif",
        "date_creation",
        "siege_social",
        "siret_siege",
        "etat_administratif",
        "adresse_numero",
        "adresse_voie",
        "adresse_complement",
        "code_postal",
        "commune",
        "pays",
        "rna",
        "objet_association",
    )
    assert set(TIERS_FIELDS) <= {f.name for f in dataclasses.fields(Tiers)}
    values = tiers_from_etablissement(open_data(HEAD_OFFICE), HEAD_OFFICE).form_values()
    assert tuple(values) == TIERS_FIELDS
    assert all(isinstance(v, str) for v in values.values())


def test_head_office_of_a_company_fills_every_field():
    result = tiers_from_etablissement(open_data(HEAD_OFFICE), HEAD_OFFICE)
    assert result.form_values() == {
        "siret": HEAD_OFFICE,
        "raison_sociale": "ATELIERS DU VAL FLEURI",
        "sigle": "AVF",
        "enseigne": "VAL FLEURI",
        "forme_juridique": "SAS, société par actions simplifiée",
        "code_naf": "25.62B",
        "libelle_naf": "Mécanique industrielle",
        "tranche_effectif": "10 à 19 salariés (établissement)",
        "date_creation": "2016-03-01",
        "siege_social": "oui",
        "siret_siege": HEAD_OFFICE,
        "etat_administratif": "actif",
        "adresse_numero": "22 bis",
        "adresse_voie": "RUE DES CHARRONS",
        "adresse_complement": "BATIMENT B",
        "code_postal": "75012",
        "commune": "PARIS",
        "pays": "France",
        "rna": "",
        "objet_association": "",
    }
    assert result.siren == "999123409"
    assert result.redirected_from == ""
    assert result.closed_on == ""
    assert not result.company_ceased
    assert not result.partially_diffusible
    assert result.masked_fields == ()
    assert not result.is_association


def test_secondary_establishment_points_to_its_head_office():
    result = tiers_from_etablissement(open_data(SECONDARY), SECONDARY)
    assert result.siege_social == "non"
    assert result.siret_siege == HEAD_OFFICE
    assert result.commune == "LYON"  # published as "LYON 3EME"
    assert result.enseigne == "VAL FLEURI LYON"
    # The establishment's, not the company's, and said so (issue 11).
    assert result.tranche_effectif == "6 à 9 salariés (établissement)"
    assert result.date_creation == "2019-09-02"
    assert result.adresse_numero == "145"


def test_closed_establishment_is_flagged_with_its_closing_date():
    result = tiers_from_etablissement(open_data(CLOSED), CLOSED)
    assert result.etat_administratif == "fermé"
    assert result.closed_on == "2023-06-30"
    assert not result.company_ceased
    assert result.code_naf == "10.71C"  # published as "1071C"
    # The establishment publishes no headcount: the company's "1 ou 2 salariés" is not shown
    # as this closed establishment's (issue 11).
    assert result.tranche_effectif == ""


def test_ceased_company_is_flagged():
    result = tiers_from_etablissement(open_data(CEASED), CEASED)
    assert result.company_ceased
    assert result.etat_administratif == "fermé"
    assert result.closed_on == "2022-12-31"
    assert result.code_naf == "49.41A"


def test_person_name_reads_nom_then_prenom():
    result = tiers_from_etablissement(open_data(PERSON), PERSON)
    assert result.raison_sociale == "BERTRAND Élodie"  # usage name, not birth name MARCHETTI
    assert result.forme_juridique == "Entrepreneur individuel"
    assert result.code_naf == "96.02A"
    assert result.tranche_effectif == ""  # all null, establishment and company
    assert result.sigle == ""
    assert result.masked_fields == ()


def test_partially_diffusible_person_keeps_protected_values_out():
    result = tiers_from_etablissement(open_data(PARTIAL_PERSON), PARTIAL_PERSON)
    assert result.partially_diffusible
    assert result.masked_fields == (
        "raison_sociale",
        "adresse_numero",
        "adresse_voie",
        "adresse_complement",
        "code_postal",
    )
    for name in result.masked_fields:
        assert getattr(result, name) == ""
    # Public even for a partially diffusible entity.
    assert result.commune == "CREST"
    assert result.pays == "France"
    assert result.code_naf == "74.10Z"
    assert result.forme_juridique == "Entrepreneur individuel"
    assert result.etat_administratif == "actif"
    assert result.tranche_effectif == "Unités non employeuses (établissement)"
    assert "[ND]" not in repr(result)


def test_protected_route_gives_the_real_values_through_the_same_function():
    result = tiers_from_etablissement(protected(PARTIAL_PERSON), PARTIAL_PERSON)
    assert result.raison_sociale == "LEROUX Jean-Baptiste"  # prenom_usuel capitalised
    assert result.adresse_numero == "7 ter"
    assert result.adresse_voie == "CHEMIN DES VIGNES"
    assert result.adresse_complement == "LIEU-DIT LES CROZES"
    assert result.code_postal == "26400"
    assert result.masked_fields == ()
    # Still flagged: the caller must not show these values to an anonymous applicant.
    assert result.partially_diffusible


def test_association_is_recognised_and_completed_from_its_open_data_record():
    result = tiers_from_etablissement(open_data(ASSOCIATION), ASSOCIATION)
    assert result.is_association
    assert result.rna == "W999000417"
    assert result.forme_juridique == "Association déclarée"
    assert result.commune == "MARSEILLE"  # published as "MARSEILLE 8"
    assert result.objet_association == ""
    record = sandbox.association_payload("W999000417", protected=False)
    completed = add_association(result, record)
    assert completed.objet_association.startswith("Créer et animer des jardins partagés")
    assert completed.rna == "W999000417"
    assert completed.raison_sociale == "ASSOCIATION DES JARDINS PARTAGES DU CANAL"
    assert result.objet_association == ""  # the original is left untouched


def test_add_association_fills_an_empty_name_and_rna():
    record = sandbox.association_payload("899678957", protected=True)
    bare = Tiers(siret=ASSOCIATION, siren="899678957")
    completed = add_association(bare, record)
    assert completed.raison_sociale == "ASSOCIATION DES JARDINS PARTAGES DU CANAL"
    assert completed.rna == "W999000417"
    assert completed.forme_juridique == "Association déclarée"
    assert completed.is_association


def test_add_association_refuses_another_organisations_record():
    record = sandbox.association_payload("899678957", protected=False)
    other = tiers_from_etablissement(open_data(HEAD_OFFICE), HEAD_OFFICE)
    with pytest.raises(BadPayload):
        add_association(other, record)
    with pytest.raises(BadPayload):
        add_association(other, {"errors": []})


def test_add_association_never_copies_nd():
    record = copy.deepcopy(sandbox.association_payload("899678957", protected=False))
    record["data"]["activites"]["objet"] = "[ND]"
    record["data"]["nom"] = "[ND]"
    completed = add_association(Tiers(siren="899678957"), record)
    assert completed.objet_association == ""
    assert completed.raison_sociale == ""
    assert "objet_association" in completed.masked_fields
    assert "[ND]" not in repr(completed)


def test_foreign_establishment_has_foreign_commune_and_country():
    result = tiers_from_etablissement(open_data(FOREIGN), FOREIGN)
    assert result.commune == "LONDRES"
    assert result.pays == "Royaume-Uni"
    assert result.code_postal == ""
    assert result.adresse_voie == "KINGSWAY GARDENS"  # no street type published
    assert result.siege_social == "non"
    # A secondary establishment without its own band: the company's "3 à 5 salariés" is not
    # shown as its own (issue 11).
    assert result.tranche_effectif == ""


def test_la_poste_establishment_is_read_like_any_other():
    result = tiers_from_etablissement(open_data(LA_POSTE), LA_POSTE)
    assert result.siret == LA_POSTE
    assert result.siren == "356000000"
    assert result.raison_sociale == "LA POSTE"
    assert result.code_naf == "53.10Z"


def test_redirected_siret_shows_the_answered_one():
    result = tiers_from_etablissement(open_data(MOVED), MOVED)
    assert result.siret == MOVED_TO
    assert result.redirected_from == MOVED
    assert result.siret_siege == MOVED_TO


def test_asked_siret_differing_from_the_answer_counts_as_a_redirect():
    payload = copy.deepcopy(open_data(HEAD_OFFICE))
    payload["meta"]["redirect_from_siret"] = None
    assert tiers_from_etablissement(payload, SECONDARY).redirected_from == SECONDARY
    assert tiers_from_etablissement(payload, "999 123 409 00016").redirected_from == ""


@pytest.mark.parametrize("siret", OK_SIRETS)
@pytest.mark.parametrize("route", ["open_data", "protected"])
def test_nd_never_reaches_a_field(siret, route):
    payload = open_data(siret) if route == "open_data" else protected(siret)
    result = tiers_from_etablissement(payload, siret)
    assert "[ND]" not in repr(result)
    assert result.siret
    assert result.raison_sociale or result.masked_fields
    assert result.code_naf[2] == "." and len(result.code_naf) == 6
    assert result.etat_administratif in ("actif", "fermé")


def test_nd_anywhere_is_masked_field_by_field():
    payload = copy.deepcopy(open_data(HEAD_OFFICE))
    data = payload["data"]
    data["adresse"]["indice_repetition_voie"] = "[ND]"
    data["enseigne"] = "[ND]"
    data["unite_legale"]["personne_morale_attributs"]["raison_sociale"] = "[ND]"
    data["adresse"]["libelle_commune"] = "[ND]"
    result = tiers_from_etablissement(payload, HEAD_OFFICE)
    # "22" alone would be a wrong street number: the whole number is withheld.
    assert result.adresse_numero == ""
    assert result.enseigne == ""
    assert result.raison_sociale == ""  # no fallback to the (null) person names
    assert result.commune == ""
    assert set(result.masked_fields) == {
        "raison_sociale",
        "enseigne",
        "adresse_numero",
        "commune",
    }
    assert result.partially_diffusible
    assert "[ND]" not in repr(result)


def test_names_fall_back_to_birth_name_and_first_forename():
    payload = copy.deepcopy(protected(PERSON))
    person = payload["data"]["unite_legale"]["personne_physique_attributs"]
    person.update(nom_usage=None, prenom_usuel=None, nom_naissance="Marchetti", prenom_1="ANNE")
    assert tiers_from_etablissement(payload, PERSON).raison_sociale == "MARCHETTI Anne"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("8411Z", "84.11Z"), ("84.11Z", "84.11Z"), (" 1071c ", "10.71C"), ("XYZ", "XYZ")],
)
def test_naf_code_is_normalised(code, expected):
    assert normalise_naf(code) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("PARIS 12", "PARIS"),
        ("PARIS 1ER", "PARIS"),
        ("LYON 3E", "LYON"),
        ("LYON 3EME", "LYON"),
        ("MARSEILLE 8", "MARSEILLE"),
        ("Marseille 13e arrondissement", "Marseille"),
        ("PARIS", "PARIS"),
        ("PARISOT", "PARISOT"),
        ("LES 2 ALPES", "LES 2 ALPES"),
        ("SAINT-ETIENNE 2", "SAINT-ETIENNE 2"),
    ],
)
def test_commune_loses_only_paris_lyon_marseille_arrondissements(label, expected):
    assert commune_without_arrondissement(label) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("ROYAUME-UNI", "Royaume-Uni"),
        ("ETATS-UNIS", "Etats-Unis"),
        ("REPUBLIQUE DEMOCRATIQUE DU CONGO", "Republique Democratique du Congo"),
        ("BELGIQUE", "Belgique"),
    ],
)
def test_country_is_title_cased(label, expected):
    assert country_label(label) == expected


def test_dates_are_paris_calendar_dates():
    assert paris_date(1456786800) == "2016-03-01"  # midnight in Paris, 23:00 UTC the day before
    assert paris_date(-315622800) == "1960-01-01"  # before 1970
    summer_night = int(datetime(2023, 7, 14, 22, 30, tzinfo=UTC).timestamp())
    assert paris_date(summer_night) == "2023-07-15"


def _broken(mutate) -> dict:
    payload = copy.deepcopy(open_data(HEAD_OFFICE))
    mutate(payload)
    return payload


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {},
        {"errors": [{"code": "01003"}]},
        {"data": []},
        _broken(lambda p: p["data"].pop("siret")),
        _broken(lambda p: p["data"].update(siret=99912340900016)),
        _broken(lambda p: p["data"].update(siret="[ND]")),
        _broken(lambda p: p["data"].update(siret="9991234090001")),
        _broken(lambda p: p["data"].pop("unite_legale")),
        _broken(lambda p: p["data"].update(unite_legale="ATELIERS")),
        _broken(lambda p: p["data"]["unite_legale"].pop("siren")),
        _broken(lambda p: p["data"]["unite_legale"].update(siren="111111118")),
        _broken(lambda p: p["data"].pop("adresse")),
        _broken(lambda p: p["data"].update(adresse=["22 bis rue"])),
    ],
    ids=[
        "none",
        "list",
        "empty",
        "error-body",
        "data-list",
        "no-siret",
        "siret-int",
        "siret-nd",
        "siret-13",
        "no-unite-legale",
        "unite-legale-str",
        "no-siren",
        "siren-mismatch",
        "no-adresse",
        "adresse-list",
    ],
)
def test_broken_payloads_raise_bad_payload(payload):
    with pytest.raises(BadPayload):
        tiers_from_etablissement(payload, HEAD_OFFICE)
    assert issubclass(BadPayload, ValueError)


def test_mistyped_optional_values_are_left_empty():
    def mutate(p):
        p["data"]["date_creation"] = "2016-03-01"
        p["data"]["unite_legale"]["date_creation"] = None
        p["data"]["enseigne"] = 42
        p["data"]["activite_principale"] = None
        p["data"]["siege_social"] = "yes"

    result = tiers_from_etablissement(_broken(mutate), HEAD_OFFICE)
    assert result.date_creation == ""
    assert result.enseigne == ""
    assert result.code_naf == "25.62B"  # from the company's activity
    assert result.siege_social == ""


def test_a_dissolved_association_carries_its_dissolution_date():
    record = copy.deepcopy(sandbox.association_payload("899678957", protected=False))
    assert add_association(Tiers(siren="899678957"), record).dissolved_on == ""
    record["data"]["date_dissolution"] = "2024-03-15"
    assert add_association(Tiers(siren="899678957"), record).dissolved_on == "2024-03-15"
    record["data"]["date_dissolution"] = "[ND]"  # never a date: nothing claimed
    assert add_association(Tiers(siren="899678957"), record).dissolved_on == ""
