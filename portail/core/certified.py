"""Declared values against certified ones: what counts as a difference, and the check's verdict.

An agent's verification fetches the protected établissement (and, for an association, its
protected record) from API Entreprise; this module compares what the applicant filed with
what the directories certify, field by field, and says whether the deposit "matches", has
"differences", or concerns a "closed" establishment or a ceased company.

Only real differences count. Both sides are brought to a comparable form first: case,
accents, spacing and punctuation never count (`Rue de l'Église` = `RUE DE L EGLISE`), nor the
arrondissement of Paris, Lyon and Marseille (`PARIS 12`, `Paris 12e Arrondissement` =
`Paris`), nor the dot of a NAF code (`84.11Z` = `8411Z`), nor spaces in numbers (postcodes
and SIRETs compare as digits). A value the applicant left empty is "not declared", one the
directory does not give is "not certified": neither is a difference.

Pure: no Flask, no I/O. The stored check itself is a plain `CertifiedCheck`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from portail.core.labels import FIELD_LABELS
from portail.core.tiers import (
    TIERS_FIELDS,
    BadPayload,
    Tiers,
    add_association,
    paris_date,
    tiers_from_etablissement,
)

# The check's verdicts, as deposits.certified_state stores them.
STATE_MATCH = "match"
STATE_DIFFERENCES = "differences"
STATE_CLOSED = "closed"

STATE_LABELS = {
    STATE_MATCH: "Conforme : aucun écart",
    STATE_DIFFERENCES: "Écarts à examiner",
    STATE_CLOSED: "Établissement fermé, entreprise cessée ou association dissoute",
}

# One field compared: the same, different, or present on one side only.
SAME = "same"
DIFFERENT = "different"
NOT_DECLARED = "not_declared"
NOT_CERTIFIED = "not_certified"

STATUS_LABELS = {
    SAME: "Identique",
    DIFFERENT: "Écart",
    NOT_DECLARED: "Non déclaré",
    NOT_CERTIFIED: "Non certifié",
}

_DIGIT_FIELDS = frozenset({"siret", "siret_siege", "code_postal"})

_NOT_WORD = re.compile(r"[^0-9a-z]+")

_INITIALS = re.compile(r"\b[a-z](?: [a-z]\b)+")

_ARRONDISSEMENT = re.compile(
    r"(paris|lyon|marseille) [0-9]{1,2} ?(?:er|e|eme|ieme)?(?: arr| arrondissement)?"
)

# "PARIS CEDEX 12", "Lyon cedex": the cedex is a delivery mode, not another commune.
_CEDEX = re.compile(r" cedex(?: [0-9]{1,3})?$")

# Name fields compared as a set of words: a sole trader's name is typed "Jean Dupont" as
# often as INSEE's "DUPONT JEAN".
_UNORDERED_FIELDS = frozenset({"raison_sociale"})

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_FRENCH_DATE = re.compile(r"([0-9]{1,2})[/.\- ]([0-9]{1,2})[/.\- ]([0-9]{4})")

# Street types as INSEE abbreviates them (and as people type them) -> the full word.
_STREET_WORDS = {
    "all": "allee",
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "bvd": "boulevard",
    "ch": "chemin",
    "che": "chemin",
    "chem": "chemin",
    "crs": "cours",
    "fg": "faubourg",
    "fbg": "faubourg",
    "imp": "impasse",
    "pl": "place",
    "qu": "quai",
    "qua": "quai",
    "r": "rue",
    "rte": "route",
    "sq": "square",
    "st": "saint",
    "ste": "sainte",
}

_SAINTS = {"st": "saint", "ste": "sainte"}

# Repetition indices of a street number: "22 B" = "22bis".
_REPETITION = {"b": "bis", "t": "ter", "q": "quater"}

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def plain(text: str | None) -> str:
    """Lower case, no accents, words of letters and digits separated by single spaces, and
    initials joined; "&" reads "et"."""
    text = (text or "").replace("&", " et ")
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = _NOT_WORD.sub(" ", stripped.casefold()).strip()
    # Initials: "A.B.C." and "ABC" are one word.
    return _INITIALS.sub(lambda match: match[0].replace(" ", ""), words)


def _date(text: str) -> str:
    """YYYY-MM-DD from an ISO or a French date (12/03/2014); other text as plain words."""
    for pattern, order in ((_ISO_DATE, (1, 2, 3)), (_FRENCH_DATE, (3, 2, 1))):
        match = pattern.fullmatch(text.strip())
        if match:
            try:
                return date(*(int(match[index]) for index in order)).isoformat()
            except ValueError:
                break
    return plain(text)


def comparable(name: str, value: str | None) -> str:
    """The form of a field's value that comparison uses ("" for an empty value)."""
    text = (value or "").strip()
    if not text:
        return ""
    if name in _DIGIT_FIELDS:
        digits = re.sub(r"[^0-9]", "", text)
        return digits or plain(text)
    if name == "code_naf":
        return re.sub(r"[^0-9A-Z]", "", text.upper())
    if name == "date_creation":
        return _date(text)
    words = plain(text)
    if name == "commune":
        words = _CEDEX.sub("", words)
        match = _ARRONDISSEMENT.fullmatch(words)
        words = match[1] if match else words
        # "St Etienne" = "SAINT-ETIENNE", "Ste Foy" = "SAINTE-FOY".
        return " ".join(_SAINTS.get(word, word) for word in words.split())
    if name == "adresse_numero":
        match = re.fullmatch(r"([0-9]+) ?([a-z]*)", words)
        if match:
            return match[1] + _REPETITION.get(match[2], match[2])
        return words.replace(" ", "")
    if name == "adresse_voie":
        return " ".join(_STREET_WORDS.get(word, word) for word in words.split())
    return words


