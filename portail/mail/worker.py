"""The app's mail worker: acknowledgements stored in the outbox at filing time, sent by a
background thread outside every request, retried with growing delays.

One `Mailer` per app, built by the wiring. Its thread starts on the first message to send
(or at start when messages are waiting), sleeps on a condition until the next one falls
due, and ends when nothing is left to send. Rows are claimed in BEGIN IMMEDIATE with a
lease, so several processes (or `flask mail send-pending`) never send one message twice.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from portail.core import acknowledgement
from portail.mail import smtp
from portail.storage import database, outbox
from portail.storage.deposits import FiledDeposit

logger = logging.getLogger("portail.mail")

# A few attempts over hours: 1 min, 5 min, 30 min, 2 h, 6 h (about 8 h 36 in all).
DEFAULT_RETRY_DELAYS = (60, 300, 1800, 7200, 21600)
MAX_SLEEP_SECONDS = 300.0  # the thread looks again at least this often while rows wait
ERROR_PAUSE_SECONDS = 5.0  # after a database error, before trying again


@dataclass
class Counts:
    """What one pass over the outbox did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


class Mailer:
    """Stores acknowledgements and sends them in the background, for one app."""

    def __init__(
        self,
        database_path: str,
        config: smtp.SmtpConfig | None,
        sender: str | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        authority: str | None = None,
    ):
        self.database_path = database_path
        self.config = config
        self.sender = sender or acknowledgement.DEFAULT_SENDER
        self.authority = authority or acknowledgement.DEFAULT_AUTHORITY  # AUTHORITY_NAME
        self.retry_delays = tuple(float(delay) for delay in retry_delays)
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._wanted = False
        self._stopped = False

    def __repr__(self) -> str:  # never the password, whatever logs it
        host = self.config.host if self.config else None
        return f"Mailer(host={host!r}, sender={self.sender!r})"

    @property
    def lease_seconds(self) -> float:
        """How long a claimed row stays another worker's: longer than one send can take."""
        timeout = self.config.timeout if self.config else smtp.DEFAULT_TIMEOUT
        return 4 * timeout + 60

    def acknowledge(self, db: sqlite_utils.Database, filed: FiledDeposit, demo: bool) -> int:
        """Store the acknowledgement of a filed deposit and wake the worker. Returns its id.

        Without SMTP_HOST the message stays in the outbox: marked "démonstration" in the
        demonstration (its page shows it), "non configuré" otherwise."""
        ack = acknowledgement.Acknowledgement(
            ref=filed.ref,
            filed_at=filed.created_at,
            organisation=filed.values.get("raison_sociale", ""),
            siret=filed.values.get("siret", ""),
            project=filed.values.get("intitule_projet", ""),
            amount_cents=filed.amount_cents,
            recipient=filed.values.get("email", ""),
            authority=self.authority,
        )
        subject = acknowledgement.subject(filed.ref)
        try:
            message = acknowledgement.build(ack, self.sender).as_string()
        except (acknowledgement.InvalidRecipient, ValueError) as exc:
            reason = str(exc) if isinstance(exc, acknowledgement.InvalidRecipient) else ""
            return outbox.add(
                db,
                deposit_ref=filed.ref,
                recipient=ack.recipient[:320],
                subject=subject,
                message="",
                status=outbox.FAILED,
                last_error=reason or "Message impossible à composer (adresse invalide).",
            )
        if self.config is not None:
            status = outbox.PENDING
        else:
            status = outbox.DEMONSTRATION if demo else outbox.NOT_CONFIGURED
        message_id = outbox.add(
            db,
            deposit_ref=filed.ref,
            recipient=ack.recipient,
            subject=subject,
            message=message,
            status=status,
        )
        if status == outbox.PENDING:
            self.wake()
        return message_id

    def send_pending(self, db: sqlite_utils.Database, limit: int = 100) -> Counts:
        """Send every due message this worker can claim (the CLI calls it too)."""
        counts = Counts()
        if self.config is None:
            return counts
        while True:
            claimed = outbox.claim(db, self.lease_seconds, limit=min(limit, 20))
            if not claimed:
                return counts
            for row in claimed:
                self._send_one(db, row, counts)
            limit -= len(claimed)
            if limit <= 0:
                return counts

    def _hand_over(self, row: outbox.Claimed) -> None:
        """smtp.send, where any other exception becomes a definitive SendFailure: whatever
        one message does (an encoding smtplib refuses, a bug), it ends failed with a reason
        and never stalls the messages claimed after it."""
        try:
            smtp.send(self.config, row.recipient, row.message)
        except smtp.SendFailure:
            raise
        except Exception as exc:  # noqa: BLE001
            logger.error("Courriel %s : erreur inattendue (%s)", row.id, type(exc).__name__)
            raise smtp.SendFailure(
                f"Erreur inattendue à l'envoi ({type(exc).__name__}) : message abandonné.",
                permanent=True,
            ) from None

    def _send_one(self, db: sqlite_utils.Database, row: outbox.Claimed, counts: Counts) -> None:
        try:
            self._hand_over(row)
        except smtp.SendFailure as failure:
            status = outbox.mark_failed(
                db,
                row.id,
                failure.reason,
                permanent=failure.permanent,
                retry_delays=self.retry_delays,
            )
            if status == outbox.FAILED:
                counts.failed += 1
            else:
                counts.retrying += 1
            logger.warning("Courriel %s : %s (%s)", row.id, status, failure.reason)
            return
        outbox.mark_sent(db, row.id)
        counts.sent += 1
        logger.info("Courriel %s envoyé", row.id)

    def wake(self) -> None:
        """Start the thread if it is not running (in this process), and wake it."""
        with self._cond:
            self._wanted = True
            self._stopped = False
            alive = self._thread is not None and self._thread.is_alive()
            if not alive or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="portail-mail", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def resume(self) -> None:
        """At start: drop the messages of purged deposits, and wake the worker if messages
        wait from an earlier run."""
        db = database.connect(self.database_path)
        try:
            outbox.prune(db)
            due = outbox.next_due(db) if self.config is not None else None
        finally:
            db.conn.close()
        if due is not None:
            self.wake()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (tests, shutdown); a later message starts it again."""
        with self._cond:
            self._stopped = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        db = database.connect(self.database_path)
        try:
            while True:
                with self._cond:
                    self._wanted = False
                pause = None
                try:
                    self.send_pending(db)
                    due = outbox.next_due(db)
                except Exception:  # the thread must outlive a locked or broken database
                    logger.exception("Envoi des courriels interrompu")
                    due, pause = time.time() + ERROR_PAUSE_SECONDS, ERROR_PAUSE_SECONDS
                with self._cond:
                    if self._stopped or (due is None and not self._wanted):
                        if self._thread is threading.current_thread():
                            self._thread = None
                        return
                    if self._wanted:
                        continue
                    wait = pause or min(max(due - time.time(), 0.05), MAX_SLEEP_SECONDS)
                    self._cond.wait(timeout=wait)
        finally:
            db.conn.close()
