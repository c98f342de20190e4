"""Pure rules, no Flask and no I/O: SIRET, tiers mapping, labels, formats, settings rules,
token claims, passwords, network addresses, log scrubbing."""
