"""`python -m portail.apientreprise.sandbox`: serve the sandbox on loopback until interrupted."""

from __future__ import annotations

import argparse
import time

from portail.apientreprise.sandbox.data import PERSONAS
from portail.apientreprise.sandbox.demo import DEMO_RECIPIENT_SIRET, mint_demo_token
from portail.apientreprise.sandbox.server import LoopbackSandbox

PROG = "python -m portail.apientreprise.sandbox"


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox on 127.0.0.1 until Ctrl-C, after printing a demo token and SIRETs."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Bac à sable API Entreprise (données fictives), servi sur 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8001, help="port d'écoute (défaut : 8001)")
    options = parser.parse_args(argv)
    server = LoopbackSandbox(port=options.port).start()
    print(f"Bac à sable API Entreprise (fictif) : {server.url}")
    print(f"Jeton de démonstration (fictif) : {mint_demo_token()}")
    print(f"SIRET destinataire (recipient) : {DEMO_RECIPIENT_SIRET}")
    for persona in PERSONAS:
        print(f"  {persona.siret}  {persona.label}")
    print("Ctrl-C pour arrêter.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
