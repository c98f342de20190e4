"""core.tokens.may_open: whether a token's scopes open a route (the instruction's check
before any protected call or attestation)."""

from __future__ import annotations

from portail.core.tokens import may_open, mint_token


def test_a_token_opens_a_route_when_it_holds_one_of_its_scopes():
    token = mint_token(["open_data", "attestations_fiscales"])
    assert may_open(token, {"attestations_fiscales", "attestations_fiscales_dgfip"})
    assert not may_open(token, frozenset({"attestations_sociales"}))
    assert not may_open(mint_token([]), {"open_data"})


def test_an_unreadable_token_is_left_for_the_api_to_judge():
    assert may_open("not-a-jwt", {"open_data"})
