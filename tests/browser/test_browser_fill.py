"""Issue 11, "fill at the 14th digit": in Debian's Chromium against the loopback API double.

The SIRET input looks up as soon as it holds 14 valid digits, typed or pasted, with no
debounce (static/siret-lookup.js); a correction replaces the lookup in flight; nothing is
sent, and the aria-live status line says nothing, while the first 13 digits are typed.
"""

from __future__ import annotations

import pytest
from stdnum.fr import siret as stdnum_siret

from tests import browser_support
from tests.api_helpers import portal_on, valid_siret
from tests.fault_double import FaultDouble, Reply, etablissement_body

pytestmark = pytest.mark.browser
browser_support.require_chromium()

from playwright.sync_api import expect  # noqa: E402  (after the Chromium check on purpose)

ESTABLISHMENTS = "/v4/insee/sirene/etablissements/diffusibles/"
FIRST = valid_siret(1, series=88)
LA_POSTE = "35600000000001"  # an établissement of La Poste: digit sum multiple of 5, no Luhn


def corrected(siret: str) -> str:
    """Another valid SIRET differing from `siret` in its last two digits only."""
    for tail in range(100):
        candidate = f"{siret[:12]}{tail:02d}"
        if candidate != siret and stdnum_siret.is_valid(candidate):
            return candidate
    raise AssertionError("no corrected SIRET")


def spaced(siret: str) -> str:
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"


@pytest.fixture
def api():
    """The API double over loopback HTTP, answering after 100 ms like a quick upstream."""
    with FaultDouble(default=lambda path: Reply(delay=0.1, body=named(path))) as double:
        yield double


def named(path: str) -> dict:
    siret = path.rstrip("/").rsplit("/", 1)[-1]
    return etablissement_body(siret, name=f"ENTREPRISE {siret}")


@pytest.fixture
def base_url(tmp_path, api):
    app = portal_on(tmp_path, api.url)
    with browser_support.live_server(app) as url:
        yield url


@pytest.fixture
def page(chromium, base_url):
    context = chromium.new_context()
    page = context.new_page()
    page.lookups = []
    page.on(
        "request",
        lambda request: (
            page.lookups.append(request)
            if request.url.startswith(f"{base_url}/demande/tiers")
            else None
        ),
    )
    page.goto(f"{base_url}/demande")
    # Every text the aria-live status line takes, in order.
    page.evaluate(
        """() => {
          window.statusTexts = [];
          window.keyTimes = [];
          window.requestTimes = [];
          document.addEventListener("keydown", () => window.keyTimes.push(performance.now()));
          document.addEventListener("htmx:beforeRequest",
            () => window.requestTimes.push(performance.now()));
          const status = document.getElementById("siret-status");
          new MutationObserver(() => window.statusTexts.push(status.textContent.trim()))
            .observe(status, {childList: true, subtree: true, characterData: true});
        }"""
    )
    yield page
    context.close()


def calls(api, siret: str) -> int:
    return api.count(ESTABLISHMENTS + siret)


def test_typing_key_by_key_looks_up_once_at_the_14th_digit(page, api):
    typed = spaced(FIRST)
    siret_input = page.locator("#f-siret")
    siret_input.click()
    siret_input.press_sequentially(typed[:-1], delay=20)  # 13 digits
    page.wait_for_timeout(450)  # longer than the former 300 ms debounce
    assert page.lookups == []  # nothing sent for an incomplete SIRET...
    assert page.evaluate("window.statusTexts") == []  # ...and nothing announced
    assert page.input_value("#f-raison_sociale") == ""
    siret_input.press_sequentially(typed[-1])
    expect(page.locator("#f-raison_sociale")).to_have_value(f"ENTREPRISE {FIRST}")
    expect(page.locator("#siret-status")).to_contain_text("Informations publiques trouvées")
    assert page.input_value("#f-siret") == typed  # what was typed is left as typed
    # No debounce: the request leaves right after the 14th key (it waited 300 ms before).
    lag = page.evaluate("window.requestTimes[0] - window.keyTimes[window.keyTimes.length - 1]")
    assert 0 <= lag < 100, lag
    expect(siret_input).to_be_focused()
    # A separator added after the lookup changes no digit: no second lookup.
    siret_input.press("End")
    siret_input.press_sequentially(" ")
    page.wait_for_timeout(450)
    assert len(page.lookups) == 1
    assert calls(api, FIRST) == 1
    texts = page.evaluate("window.statusTexts")
    assert texts and all("Informations publiques trouvées" in text for text in texts), texts


def test_pasting_fills_la_poste_included(page, api):
    page.focus("#f-siret")
    pasted = page.evaluate("performance.now()")
    page.keyboard.insert_text("356\u00a0000\u00a0000\u00a000001")  # a paste from a PDF
    expect(page.locator("#f-raison_sociale")).to_have_value(f"ENTREPRISE {LA_POSTE}")
    assert page.evaluate("window.requestTimes[0]") - pasted < 100  # no debounce
    assert calls(api, LA_POSTE) == 1
    assert len(page.lookups) == 1


def test_a_correction_replaces_the_lookup_in_flight(page, api):
    second = corrected(FIRST)
    # The first SIRET's answer is slow: the correction comes while it is in flight.
    api.on(ESTABLISHMENTS + FIRST, Reply(delay=1.0, body=named(FIRST)))
    siret_input = page.locator("#f-siret")
    siret_input.click()
    siret_input.press_sequentially(FIRST, delay=20)
    page.wait_for_function(
        "() => document.querySelector('#siret-indicator').classList.contains('htmx-request')"
    )
    siret_input.press("Backspace")
    siret_input.press("Backspace")
    page.wait_for_timeout(400)  # the applicant hesitates: 12 digits are not looked up
    siret_input.press_sequentially(second[-2:], delay=20)
    expect(page.locator("#f-raison_sociale")).to_have_value(f"ENTREPRISE {second}")
    page.wait_for_timeout(1300)  # the first SIRET's answer has come back to the portal by now
    assert page.input_value("#f-raison_sociale") == f"ENTREPRISE {second}"
    assert page.input_value("#f-siret") == second
    # The first SIRET was looked up at its 14th digit, with no debounce, but its answer
    # never reached the form.
    assert calls(api, FIRST) == 1 and calls(api, second) == 1
    assert len(page.lookups) == 2
    texts = page.evaluate("window.statusTexts")
    assert texts and all("Informations publiques trouvées" in text for text in texts), texts


def test_an_invalid_14_digit_siret_says_why_without_calling_the_api(page, api):
    wrong = FIRST[:-1] + str((int(FIRST[-1]) + 1) % 10)
    siret_input = page.locator("#f-siret")
    siret_input.click()
    siret_input.press_sequentially(wrong[:-1], delay=20)
    page.wait_for_timeout(450)
    assert page.lookups == [] and page.evaluate("window.statusTexts") == []
    siret_input.press_sequentially(wrong[-1])
    expect(page.locator("#siret-status")).to_contain_text("clé de contrôle")
    assert api.seen == []
    assert len(page.lookups) == 1


def test_leaving_an_incomplete_siret_asks_the_server(page, api):
    siret_input = page.locator("#f-siret")
    siret_input.click()
    siret_input.press_sequentially("880 000 016", delay=20)
    siret_input.press("Tab")
    expect(page.locator("#siret-status")).to_contain_text("vous en avez saisi 9.")
    assert api.seen == []
