"""`python -m portail.apientreprise.sandbox --port 8001`: the sandbox on loopback."""

from portail.apientreprise.sandbox.cli import main

main()
