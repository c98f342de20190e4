"""E-mail: the SMTP sender and the per-app worker that empties the outbox. No Flask."""
