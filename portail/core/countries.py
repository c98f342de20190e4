"""Country names: Sirene's upper-case, unaccented labels (`ETATS-UNIS`) as French writes them.

The names are INSEE's (Code officiel géographique, `data/pays_2025.csv`): the code Sirene gives
(`code_pays_etranger`, 99xxx) names the country exactly; else the label is matched, folded (no
accents, upper case, one separator) or as a set of words, so that `CONGO (REPUBLIQUE
DEMOCRATIQUE)` finds `République démocratique du Congo`. INSEE's older labels
(`data/libelles_pays_2020.csv`), which Sirene still writes, point to their code. A label known
nowhere is title-cased. Both files are read once, at import.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple

DATA_DIR = Path(__file__).resolve().parent / "data"
NAMES_FILE = DATA_DIR / "pays_2025.csv"
OLD_LABELS_FILE = DATA_DIR / "libelles_pays_2020.csv"

_SPACES = re.compile(r"\s+")
_WORD_SEPARATORS = re.compile(r"([\s\-'’]+)")
_MINOR_WORDS = frozenset({"de", "du", "des", "la", "le", "les", "et", "d", "l", "aux", "au"})
_KEY_SEPARATORS = re.compile(r"[\s\-'’]+")
_WORDS = re.compile(r"[A-Z0-9]+")
# Left out of the set of words: "ou" too, for INSEE's `COCOS ou KEELING (ILES)`.
_MINOR_KEY_WORDS = frozenset(word.upper() for word in _MINOR_WORDS) | {"OU"}
_TERRITORY_ROW = "4"  # ACTUAL: a territory; its LIBENR may list the territories its code groups
# Where INSEE's short name is not the one people write (the long form is the country's own
# name), by code.
NAME_OVERRIDES = {"99331": "Burkina Faso"}
# Spellings found in older records and typed by people that no INSEE label matches, by code.
COMMON_SPELLINGS = {
    "GRANDE BRETAGNE": "99132",
    "ANGLETERRE": "99132",
    "HOLLANDE": "99135",
    "USA": "99404",
}


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


def label_key(label: str) -> str:
    """`ETATS UNIS`, `Etats-Unis` and `États-Unis` alike: folded, one space between words."""
    return _KEY_SEPARATORS.sub(" ", folded(label)).strip()


def words_key(label: str) -> str:
    """The label's words, sorted, without `de`, `du`...: `CONGO (REPUBLIQUE DEMOCRATIQUE)` and
    `République démocratique du Congo` give the same key."""
    words = _WORDS.findall(folded(label))
    return " ".join(sorted(word for word in words if word not in _MINOR_KEY_WORDS))


class Country(NamedTuple):
    code: str
    name: str
    parent: str = ""  # a territory's country (CRPAY): Féroé (99158) is Danish (99101)

    def under(self, code: str) -> bool:
        """Whether Sirene's code designates this country: its own, or, for a territory coded
        under an older edition, its country's."""
        return code in (self.code, self.parent)


def _readable(name: str) -> str:
    # INSEE writes `Côte d’Ivoire`; the form's other values, and what applicants type, use the
    # straight apostrophe, so the country does too.
    return name.replace("’", "'")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


class CountryIndex:
    """INSEE's names by code, and every spelling of them by label_key and words_key."""

    def __init__(self, names: list[dict[str, str]], old_labels: list[dict[str, str]]):
        self.by_code: dict[str, str] = {row["COG"]: _readable(row["LIBCOG"]) for row in names}
        self.by_code.update(
            (code, name) for code, name in NAME_OVERRIDES.items() if code in self.by_code
        )
        self.by_label: dict[str, Country] = {}
        self.by_words: dict[str, Country] = {}
        ambiguous: set[str] = set()
        # First the names, then the other spellings: a name is never shadowed by an alias.
        for row in names:
            self._add(row["LIBCOG"], self._country(row), ambiguous)
        for row in names:
            country = self._country(row)
            grouped = row["ACTUAL"] == _TERRITORY_ROW and ", " in row["LIBENR"]
            for part in row["LIBENR"].split(", ") if grouped else [row["LIBENR"]]:
                # A grouped territory (`îles Vierges britanniques`) is named for itself.
                own = country._replace(name=_readable(part[:1].upper() + part[1:]))
                self._add(part, own if grouped else country, ambiguous)
        for row in old_labels:
            # Only the labels no current name matches (`IRLANDE, ou EIRE`); `FEROE (ILES)`,
            # coded 99101 in 2020, keeps finding Féroé.
            if row["COG"] in self.by_code and not self.match(row["LIBCOG"]):
                self._add(row["LIBCOG"], Country(row["COG"], self.by_code[row["COG"]]), ambiguous)
        for label, code in COMMON_SPELLINGS.items():
            if code in self.by_code:
                self._add(label, Country(code, self.by_code[code]), ambiguous)
        for key in ambiguous:  # two countries behind one set of words: guess neither
            self.by_words.pop(key, None)

    def _country(self, row: dict[str, str]) -> Country:
        return Country(row["COG"], self.by_code[row["COG"]], row["CRPAY"])

    def _add(self, label: str, country: Country, ambiguous: set[str]) -> None:
        words = words_key(label)
        if not words:  # an empty official name must not match every wordless label
            return
        self.by_label.setdefault(label_key(label), country)
        known = self.by_words.setdefault(words, country)
        if known.code != country.code:
            ambiguous.add(words)

    def match(self, label: str) -> Country | None:
        return self.by_label.get(label_key(label)) or self.by_words.get(words_key(label))

    def name(self, label: str, code: str | None = None) -> str:
        """The French name for Sirene's label and code; the label title-cased if unknown."""
        found = self.match(label) if label.strip() else None
        known_code = (code or "").strip()
        if known_code in self.by_code:
            # The code is exact; the label may name one territory among those it groups.
            return found.name if found and found.under(known_code) else self.by_code[known_code]
        return found.name if found else country_label(label)


COUNTRIES = CountryIndex(_rows(NAMES_FILE), _rows(OLD_LABELS_FILE))


def country_name(label: str, code: str | None = None) -> str:
    """The French name of a country (`ETATS-UNIS` -> `États-Unis`), by its INSEE code when
    Sirene gives it (`99404`), else by its label; unknown labels title-cased."""
    return COUNTRIES.name(label, code)


__all__ = [
    "COUNTRIES",
    "Country",
    "CountryIndex",
    "capitalise_words",
    "country_label",
    "country_name",
    "folded",
    "label_key",
    "words_key",
]
