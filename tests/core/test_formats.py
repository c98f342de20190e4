"""Dates in words, Paris time, for the pages agents read (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portail.admin.deposit_lines import origin_summary
from portail.core.formats import date_long, paris_long


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-05-01", "1er mai 2019"),
        ("2026-08-15T10:00:00+00:00", "15 août 2026"),
        ("", ""),
        ("inconnue", "inconnue"),
    ],
)
def test_date_long_writes_the_month_in_words(value, expected):
    assert date_long(value) == expected


def test_paris_long_is_in_paris_time_with_no_break_spaces():
    assert paris_long("2026-11-30T13:05:00+00:00") == "30 novembre 2026 à 14\u00a0h\u00a005"
    summer = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # already the 2nd in Paris
    assert paris_long(summer) == "2 juillet 2026 à 0\u00a0h\u00a030"
    assert paris_long(None) == ""


@pytest.mark.parametrize(
    ("prefilled", "changed", "expected"),
    [
        (12, 0, "12 champs pré-remplis depuis API Entreprise, aucun modifié par le demandeur."),
        (12, 1, "12 champs pré-remplis depuis API Entreprise, dont 1 modifié par le demandeur."),
        (12, 3, "12 champs pré-remplis depuis API Entreprise, dont 3 modifiés par le demandeur."),
        (1, 0, "1 champ pré-rempli depuis API Entreprise, aucun modifié par le demandeur."),
        (0, 0, "Aucun champ pré-rempli\u202f: toutes les valeurs ont été saisies par le demandeur"),
    ],
)
def test_origin_summary_says_how_many_were_changed_in_words(prefilled, changed, expected):
    assert origin_summary(prefilled, changed).removesuffix(".") == expected.removesuffix(".")
