"""Normalise and validate SIRET and SIREN numbers typed or pasted by people.

Validation relies on python-stdnum, which knows both the Luhn key and the La Poste rule
(establishments of SIREN 356000000 use a digit sum multiple of 5 instead of Luhn).
"""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

# Separators people type or paste: spaces, tabs, dots, no-break spaces (U+00A0, U+202F,
# U+2007) that word processors and PDF copies insert between digit groups.
_SEPARATORS = re.compile(r"[\s.\u00a0\u202f\u2007]+")


_ASCII_DIGITS = re.compile(r"[0-9]*")


class InvalidSiret(ValueError):
    """A SIRET that cannot be used, with a French message saying what is wrong."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def normalise(raw: str | None) -> str:
    """Remove the separators people type or paste; keep everything else as typed."""
    return _SEPARATORS.sub("", raw or "")


def validate_siret(raw: str | None) -> str:
    """Return the 14-digit SIRET, or raise InvalidSiret with a message for the applicant."""
    number = normalise(raw)
    if not number:
        raise InvalidSiret(
            "Saisissez le numéro SIRET de votre organisation (14 chiffres).", "empty"
        )
    # str.isdigit() accepts Arabic-Indic or full-width digits: only ASCII digits are SIRET digits.
    if not _ASCII_DIGITS.fullmatch(number):
        raise InvalidSiret(
            "Le SIRET ne doit contenir que des chiffres de 0 à 9 "
            "(les espaces et les points sont acceptés).",
            "characters",
        )
    if len(number) == 9:
        raise InvalidSiret(
            "Vous avez saisi 9 chiffres, comme un numéro SIREN. Le SIRET en compte 14 : "
            "le SIREN suivi des 5 chiffres qui désignent l'établissement (NIC).",
            "siren",
        )
    if len(number) != 14:
        digits = "chiffre" if len(number) == 1 else "chiffres"
        raise InvalidSiret(
            f"Le SIRET compte 14 chiffres ; vous en avez saisi {len(number)} {digits}.",
            "length",
        )
    try:
        return stdnum_siret.validate(number)
    except ValidationError:
        raise InvalidSiret(
            "Ce numéro SIRET n'est pas valide : sa clé de contrôle ne correspond pas. "
            "Vérifiez les chiffres saisis, par exemple sur un avis de situation Sirene.",
            "checksum",
        ) from None


def is_valid_siret(raw: str | None) -> bool:
    """True when raw is a usable SIRET once separators are removed."""
    try:
        validate_siret(raw)
    except InvalidSiret:
        return False
    return True


def is_valid_siren(raw: str | None) -> bool:
    """True when raw is a 9-digit SIREN with a correct Luhn key."""
    number = normalise(raw)
    return bool(re.fullmatch(r"[0-9]{9}", number)) and stdnum_siren.is_valid(number)
