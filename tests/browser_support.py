"""Browser test support: the real portal served by waitress, and Debian's Chromium.

Reusable by any browser test:

    with live_server(app) as base_url, browser() as chromium:
        page = chromium.new_page()
        page.goto(base_url + "/demande")

Chromium is Debian's `/usr/bin/chromium`; Playwright never downloads a browser here. Without
it, tests skip locally but fail in CI (env CI set), where the browser must be present.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import waitress
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def require_chromium() -> None:
    """Skip without Chromium, except in CI where its absence is a failure."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: browser tests must run in CI")
    pytest.skip(f"Debian's Chromium ({CHROMIUM}) is not installed", allow_module_level=True)


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve the app with waitress on 127.0.0.1 (ephemeral port); yield its base URL."""

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    closing = threading.Event()

    def serve() -> None:
        try:
            server.run()
        except Exception:
            # Closing the sockets from this thread races with the server's select loop,
            # which may then see a closed descriptor: expected once the test is over.
            if not closing.is_set():
                raise

    thread = threading.Thread(target=serve, name="waitress-test", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        closing.set()
        server.close()
        thread.join(timeout=5)


@contextmanager
def browser(french_ui: bool = False) -> Iterator[object]:
    """Launch Debian's Chromium through Playwright's sync API; yield the Browser.

    `french_ui`: the browser's own language French too (date fields read 01/03/2016, not
    03/01/2016), as a French applicant's browser; it takes Debian's chromium-l10n, without
    which Chromium stays in English. Only the screenshots ask for it: the other tests behave
    the same with or without that package."""
    require_chromium()
    args, env = CHROMIUM_ARGS, None
    if french_ui:
        args, env = [*CHROMIUM_ARGS, "--lang=fr-FR"], {**os.environ, "LANGUAGE": "fr"}

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, env=env)
        try:
            yield chromium
        finally:
            chromium.close()


def fill_applicant(page) -> None:
    """Type the representative, the e-mail and the project of a complete deposit, and tick
    the consent: everything but the organisation, which the lookup fills."""
    page.fill("#f-representant_nom", "Martin")
    page.fill("#f-representant_prenom", "Paul")
    page.fill("#f-representant_qualite", "Gérant")
    page.fill("#f-email", "paul.martin@example.org")
    page.fill("#f-intitule_projet", "Rénovation de l'atelier")
    page.fill("#f-description_projet", "Remplacement de la toiture de l'atelier.")
    page.fill("#f-montant_demande", "12 500")
    page.check("#f-consentement")
