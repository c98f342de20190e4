"""Durability proven (issue 10, H9): a server killed with SIGKILL in the middle of a stream of
deposits from several clients, then restarted on the same database, still has every
deposit it acknowledged (303), none twice, and a sound database file.

The server is a real process started with the README's production command; SIGKILL gives it
no chance to flush or close anything. (A power cut is beyond a test: there, it is
`synchronous=FULL` on every deposit's commit that keeps an acknowledged deposit.)
"""

from __future__ import annotations

import http.client
import re
import sqlite3
import threading
import time
from urllib.parse import urlencode

from tests.applicant.htmx_helpers import complete_form
from tests.server_process import PortalProcess

CLIENTS = 6
# No filing limit per address here: the clients file far faster than any person would.
CONFIG = {"FILING_LIMIT_PER_MINUTE": 0, "FILING_LIMIT_PER_DAY": 0}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_REF = re.compile(r"/demande/([A-Z0-9-]+)/recu$")


class Applicant(threading.Thread):
    """One client filing deposits one after the other until the server is gone."""

    def __init__(self, port: int, index: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.index, self.stop = port, index, stop
        self.acknowledged: dict[str, str] = {}  # reference -> the project's title
        self.unanswered = 0  # sent when the server died: filed or not, nobody was told
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._file()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _file(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            self._stream(connection)
        finally:
            connection.close()

    def _stream(self, connection: http.client.HTTPConnection) -> None:
        forwarded = {"X-Forwarded-For": f"192.0.2.{self.index + 1}"}
        connection.request("GET", "/demande", headers=forwarded)
        answer = connection.getresponse()
        page = answer.read().decode()
        cookie = "; ".join(
            value.split(";", 1)[0] for name, value in answer.getheaders() if name == "Set-Cookie"
        )
        token = _TOKEN.search(page).group(1)
        number = 0
        while not self.stop.is_set():
            title = f"Projet {self.index}-{number}"
            body = urlencode(complete_form(token, intitule_projet=title))
            headers = {
                **forwarded,
                "Cookie": cookie,
                "Content-Type": "application/x-www-form-urlencoded",
            }
            try:
                connection.request("POST", "/demande", body=body, headers=headers)
                answer = connection.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException):
                self.unanswered += 1
                return  # the server is gone
            assert answer.status == 303, f"filing answered {answer.status}"
            self.acknowledged[_REF.search(answer.getheader("Location")).group(1)] = title
            number += 1


def test_every_acknowledged_deposit_survives_a_sigkill(tmp_path):
    database = tmp_path / "portail.sqlite3"
    server = PortalProcess(tmp_path, database=database, **CONFIG).start()
    stop = threading.Event()
    applicants = [Applicant(server.port, index, stop) for index in range(CLIENTS)]
    try:
        for applicant in applicants:
            applicant.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if sum(len(a.acknowledged) for a in applicants) >= 120:
                break
            time.sleep(0.02)
        server.kill()  # in the middle of the stream: every client has a request in flight
    finally:
        stop.set()
        server.kill()
        for applicant in applicants:
            applicant.join(15)
    for applicant in applicants:
        assert applicant.error is None, repr(applicant.error)
    acknowledged = {ref: title for a in applicants for ref, title in a.acknowledged.items()}
    assert len(acknowledged) >= 120

    with PortalProcess(tmp_path, database=database, **CONFIG) as restarted:
        connection = sqlite3.connect(database)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            rows = connection.execute("SELECT ref, intitule_projet FROM deposits").fetchall()
        finally:
            connection.close()
        stored: dict[str, list[str]] = {}
        for ref, title in rows:
            stored.setdefault(ref, []).append(title)
        missing = [ref for ref in acknowledged if ref not in stored]
        assert missing == [], f"{len(missing)} acknowledged deposits lost"
        assert all(stored[ref] == [title] for ref, title in acknowledged.items())
        titles = [title for _ref, title in rows]
        assert len(titles) == len(set(titles)), "a deposit was stored twice"
        # At most the requests in flight at the kill were filed without an answer.
        assert len(rows) - len(acknowledged) <= sum(a.unanswered for a in applicants)
        # The restarted server serves the receipts and takes new deposits.
        for ref in list(acknowledged)[:: max(1, len(acknowledged) // 5)]:
            receipt = http.client.HTTPConnection("127.0.0.1", restarted.port, timeout=10)
            receipt.request("GET", f"/demande/{ref}/recu", headers={"X-Forwarded-For": "192.0.2.1"})
            assert receipt.getresponse().status == 200
            receipt.close()
        again = Applicant(restarted.port, 99, threading.Event())
        again.stop.set()  # get a form, file nothing: the server answers
        again.run()
        assert again.error is None