def field_status(name: str, declared: str | None, certified: str | None) -> str:
    """SAME, DIFFERENT, NOT_DECLARED (only certified) or NOT_CERTIFIED (only declared)."""
    left, right = comparable(name, declared), comparable(name, certified)
    if left == right:
        return SAME
    if name in _UNORDERED_FIELDS and sorted(left.split()) == sorted(right.split()):
        return SAME
    if not left:
        return NOT_DECLARED
    if not right:
        return NOT_CERTIFIED
    return DIFFERENT


@dataclass(frozen=True)
class FieldComparison:
    """One line of the side-by-side table."""

    name: str
    label: str
    declared: str
    certified: str
    status: str

    @property
    def differs(self) -> bool:
        """True for a real difference (the line shows "Écart")."""
        return self.status == DIFFERENT

    @property
    def status_label(self) -> str:
        """The status in words ("Vide des deux côtés" when neither side has a value)."""
        if self.status == SAME and not self.declared.strip() and not self.certified.strip():
            return "Vide des deux côtés"
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Comparison:
    """Every tiers field declared and certified, and the facts an agent must read first."""

    rows: tuple[FieldComparison, ...]
    tiers: Tiers
    ceased_on: str = ""  # YYYY-MM-DD the company ceased, when the directory says

    @property
    def differences(self) -> tuple[FieldComparison, ...]:
        """The lines that differ."""
        return tuple(row for row in self.rows if row.differs)

    @property
    def closed(self) -> bool:
        """The establishment is closed, its company has ceased or its association is
        dissolved: no longer an organisation that can carry a project."""
        return (
            self.tiers.etat_administratif == "fermé"
            or self.tiers.company_ceased
            or bool(self.tiers.dissolved_on)
        )

    @property
    def state(self) -> str:
        """STATE_CLOSED, else STATE_DIFFERENCES if any line differs, else STATE_MATCH."""
        if self.closed:
            return STATE_CLOSED
        return STATE_DIFFERENCES if self.differences else STATE_MATCH

    @property
    def state_label(self) -> str:
        """The verdict in words."""
        return STATE_LABELS[self.state]


def certified_tiers(etablissement: dict, association: dict | None, asked_siret: str) -> Tiers:
    """The Tiers the protected answers certify (raises BadPayload on an unreadable body)."""
    tiers = tiers_from_etablissement(etablissement, asked_siret)
    if association is not None:
        tiers = add_association(tiers, association)
    return tiers


def _ceased_on(etablissement: dict) -> str:
    data = etablissement.get("data") if isinstance(etablissement, dict) else None
    unite_legale = data.get("unite_legale") if isinstance(data, dict) else None
    stamp = unite_legale.get("date_cessation") if isinstance(unite_legale, dict) else None
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)):
        return ""
    return paris_date(int(stamp))


def compare(
    declared: dict[str, str],
    etablissement: dict,
    association: dict | None = None,
) -> Comparison:
    """Compare the filed values with the protected answers (raises BadPayload if unreadable)."""
    tiers = certified_tiers(etablissement, association, declared.get("siret", ""))
    certified = tiers.form_values()
    rows = tuple(
        FieldComparison(
            name,
            FIELD_LABELS.get(name, name),
            declared.get(name) or "",
            certified[name],
            field_status(name, declared.get(name), certified[name]),
        )
        for name in TIERS_FIELDS
    )
    return Comparison(rows, tiers, _ceased_on(etablissement))


@dataclass(frozen=True)
class CertifiedCheck:
    """The stored verification of one deposit: the last result, and the last failed attempt
    since (a failure never erases the result before it)."""

    ref: str
    siret: str = ""  # the SIRET asked (the deposit's)
    checked_at: str | None = None  # UTC ISO time of the last successful check
    checked_by: str = ""  # the agent who ran it
    state: str | None = None
    etablissement: dict | None = None  # the protected answers, as received
    association: dict | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)  # what could not be verified
    failed_at: str | None = None  # the last failed attempt after that result
    failed_by: str = ""
    failure_kind: str = ""
    failure_title: str = ""
    failure_message: str = ""  # for the agent: why, and what the admin can do

    @property
    def has_result(self) -> bool:
        """True once a check has succeeded."""
        return self.etablissement is not None


@dataclass(frozen=True)
class Review:
    """What the deposit page shows: the stored check and, when it holds a result, the
    comparison with the filed values."""

    check: CertifiedCheck
    comparison: Comparison | None = None
    unreadable: bool = False  # a stored answer the portal can no longer read


def review(check: CertifiedCheck | None, declared: dict[str, str]) -> Review | None:
    """The deposit page's view of a stored check (None: never checked)."""
    if check is None:
        return None
    if not check.has_result:
        return Review(check)
    try:
        return Review(check, compare(declared, check.etablissement, check.association))
    except BadPayload:
        return Review(check, unreadable=True)


__all__ = [
    "DIFFERENT",
    "NOT_CERTIFIED",
    "NOT_DECLARED",
    "SAME",
    "STATE_CLOSED",
    "STATE_DIFFERENCES",
    "STATE_MATCH",
    "CertifiedCheck",
    "Comparison",
    "FieldComparison",
    "Review",
    "certified_tiers",
    "comparable",
    "compare",
    "field_status",
    "plain",
    "review",
]
