"""Country names from INSEE's official list (issue 11): Sirene writes `ERYTHREE`, the form shows
`Érythrée`; by the code Sirene gives when it gives one, else by the label.

The expected names are read from the vendored INSEE files themselves, and Sirene's spelling is
made here independently of the code under test (accents stripped, upper case).
"""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest

from portail.core.countries import NAME_OVERRIDES, CountryIndex, country_name

DATA = Path(__file__).resolve().parents[2] / "portail" / "core" / "data"


def rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader((DATA / name).read_text(encoding="utf-8").splitlines()))


NAMES = rows("pays_2025.csv")
OLD_LABELS = rows("libelles_pays_2020.csv")


def as_sirene_writes(name: str) -> str:
    """`Côte d’Ivoire` -> `COTE D'IVOIRE`."""
    bare = "".join(c for c in unicodedata.normalize("NFD", name) if unicodedata.category(c) != "Mn")
    return bare.replace("’", "'").upper()


def readable(name: str) -> str:
    return name.replace("’", "'")


def shown(row: dict) -> str:
    """The name the portal shows for an INSEE row: its own, or the one people write."""
    return NAME_OVERRIDES.get(row["COG"], readable(row["LIBCOG"]))


def names_under(code: str) -> set[str]:
    """The names a code may show: its own, and those of the territories it groups or that
    belong to it."""
    out = set()
    for row in NAMES:
        if code in (row["COG"], row["CRPAY"]):
            out.add(shown(row))
            if row["ACTUAL"] == "4" and ", " in row["LIBENR"]:
                out |= {readable(p[:1].upper() + p[1:]) for p in row["LIBENR"].split(", ")}
    return out


def test_the_vendored_list_is_insee_s_whole_list():
    codes = [row["COG"] for row in NAMES]
    assert len(codes) == len(set(codes)) == 229
    assert all(code.startswith("99") and len(code) == 5 for code in codes)
    assert {row["ACTUAL"] for row in NAMES} == {"1", "4"}


ALL_NAMES = set().union(*(names_under(row["COG"]) for row in NAMES))


def test_every_insee_name_written_as_sirene_does_comes_back_with_its_accents():
    wrong = {
        as_sirene_writes(row["LIBCOG"]): country_name(as_sirene_writes(row["LIBCOG"]))
        for row in NAMES
        if country_name(as_sirene_writes(row["LIBCOG"])) != shown(row)
    }
    assert wrong == {}


def test_every_insee_code_names_its_country_whatever_the_label():
    wrong = {
        row["COG"]: country_name("PAYS INCONNU", row["COG"])
        for row in NAMES
        if country_name("PAYS INCONNU", row["COG"]) != shown(row)
    }
    assert wrong == {}


def test_every_older_insee_label_still_finds_a_country_of_its_code():
    """INSEE's 2020 labels, Sirene's spelling (`CONGO (REPUBLIQUE DEMOCRATIQUE)`), with their
    code or alone."""
    wrong = {}
    for row in OLD_LABELS:
        label, code = row["LIBCOG"], row["COG"]
        with_code, alone = country_name(label, code), country_name(label)
        if with_code not in names_under(code) or alone not in ALL_NAMES:
            wrong[label] = (with_code, alone)
    assert wrong == {}


SIRENE_LABELS = {
    "ETATS UNIS": "États-Unis",
    "ERYTHREE": "Érythrée",
    "BOSNIE-HERZEGOVINE": "Bosnie-Herzégovine",
    "REPUBLIQUE DOMINICAINE": "République dominicaine",
    "CONGO (REPUBLIQUE DEMOCRATIQUE)": "République démocratique du Congo",
    "ILES VIERGES BRITANNIQUES": "Îles Vierges britanniques",
    "VIERGES BRITANNIQUES (ILES)": "Îles Vierges britanniques",
    "COREE (REPUBLIQUE POPULAIRE DEMOCRATIQUE DE)": "Corée du Nord",
    "SAINT-MARTIN (PARTIE NEERLANDAISE)": "Saint-Martin (partie néerlandaise)",
    "Cote d ivoire": "Côte d'Ivoire",
    "TERRITOIRE BRITANNIQUE DE L'OCEAN INDIEN": "Territoire britannique de l'océan Indien",
    "  guinee   equatoriale ": "Guinée équatoriale",
    "SAO TOME-ET-PRINCIPE": "Sao Tomé-et-Principe",
}


