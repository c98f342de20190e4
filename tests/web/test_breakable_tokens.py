"""The `breakable` filter: a long code token (route path, query string) in a narrow admin
table cell breaks between its segments, and stays escaped."""

from __future__ import annotations

from portail.web.layout import breakable


def test_a_route_path_breaks_after_each_inner_slash():
    route = "/v4/insee/sirene/etablissements/diffusibles/{siret}"
    assert str(breakable(route)) == (
        "/v4/<wbr>insee/<wbr>sirene/<wbr>etablissements/<wbr>diffusibles/<wbr>{siret}"
    )


def test_a_query_string_breaks_between_its_parameters_and_words_and_is_escaped():
    assert str(breakable("q=val+fleuri&per_page=10")) == ("q=val+<wbr>fleuri&amp;<wbr>per_page=10")
    assert str(breakable("<script>/x")) == "&lt;script&gt;/<wbr>x"


def test_nothing_gives_an_empty_token():
    assert str(breakable(None)) == ""
    assert str(breakable("200")) == "200"
