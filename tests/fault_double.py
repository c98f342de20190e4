"""A loopback HTTP double of API Entreprise with fault injection, for tests and the benchmark.

A real threaded HTTP/1.1 server on 127.0.0.1 (ephemeral port): the client under test goes
through real sockets, so timeouts, trickling bodies, huge bodies and refused connections
behave as they would against the real API. Behaviours are `Reply` objects, chosen per
request in this order: the global queue (`queue(...)`), then the first rule whose path
prefix matches (`on(prefix, ...)`: a list is consumed in order, its last reply repeats),
then the default: a 200 with a fictitious établissement for the SIRET in the path.

Every request is recorded (`seen`) with its time, path, query and headers, so tests count
the calls that actually reached the "API".
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

JSON_TYPE = "application/json; charset=utf-8"


@dataclass
class Reply:
    """What the double answers to one request."""

    status: int = 200
    body: bytes | str | dict | list | None = None  # None: a fictitious établissement
    headers: dict = field(default_factory=dict)
    content_type: str | None = JSON_TYPE
    delay: float = 0.0  # seconds before the status line
    hang: bool = False  # never answer (until the double stops)
    trickle: float = 0.0  # seconds between body chunks of `trickle_size` bytes
    trickle_size: int = 1
    content_length: int | None = None  # announce a length other than the real one
    chunked: bool = False  # Transfer-Encoding: chunked, no Content-Length
    drop: bool = False  # close the connection without answering


@dataclass(frozen=True)
class Seen:
    """One request received by the double."""

    at: float  # time.time()
    method: str
    path: str
    query: dict
    headers: dict


def error_body(code: str, title: str, detail: str = "", **meta) -> dict:
    """An API Entreprise error body (fictitious wording, the real shape)."""
    return {
        "errors": [{"code": code, "title": title, "detail": detail, "source": None, "meta": meta}]
    }


_TEMPLATE = {
    "data": {
        "siret": "00000000000000",
        "siege_social": True,
        "etat_administratif": "A",
        "date_fermeture": None,
        "activite_principale": {
            "code": "62.01Z",
            "libelle": "Programmation informatique",
            "nomenclature": "NAFRev2",
        },
        "tranche_effectif_salarie": {
            "code": "11",
            "intitule": "10 à 19 salariés",
            "date_reference": "2023",
            "de": 10,
            "a": 19,
        },
        "status_diffusion": "diffusible",
        "diffusable_commercialement": True,
        "enseigne": None,
        "unite_legale": {
            "siren": "000000000",
            "siret_siege_social": "00000000000000",
            "type": "personne_morale",
            "personne_morale_attributs": {"raison_sociale": "DOUBLE DE TEST", "sigle": None},
            "personne_physique_attributs": {
                "pseudonyme": None,
                "prenom_usuel": None,
                "prenom_1": None,
                "prenom_2": None,
                "prenom_3": None,
                "prenom_4": None,
                "nom_usage": None,
                "nom_naissance": None,
                "sexe": None,
            },
            "categorie_entreprise": "PME",
            "status_diffusion": "diffusible",
            "diffusable_commercialement": True,
            "forme_juridique": {"code": "5710", "libelle": "SAS, société par actions simplifiée"},
            "activite_principale": {
                "code": "62.01Z",
                "libelle": "Programmation informatique",
                "nomenclature": "NAFRev2",
            },
            "tranche_effectif_salarie": {
                "code": "11",
                "intitule": "10 à 19 salariés",
                "date_reference": "2023",
                "de": 10,
                "a": 19,
            },
            "etat_administratif": "A",
            "economie_sociale_et_solidaire": False,
            "date_creation": 1262304000,
            "date_cessation": None,
        },
        "adresse": {
            "status_diffusion": "diffusible",
            "complement_adresse": None,
            "numero_voie": "12",
            "indice_repetition_voie": None,
            "type_voie": "RUE",
            "libelle_voie": "DES ESSAIS",
            "code_postal": "75011",
            "libelle_commune": "PARIS 11",
            "libelle_commune_etranger": None,
            "distribution_speciale": None,
            "code_commune": "75111",
            "code_cedex": None,
            "libelle_cedex": None,
            "code_pays_etranger": None,
            "libelle_pays_etranger": None,
            "acheminement_postal": {
                "l1": "DOUBLE DE TEST",
                "l2": "",
                "l3": "",
                "l4": "12 RUE DES ESSAIS",
                "l5": "",
                "l6": "75011 PARIS",
                "l7": "FRANCE",
            },
        },
        "date_creation": 1262304000,
        "activite_principale_naf_rev2": {
            "code": "62.01Z",
            "libelle": "Programmation informatique",
            "nomenclature": "NAFRev2",
        },
    },
    "links": {},
    "meta": {"date_derniere_mise_a_jour": 1759701600, "redirect_from_siret": None},
}


def etablissement_body(siret: str, name: str = "DOUBLE DE TEST", legal_form: str = "5710") -> dict:
    """A fictitious open-data établissement answer for `siret` (same shape as the API's)."""
    body = copy.deepcopy(_TEMPLATE)
    data = body["data"]
    data["siret"] = siret
    data["unite_legale"]["siren"] = siret[:9]
    data["unite_legale"]["siret_siege_social"] = siret
    data["unite_legale"]["personne_morale_attributs"]["raison_sociale"] = name
    if legal_form.startswith("92"):
        data["unite_legale"]["forme_juridique"] = {
            "code": legal_form,
            "libelle": "Association déclarée",
        }
    return body


def association_body(siren: str, rna: str = "W751000001", purpose: str = "Jardins") -> dict:
    """A fictitious open-data association answer."""
    return {
        "data": {
            "rna": rna,
            "siren": siren,
            "nom": "ASSOCIATION DU DOUBLE",
            "activites": {"objet": purpose},
            "forme_juridique": {"code": "9220", "libelle": "Association déclarée"},
        },
        "links": {},
        "meta": {},
    }


def _default_reply(path: str) -> Reply:
    identifier = path.rstrip("/").rsplit("/", 1)[-1]
    if "/associations/" in path:
        return Reply(body=association_body(identifier[:9]))
    if path == "/privileges":
        return Reply(body={"privileges": ["open_data"]})
    return Reply(body=etablissement_body(identifier))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class FaultDouble:
    """The double: `with FaultDouble() as api: ... api.url ... api.seen`."""

    def __init__(self, default: Callable[[str], Reply] | Reply | None = None):
        self.default = default
        self.seen: list[Seen] = []
        self._queue: list[Reply] = []
        self._rules: list[tuple[str, list[Reply]]] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- behaviours -------------------------------------------------------------------

    def queue(self, *replies: Reply) -> FaultDouble:
        """Answer the next requests (any path) with these replies, in order."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def on(self, prefix: str, *replies: Reply) -> FaultDouble:
        """Answer paths starting with `prefix` with these replies; the last one repeats."""
        with self._lock:
            self._rules.insert(0, (prefix, list(replies)))
        return self

    def reset(self) -> None:
        """Forget behaviours and recorded requests."""
        with self._lock:
            self._queue.clear()
            self._rules.clear()
            self.seen.clear()

    def _choose(self, path: str) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
            for prefix, replies in self._rules:
                if path.startswith(prefix):
                    return replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(self.default, Reply):
            return self.default
        if callable(self.default):
            return self.default(path)
        return _default_reply(path)

    def count(self, prefix: str = "") -> int:
        """Requests received so far whose path starts with `prefix`."""
        with self._lock:
            return sum(1 for seen in self.seen if seen.path.startswith(prefix))

    # -- server -----------------------------------------------------------------------

    def start(self) -> FaultDouble:
        """Bind 127.0.0.1 on an ephemeral port and serve in a daemon thread."""
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like the real API
            # Headers and body leave in separate writes: without TCP_NODELAY, Nagle and the
            # peer's delayed ACK would add 40 ms to every answer of a "zero-latency" double.
            disable_nagle_algorithm = True

            def log_message(self, *_args):  # quiet tests
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                with double._lock:
                    double.seen.append(
                        Seen(
                            time.time(),
                            "GET",
                            parts.path,
                            dict(parse_qsl(parts.query, keep_blank_values=True)),
                            dict(self.headers.items()),
                        )
                    )
                double._answer(self, double._choose(parts.path))

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hanging handlers and close the server."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultDouble:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def _answer(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.drop:
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.hang:
            self.stopping.wait(60)
            handler.close_connection = True
            return
        if reply.delay and self.stopping.wait(reply.delay):
            return
        body = reply.body
        if body is None and reply.status == 200:
            body = _default_reply(urlsplit(handler.path).path).body
        if isinstance(body, (dict, list)):
            raw = json.dumps(body, ensure_ascii=False).encode()
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = body or b""
        try:
            handler.send_response(reply.status)
            if reply.content_type:
                handler.send_header("Content-Type", reply.content_type)
            handler.send_header("X-Request-ID", str(uuid.uuid4()))
            for name, value in reply.headers.items():
                handler.send_header(name, str(value))
            if reply.chunked:
                handler.send_header("Transfer-Encoding", "chunked")
            else:
                length = reply.content_length if reply.content_length is not None else len(raw)
                handler.send_header("Content-Length", str(length))
            handler.end_headers()
            if reply.trickle:
                step = max(1, reply.trickle_size)
                for start in range(0, len(raw), step):
                    if self.stopping.wait(reply.trickle):
                        return
                    handler.wfile.write(raw[start : start + step])
                    handler.wfile.flush()
            elif reply.chunked:
                for start in range(0, len(raw), 65536):
                    piece = raw[start : start + 65536]
                    handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                handler.wfile.write(b"0\r\n\r\n")
            else:
                handler.wfile.write(raw)
            if reply.content_length is not None and reply.content_length != len(raw):
                handler.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up (timeout, size cap)


def refused_url() -> str:
    """A loopback URL where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
