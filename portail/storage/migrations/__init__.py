"""Named migrations, one module each: `mNNNN_what.py` with `up(db)`.

Numbering bands keep parallel work apart: 0001-0099 core (settings, deposits),
0100-0199 admin and authentication, 0200-0299 API calls (journal, cache, rate budget),
0300-0399 the agents' search and the journal's indexes, 0400-0499 instruction (certified
checks, attestations), 0500-0599 the applicant's side (filing limits), 0600-0699 e-mail
(the outbox).
A migration is never edited once landed; a change is a new migration.
"""
