"""Property-based tests of the SIRET normaliser (hypothesis), against python-stdnum's own
validation: whatever string comes in, validate_siret agrees with stdnum on the digits and
never raises anything but InvalidSiret."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.fr import siret as stdnum_siret

from portail.core.siret import InvalidSiret, is_valid_siret, normalise, validate_siret

FAST = settings(
    max_examples=400,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the tree
    suppress_health_check=[HealthCheck.too_slow],
)

SEPARATORS = [" ", ".", "\u00a0", "\u202f", "\u2007", "\t", "  "]


@st.composite
def spaced_numbers(draw):
    """Digits as people type or paste them: ASCII digits split by separators, sometimes
    14 with a correct Luhn key, sometimes La Poste's, sometimes any length."""
    kind = draw(st.sampled_from(["luhn", "poste", "any"]))
    if kind == "luhn":
        body = draw(st.text("0123456789", min_size=13, max_size=13))
        digits = body + luhn.calc_check_digit(body)
    elif kind == "poste":
        digits = "356000000" + draw(st.text("0123456789", min_size=5, max_size=5))
    else:
        digits = draw(st.text("0123456789", min_size=0, max_size=20))
    pieces, rest = [], digits
    while rest:
        cut = draw(st.integers(1, max(1, len(rest))))
        pieces.append(rest[:cut])
        rest = rest[cut:]
    separators = st.sampled_from(SEPARATORS)
    return "".join(piece + draw(separators) for piece in pieces).strip() if pieces else ""


ANY_TEXT = st.one_of(st.text(max_size=30), spaced_numbers(), st.none())


def stdnum_verdict(raw: str | None) -> str | None:
    """stdnum's 14-digit SIRET for what our normaliser keeps, else None."""
    number = normalise(raw)
    if not re.fullmatch(r"[0-9]{14}", number):
        return None  # stdnum's isdigits is ASCII-only too; the length is checked below
    return number if stdnum_siret.is_valid(number) else None


@FAST
@given(ANY_TEXT)
@example("١٢٣٤٥٦٧٨٩٠١٢٣٤")  # Arabic-Indic digits are not SIRET digits
@example("９９９１２３４０９０００１６")  # nor full-width ones
@example("35600000000048")  # La Poste's head office (Luhn)
@example("999 123 409 00016\n")
def test_validation_agrees_with_stdnum_and_raises_only_invalid_siret(raw):
    expected = stdnum_verdict(raw)
    try:
        result = validate_siret(raw)
    except InvalidSiret as exc:
        assert expected is None
        assert exc.message and exc.code in {"empty", "characters", "siren", "length", "checksum"}
    else:
        assert result == expected
        assert re.fullmatch(r"[0-9]{14}", result)
    assert is_valid_siret(raw) == (expected is not None)


@FAST
@given(ANY_TEXT)
def test_normalise_only_removes_separators(raw):
    number = normalise(raw)
    assert isinstance(number, str)
    assert not re.search(r"[\s.\u00a0\u202f\u2007]", number)
    assert normalise(number) == number  # idempotent
    # Nothing but separators was removed: the other characters stay, in their order.
    kept = re.sub(r"[\s.\u00a0\u202f\u2007]", "", raw or "")
    assert number == kept


@FAST
@given(spaced_numbers())
def test_a_valid_siret_is_valid_however_it_is_spaced(raw):
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 14 and stdnum_siret.is_valid(digits):
        assert validate_siret(raw) == digits
        assert validate_siret(f"  {raw}  ") == digits