@pytest.mark.parametrize(("label", "expected"), SIRENE_LABELS.items(), ids=SIRENE_LABELS.keys())
def test_sirene_labels_get_their_french_names(label, expected):
    assert country_name(label) == expected


# What the project's own table already named; INSEE's list must keep naming it so.
KEPT = {
    "ETATS-UNIS": "États-Unis",
    "CONGO": "Congo",  # not the République démocratique du Congo
    "COREE (REPUBLIQUE DE)": "Corée du Sud",
    "TCHEQUE (REPUBLIQUE)": "Tchéquie",
    "IRLANDE, OU EIRE": "Irlande",
    "COTE D'IVOIRE": "Côte d'Ivoire",
    "COTE D’IVOIRE": "Côte d'Ivoire",
}


@pytest.mark.parametrize(("label", "expected"), KEPT.items(), ids=KEPT.keys())
def test_names_the_former_table_gave_are_kept(label, expected):
    assert country_name(label) == expected


CODED = {
    "the-code-is-exact": ("ETATS-UNIS", "99109", "Allemagne"),
    "the-code-without-a-label": ("", "99404", "États-Unis"),
    "the-label-names-a-territory-the-code-groups": (
        "ILES VIERGES BRITANNIQUES",
        "99425",
        "Îles Vierges britanniques",
    ),
    "a-territory-coded-under-its-country": ("FEROE (ILES)", "99101", "Féroé"),
    "another-country-s-territory-is-not-taken": ("FEROE (ILES)", "99132", "Royaume-Uni"),
    "an-unknown-code-leaves-the-label": ("ERYTHREE", "99999", "Érythrée"),
    "spaces-around-the-code": ("", " 99317 ", "Érythrée"),
}


@pytest.mark.parametrize(("label", "code", "expected"), CODED.values(), ids=CODED.keys())
def test_the_insee_code_names_the_country(label, code, expected):
    assert country_name(label, code) == expected


def test_a_label_known_nowhere_is_title_cased():
    assert country_name("ATLANTIDE") == "Atlantide"
    # Obsolete in 2020 already, their codes since given to others (the Chagos, Aruba).
    assert country_name("ZANZIBAR") == "Zanzibar"
    assert country_name("ANTILLES NEERLANDAISES") == "Antilles Neerlandaises"
    assert country_name("TERRES DU MILIEU") == "Terres du Milieu"
    assert country_name("") == ""


def test_words_shared_by_two_countries_guess_neither():
    names = [
        {"COG": "99901", "ACTUAL": "1", "CRPAY": "", "LIBCOG": "Nord", "LIBENR": "Île du Nord"},
        {"COG": "99902", "ACTUAL": "1", "CRPAY": "", "LIBCOG": "Sud", "LIBENR": "Nord (île)"},
    ]
    index = CountryIndex(names, [])
    assert index.name("ILE DU NORD") == "Nord"  # its exact label still counts
    assert index.name("ILE NORD") == "Ile Nord"  # but the words alone could be either


def test_a_label_without_words_matches_no_country():
    names = [{"COG": "99901", "ACTUAL": "4", "CRPAY": "", "LIBCOG": "Nord", "LIBENR": ""}]
    assert CountryIndex(names, []).name("()") == "()"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("BURKINA FASO", "Burkina Faso"),  # the country's own name, not INSEE's short one
        ("BURKINA", "Burkina Faso"),
        ("GRANDE BRETAGNE", "Royaume-Uni"),
        ("ANGLETERRE", "Royaume-Uni"),
        ("HOLLANDE", "Pays-Bas"),
        ("USA", "États-Unis"),
    ],
)
def test_names_and_spellings_people_use_beside_insee_s(label, expected):
    assert country_name(label) == expected
