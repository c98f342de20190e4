"""Issue 11, the search by name's answers read as the real Recherche d'entreprises sends them,
through a real HTTP double: partly public entities ("P", "[NON-DIFFUSIBLE]") never shown, a
SIRET kept only when valid, activities in words, odd types read without an exception."""

from __future__ import annotations

import copy
import html as html_text

import pytest

from portail.core.company_search import read_results
from portail.core.tiers import BadPayload
from tests.api_helpers import portal_on
from tests.fault_double import Reply

ND = "[NON-DIFFUSIBLE]"
PUBLIC_SIRET = "99912340900024"  # a valid key
PUBLIC_HEAD = "99912340900016"

# The shape of a partly public answer (a sole trader, as public projects' fixtures show).
PARTLY_PUBLIC_ETAB = {
    "siret": "97770958300024",
    "adresse": ND,
    "code_postal": ND,
    "commune": "73008",
    "libelle_commune": "AIX-LES-BAINS",
    "activite_principale": "43.22A",
    "etat_administratif": "A",
    "est_siege": True,
    "statut_diffusion_etablissement": "P",
    "latitude": ND,
    "longitude": ND,
    "nom_commercial": None,
}
PARTLY_PUBLIC_UNIT = {
    "siren": "977709583",
    "nom_complet": ND,
    "nom_raison_sociale": None,
    "statut_diffusion": "P",
    "activite_principale": "43.22A",
    "etat_administratif": "A",
    "siege": PARTLY_PUBLIC_ETAB,
    "matching_etablissements": [PARTLY_PUBLIC_ETAB],
}
PUBLIC_ETAB = {
    "siret": PUBLIC_SIRET,
    "adresse": "145 AVENUE DES SOIERIES 69003 LYON 3EME",
    "code_postal": "69003",
    "libelle_commune": "LYON 3EME",
    "activite_principale": "25.62B",
    "libelle_activite_principale": "Mécanique industrielle",
    "etat_administratif": "A",
    "est_siege": False,
    "statut_diffusion_etablissement": "O",
    "nom_commercial": "VAL FLEURI LYON",
}
PUBLIC_UNIT = {
    "siren": "999123409",
    "nom_complet": "ATELIERS DU VAL FLEURI",
    "statut_diffusion": "O",
    "activite_principale": "25.62B",
    "etat_administratif": "A",
    "siege": {**PUBLIC_ETAB, "siret": PUBLIC_HEAD, "est_siege": True},
    "matching_etablissements": [PUBLIC_ETAB],
}


def answer(*units: dict) -> dict:
    return {"results": list(units), "total_results": len(units), "page": 1, "per_page": 10}


def unit_with(**etab) -> dict:
    unit = copy.deepcopy(PUBLIC_UNIT)
    unit["matching_etablissements"] = [{**PUBLIC_ETAB, **etab}]
    return unit


@pytest.fixture
def searching(tmp_path, double):
    """A portal whose company search is the HTTP double; returns search(body) -> page."""
    app = portal_on(tmp_path, double.url, SEARCH_API_URL=double.url)
    client = app.test_client()
    asked = iter(range(1000))

    def search(body) -> str:
        double.queue(Reply(body=body))
        name = f"nom{next(asked)}"  # a new query each time: never the cache
        page = client.get(f"/demande/recherche?nom={name}").get_data(as_text=True)
        return html_text.unescape(page)

    return search


def test_a_partly_public_entity_of_the_real_search_is_never_shown(searching):
    html = searching(answer(PARTLY_PUBLIC_UNIT))
    assert "Aucune entreprise trouvée" in html
    assert "97770958300024" not in html and "NON-DIFFUSIBLE" not in html
    assert "AIX-LES-BAINS" not in html


def test_public_results_beside_a_partly_public_one_say_what_never_appears(searching):
    html = searching(answer(PARTLY_PUBLIC_UNIT, PUBLIC_UNIT))
    assert "1 établissement trouvé" in html and "ATELIERS DU VAL FLEURI" in html
    assert "97770958300024" not in html
    assert "liste publique" in html and "saisissez vos informations vous-même" in html


@pytest.mark.parametrize(
    "unit",
    [
        {**PUBLIC_UNIT, "statut_diffusion": "P"},  # the unit partly public
        {**PUBLIC_UNIT, "statut_diffusion": None},  # no status: not known to be public
        unit_with(statut_diffusion_etablissement="P"),
        unit_with(adresse=ND),  # a withheld value, whatever the status says
        unit_with(code_postal="[ND]"),
        {**PUBLIC_UNIT, "nom_complet": ND},
    ],
)
def test_anything_withheld_or_not_public_drops_the_establishment(unit):
    assert read_results(answer(unit)) == []


def test_the_head_office_stands_in_only_when_public():
    head_only = {**PUBLIC_UNIT, "matching_etablissements": []}
    (result,) = read_results(answer(head_only))
    assert result.siret == PUBLIC_HEAD and result.head_office
    hidden = {**head_only, "siege": {**head_only["siege"], "statut_diffusion_etablissement": "P"}}
    assert read_results(answer(hidden)) == []


@pytest.mark.parametrize(
    "siret", ["123", "99912340900025", "12345678901234", 99912340900024, "999 123 409 00024"]
)
def test_only_a_fourteen_digit_siret_with_a_valid_key_is_offered(siret):
    assert read_results(answer(unit_with(siret=siret))) == []


def test_an_old_naf_code_is_not_shown_and_a_known_label_is(searching):
    old = answer(unit_with(activite_principale="70.2C", libelle_activite_principale=None))
    (result,) = read_results(old)
    assert result.activity == ""
    assert "70.2C" not in searching(old)
    html = searching(answer(PUBLIC_UNIT))
    assert "Activité\u202f: Mécanique industrielle (code NAF 25.62B)" in html
    bare = answer(unit_with(libelle_activite_principale=None))
    assert "Code d'activité (NAF/APE)\u202f: 25.62B" in searching(bare)


@pytest.mark.parametrize(
    "odd",
    [
        {"nom_commercial": ["A", "B"]},
        {"nom_commercial": {"x": 1}},
        {"adresse": {"a": 1}},
        {"activite_principale": 42},
        {"etat_administratif": None, "est_siege": "oui"},
    ],
)
def test_odd_types_are_read_safely(odd, searching):
    (result,) = read_results(answer(unit_with(**odd)))
    assert result.siret == PUBLIC_SIRET
    assert "ATELIERS DU VAL FLEURI" in searching(answer(unit_with(**odd)))


def test_a_list_trade_name_reads_as_its_first_name():
    (result,) = read_results(answer(unit_with(nom_commercial=["VAL FLEURI LYON", "AUTRE"])))
    assert result.name == "ATELIERS DU VAL FLEURI (VAL FLEURI LYON)"


@pytest.mark.parametrize("body", [{"results": {}}, [], {"results": ["x"]}, {}])
def test_an_answer_that_is_no_search_answer_is_bad(body, searching):
    with pytest.raises(BadPayload):
        read_results(body)
    assert "ne répond pas pour le moment" in searching(body)
