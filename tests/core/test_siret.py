"""SIRET rules: separators people paste, ASCII digits only, SIREN typed instead, keys."""

import pytest

from portail.core.siret import (
    InvalidSiret,
    is_valid_siren,
    is_valid_siret,
    normalise,
    validate_siret,
)

VALID = "73282932000074"  # a Luhn-valid SIRET


@pytest.mark.parametrize(
    "typed",
    [
        "732 829 320 00074",
        "732.829.320.00074",
        "732\u00a0829\u00a0320\u00a000074",  # no-break spaces from a word processor
        "732\u202f829\u202f320\u202f00074",  # narrow no-break spaces
        " 73282932000074 ",
        "732 829 320\t00074",
    ],
)
def test_separators_people_paste_are_accepted(typed):
    assert validate_siret(typed) == VALID


@pytest.mark.parametrize(
    "typed",
    [
        "٧٣٢٨٢٩٣٢٠٠٠٠٧٤",  # Arabic-Indic digits: isdigit() is True, but not a SIRET
        "７３２８２９３２０００７４",  # full-width digits
        "73282932O00074",  # letter O for zero
        "732-829-320-00074",
        "73282932000074x",
    ],
)
def test_anything_but_ascii_digits_is_refused(typed):
    with pytest.raises(InvalidSiret) as error:
        validate_siret(typed)
    assert error.value.code == "characters"
    assert "chiffres de 0 à 9" in error.value.message


def test_siren_typed_instead_of_siret_is_explained():
    with pytest.raises(InvalidSiret) as error:
        validate_siret("732 829 320")
    assert error.value.code == "siren"
    assert "SIREN" in error.value.message and "14" in error.value.message


@pytest.mark.parametrize(("typed", "count"), [("7328293200007", 13), ("732829320000745", 15)])
def test_wrong_length_says_how_many_digits_were_typed(typed, count):
    with pytest.raises(InvalidSiret) as error:
        validate_siret(typed)
    assert error.value.code == "length"
    assert f"vous en avez saisi {count} chiffres" in error.value.message


def test_wrong_check_digit_is_refused():
    with pytest.raises(InvalidSiret) as error:
        validate_siret("73282932000075")
    assert error.value.code == "checksum"
    assert "clé de contrôle" in error.value.message


def test_empty_siret_asks_for_it():
    with pytest.raises(InvalidSiret) as error:
        validate_siret("  ")
    assert error.value.code == "empty"


def test_la_poste_rule_accepts_digit_sum_multiple_of_five():
    # La Poste establishments (SIREN 356000000) are not Luhn-valid: digit sum % 5 == 0 instead.
    siret = "35600000049837"
    assert sum(map(int, siret)) % 5 == 0
    assert validate_siret(siret) == siret
    assert not is_valid_siret("35600000049838")


def test_normalise_keeps_what_is_not_a_separator():
    assert normalise("12 34.5\u00a06") == "123456"
    assert normalise("12a4") == "12a4"


def test_siren_validation():
    assert is_valid_siren("732 829 320")
    assert not is_valid_siren("732829321")
    assert not is_valid_siren("٧٣٢٨٢٩٣٢٠")
