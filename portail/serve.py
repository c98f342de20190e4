"""`python -m portail.serve`: serve the portal with waitress and say how to use it.

`make run` calls this. In production, the README's `waitress-serve` command works as well.
"""

from __future__ import annotations

import argparse

import waitress

from app import create_app
from portail.storage import database, settings


def main(argv: list[str] | None = None) -> None:
    """Parse the host and port, build the app, print the URLs, serve until interrupted."""
    parser = argparse.ArgumentParser(description="Mini-portail des aides")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)

    app = create_app()
    db = database.connect(app.config["DATABASE"])
    try:
        conf = settings.load(db)
    finally:
        db.conn.close()
    base = f"http://{args.host}:{args.port}"
    print(f"\nMini-portail des aides : {base}/demande")
    if conf.demo:
        print("Mode démonstration : bac à sable intégré, données fictives.")
        print(f"SIRET de démonstration : {base}/demonstration")
    print(f"Administration : {base}/admin/ (identifiant « admin » en démonstration ;")
    print("  mot de passe affiché au premier démarrage, ou à redéfinir avec")
    print("  .venv/bin/flask --app app admin set-password admin)")
    print("Arrêt : Ctrl+C\n", flush=True)
    # Proxy headers reach the app, which trusts them TRUSTED_PROXIES hops deep (waitress
    # would delete X-Forwarded-For: README, "Production").
    waitress.serve(
        app,
        host=args.host,
        port=args.port,
        threads=args.threads,
        ident="portail",
        clear_untrusted_proxy_headers=False,
    )


if __name__ == "__main__":
    main()
