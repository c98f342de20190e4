"""A dissolved association (`date_dissolution` in the DJEPVA answer) is announced in the
live status with the warning style, like a closed establishment, through a real HTTP double
of API Entreprise."""

from __future__ import annotations

import copy
import html

from portail.apientreprise import sandbox
from tests.api_helpers import portal_on
from tests.fault_double import FaultDouble, Reply

ASSOCIATION = "89967895700015"  # the sandbox's association (Jardins partagés du canal)
HX = {"HX-Request": "true", "HX-Target": "tiers-block"}


def _status(tmp_path, dissolved_on):
    record = copy.deepcopy(sandbox.association_payload("899678957", protected=False))
    record["data"]["date_dissolution"] = dissolved_on
    with FaultDouble() as double:
        double.on(
            "/v4/insee/", Reply(body=sandbox.etablissement_payload(ASSOCIATION, protected=False))
        )
        double.on("/v4/djepva/", Reply(body=record))
        app = portal_on(tmp_path, double.url)
        page = app.test_client().get(f"/demande/tiers?siret={ASSOCIATION}", headers=HX)
        assert page.status_code == 200
        return html.unescape(page.get_data(as_text=True))


def test_a_dissolved_association_is_announced_as_a_warning(tmp_path):
    page = _status(tmp_path, "2024-03-15")
    assert 'id="status-dissolved"' in page
    assert "Association dissoute" in page and "dissoute le 15/03/2024" in page
    assert 'class="status warning" id="status-dissolved"' in page
    assert 'value="W999000417"' in page  # the prefill itself still happens


def test_a_living_association_has_no_such_warning(tmp_path):
    assert "status-dissolved" not in _status(tmp_path, None)


def test_the_demonstrations_dissolved_association_shows_one_warning_in_its_own_words(client):
    # The sandbox's persona: dissolved (DJEPVA), so ceased in Sirene and its site closed.
    page = client.get("/demande/tiers?siret=99901000200015", headers=HX)
    text = html.unescape(page.get_data(as_text=True))
    assert "Association dissoute" in text and "dissoute le 15/03/2024" in text
    assert "fermé depuis le 15/03/2024" in text
    assert "Entreprise cessée" not in text  # not also called a ceased company
    assert 'value="W999000832"' in text and "pétanque" in text
