"""Country names: INSEE's upper-case, unaccented labels (`ETATS-UNIS`) as French writes them.

The table is data: the foreign countries an applicant's address most often names, keyed by the
label folded like INSEE writes it (upper case, no accents). Any other country is title-cased.
"""

from __future__ import annotations

import re
import unicodedata

# INSEE's label (folded) -> the French name, with its accents and case.
COUNTRY_NAMES: dict[str, str] = {
    "AFRIQUE DU SUD": "Afrique du Sud",
    "ALGERIE": "Algérie",
    "ALLEMAGNE": "Allemagne",
    "ANDORRE": "Andorre",
    "ARABIE SAOUDITE": "Arabie saoudite",
    "ARGENTINE": "Argentine",
    "AUSTRALIE": "Australie",
    "AUTRICHE": "Autriche",
    "BELGIQUE": "Belgique",
    "BENIN": "Bénin",
    "BRESIL": "Brésil",
    "BULGARIE": "Bulgarie",
    "BURKINA": "Burkina Faso",
    "BURKINA FASO": "Burkina Faso",
    "CAMEROUN": "Cameroun",
    "CANADA": "Canada",
    "CHILI": "Chili",
    "CHINE": "Chine",
    "CHYPRE": "Chypre",
    "COLOMBIE": "Colombie",
    "CONGO": "Congo",
    "COREE (REPUBLIQUE DE)": "Corée du Sud",
    "COREE DU SUD": "Corée du Sud",
    "COTE D'IVOIRE": "Côte d'Ivoire",
    "CROATIE": "Croatie",
    "DANEMARK": "Danemark",
    "EGYPTE": "Égypte",
    "EMIRATS ARABES UNIS": "Émirats arabes unis",
    "EQUATEUR": "Équateur",
    "ESPAGNE": "Espagne",
    "ESTONIE": "Estonie",
    "ETATS-UNIS": "États-Unis",
    "FINLANDE": "Finlande",
    "GABON": "Gabon",
    "GRECE": "Grèce",
    "GUINEE": "Guinée",
    "HAITI": "Haïti",
    "HONG-KONG": "Hong Kong",
    "HONGRIE": "Hongrie",
    "INDE": "Inde",
    "IRLANDE": "Irlande",
    "IRLANDE, OU EIRE": "Irlande",
    "ISLANDE": "Islande",
    "ISRAEL": "Israël",
    "ITALIE": "Italie",
    "JAPON": "Japon",
    "LETTONIE": "Lettonie",
    "LIBAN": "Liban",
    "LIECHTENSTEIN": "Liechtenstein",
    "LITUANIE": "Lituanie",
    "LUXEMBOURG": "Luxembourg",
    "MADAGASCAR": "Madagascar",
    "MALI": "Mali",
    "MALTE": "Malte",
    "MAROC": "Maroc",
    "MAURICE": "Maurice",
    "MEXIQUE": "Mexique",
    "MONACO": "Monaco",
    "NORVEGE": "Norvège",
    "NOUVELLE-ZELANDE": "Nouvelle-Zélande",
    "PAYS-BAS": "Pays-Bas",
    "PEROU": "Pérou",
    "POLOGNE": "Pologne",
    "PORTUGAL": "Portugal",
    "QATAR": "Qatar",
    "REPUBLIQUE DEMOCRATIQUE DU CONGO": "République démocratique du Congo",
    "REPUBLIQUE TCHEQUE": "Tchéquie",
    "ROUMANIE": "Roumanie",
    "ROYAUME-UNI": "Royaume-Uni",
    "RUSSIE": "Russie",
    "SAINT-MARIN": "Saint-Marin",
    "SENEGAL": "Sénégal",
    "SINGAPOUR": "Singapour",
    "SLOVAQUIE": "Slovaquie",
    "SLOVENIE": "Slovénie",
    "SUEDE": "Suède",
    "SUISSE": "Suisse",
    "TCHEQUE (REPUBLIQUE)": "Tchéquie",
    "TCHEQUIE": "Tchéquie",
    "THAILANDE": "Thaïlande",
    "TUNISIE": "Tunisie",
    "TURQUIE": "Turquie",
    "UKRAINE": "Ukraine",
    "VIET NAM": "Viêt Nam",
}

_SPACES = re.compile(r"\s+")
_WORD_SEPARATORS = re.compile(r"([\s\-'’]+)")
_MINOR_WORDS = frozenset({"de", "du", "des", "la", "le", "les", "et", "d", "l", "aux", "au"})


def folded(label: str) -> str:
    """label as INSEE writes it: upper case, no accents, one space, straight apostrophes."""
    decomposed = unicodedata.normalize("NFKD", label.replace("’", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare).strip().upper()


def capitalise_words(text: str, keep_minor_words: bool) -> str:
    """Each word capitalised (`JEAN-BAPTISTE` -> `Jean-Baptiste`); `de`, `du`... kept lower
    after the first word when keep_minor_words."""
    out = []
    first = True
    for piece in _WORD_SEPARATORS.split(text.strip().lower()):
        if not piece or _WORD_SEPARATORS.fullmatch(piece):
            out.append(piece)
            continue
        if keep_minor_words and not first and piece in _MINOR_WORDS:
            out.append(piece)
        else:
            out.append(piece[:1].upper() + piece[1:])
        first = False
    return "".join(out)


def country_label(label: str) -> str:
    """A country as INSEE writes it (`ROYAUME-UNI`) in a readable form (`Royaume-Uni`)."""
    return capitalise_words(label, keep_minor_words=True)


def country_name(label: str) -> str:
    """The French name of a country (`ETATS-UNIS` -> `États-Unis`); unknown ones title-cased."""
    return COUNTRY_NAMES.get(folded(label)) or country_label(label)


__all__ = ["COUNTRY_NAMES", "capitalise_words", "country_label", "country_name", "folded"]
