"""The portal's one time zone: authorities, applicants and receipts live on Paris time.

Stored times are UTC; this zone is for showing them and for turning a French calendar day
into a UTC range. tzdata is a pinned requirement, so summer time is right on every host.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
