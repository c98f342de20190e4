"""HTTP client for API Entreprise: routes, mandatory parameters, errors mapped to exceptions.

This module knows nothing of Flask, the database, the cache or the quota: it makes one call,
returns an `ApiAnswer` or raises one `ApiEntrepriseError` subclass per class of error. The
lookup service (`portail.lookup`) decides when a call may leave.

Rules kept here, because they hold for every caller:
- the token travels only in the `Authorization` header, and never reaches an exception
  text, a repr or a log line (every message is built from our own words plus the API's
  status, code, title and `X-Request-ID`, then scrubbed of the token for good measure);
- redirects are never followed (a 3xx is a bad answer: following it could send the token
  to another host);
- urllib3 never retries and never sleeps on `Retry-After`: the shared rate budget decides;
- the body is streamed with a size cap and a total deadline, so a trickling or huge answer
  cannot hold a request thread past the timeout.
"""

from __future__ import annotations

import logging
import math

from portail.apientreprise.answer import MAX_RETRY_AFTER

logger = logging.getLogger(__name__)


HAND_FILL = "Vous pouvez compléter les champs vous-même."


def _wait_words(seconds: float | None) -> str:
    """French words for a waiting time: 'dans environ 30 secondes', 'dans environ 2 minutes'."""
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return "dans quelques instants"
    seconds = min(seconds, MAX_RETRY_AFTER)
    if seconds < 90:
        return f"dans environ {max(1, math.ceil(seconds))} secondes"
    return f"dans environ {math.ceil(seconds / 60)} minutes"


class ApiEntrepriseError(Exception):
    """Base of every API Entreprise failure, with one message per audience.

    `applicant_message` speaks to a citizen (French, vouvoiement, says they can fill in by
    hand); `admin_detail` tells the admin what happened and what to do, with the status,
    the API's error code and title and the `X-Request-ID` that support asks for.
    """

    kind = "error"
    default_title = "Erreur"

    def __init__(
        self,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        headers: dict | None = None,
        note: str | None = None,
    ):
        self.status = status
        self.code = code
        self.title = title or self.default_title
        self.detail = detail
        self.request_id = request_id
        self.retry_after = retry_after
        self.headers = dict(headers or {})
        self.note = note
        super().__init__(self._summary())

    def _summary(self) -> str:
        parts = [self.kind]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(f"code {self.code}")
        parts.append(self.title)
        if self.note:
            parts.append(self.note)
        if self.request_id:
            parts.append(f"X-Request-ID {self.request_id}")
        return " | ".join(parts)

    @property
    def applicant_message(self) -> str:
        """What the applicant reads in the status line."""
        return f"Le pré-remplissage est momentanément indisponible. {HAND_FILL}"

    @property
    def admin_action(self) -> str:
        """What the admin should do about it."""
        return "Aucune action nécessaire si l'erreur reste isolée."

    @property
    def admin_detail(self) -> str:
        """What the admin reads in the journal or the settings page. Never the token."""
        facts = []
        if self.status is not None:
            facts.append(f"statut HTTP {self.status}")
        if self.code:
            facts.append(f"code {self.code}")
        facts.append(f"« {self.title} »")
        if self.detail:
            facts.append(self.detail)
        if self.note:
            facts.append(self.note)
        if self.request_id:
            facts.append(f"X-Request-ID {self.request_id}")
        if self.retry_after is not None:
            facts.append(f"nouvel essai possible {_wait_words(self.retry_after)}")
        return f"{' ; '.join(facts)}. {self.admin_action}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._summary()!r})"

    def __reduce__(self):
        # Keyword-only __init__: pickle (multiprocessing) needs to rebuild from state.
        return (_rebuild_error, (type(self), self.__dict__.copy()))


def _rebuild_error(cls, state):
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._summary())
    return error


class NotFound(ApiEntrepriseError):
    """404: unknown entity, or outside the route's perimeter (on diffusibles: maybe protected)."""

    kind = "not_found"
    default_title = "Entité non trouvée"

    @property
    def applicant_message(self) -> str:
        return (
            "Aucune donnée publique n'est disponible pour ce SIRET. "
            "Vérifiez le numéro ou complétez les champs vous-même."
        )

    @property
    def admin_action(self) -> str:
        return "Réponse normale de l'API : l'entité n'a pas de données publiques."


class NotPublic(ApiEntrepriseError):
    """451: the entity was never published by INSEE; nothing may be shown."""

    kind = "not_public"
    default_title = "Indisponible pour des raisons légales"

    @property
    def applicant_message(self) -> str:
        return (
            "Les informations de cet établissement ne peuvent pas être affichées. "
            "Complétez les champs vous-même."
        )

    @property
    def admin_action(self) -> str:
        return "Réponse normale de l'API : l'entité n'est pas diffusée par l'INSEE."


class TokenRefused(ApiEntrepriseError):
    """401: the token is invalid (00101), expired (00103) or blacklisted (00105)."""

    kind = "token_refused"
    default_title = "Jeton refusé"

    @property
    def admin_action(self) -> str:
        if self.code == "00103":
            return "Le jeton a expiré : collez un nouveau jeton dans les paramètres."
        if self.code == "00105":
            return (
                "Le jeton est sur liste noire (probablement divulgué) : demandez-en un "
                "nouveau sur entreprise.api.gouv.fr et collez-le dans les paramètres."
            )
        return "Vérifiez le jeton dans les paramètres et, au besoin, collez-le à nouveau."


class ScopeMissing(ApiEntrepriseError):
    """403: the token is valid but lacks the scope this route needs."""

    kind = "scope_missing"
    default_title = "Privilèges insuffisants"

    @property
    def admin_action(self) -> str:
        return (
            "Le jeton n'a pas l'habilitation nécessaire pour cette donnée : vérifiez les "
            "droits (scopes) de votre habilitation DataPass."
        )


class BadParameter(ApiEntrepriseError):
    """422: the API rejected a parameter (recipient, context, object, identifier)."""

    kind = "bad_parameter"
    default_title = "Paramètre invalide"

    @property
    def admin_action(self) -> str:
        return "Vérifiez le SIRET de votre organisation et le contexte d'appel dans les paramètres."


class RecipientIsTarget(BadParameter):
    """422 code 00211: the looked-up entity shares the authority's SIREN."""

    kind = "recipient_is_target"
    default_title = "Le paramètre recipient est identique au SIRET/SIREN appelé."

    @property
    def applicant_message(self) -> str:
        return (
            "Ce SIRET appartient à la collectivité qui reçoit les demandes : ses informations "
            "ne peuvent pas être pré-remplies. Complétez les champs vous-même."
        )

    @property
    def admin_action(self) -> str:
        return (
            "Réponse normale : l'API refuse qu'une organisation se consulte elle-même "
            "(même SIREN que le SIRET de votre organisation)."
        )


class DuplicateInFlight(ApiEntrepriseError):
    """409 code 00015: an identical request of this token is already running."""

    kind = "duplicate"
    default_title = "Conflit"

    @property
    def applicant_message(self) -> str:
        return f"La recherche est déjà en cours. Réessayez dans quelques instants. {HAND_FILL}"

    @property
    def admin_action(self) -> str:
        return (
            "Une requête identique était déjà en cours (probablement depuis un autre "
            "processus du portail ou un autre logiciel utilisant le même jeton)."
        )


class RateLimited(ApiEntrepriseError):
    """429: the token's rate limit is reached; nothing may leave before `retry_after`."""

    kind = "rate_limited"
    default_title = "Trop de requêtes"

    @property
    def applicant_message(self) -> str:
        return (
            "Le service de pré-remplissage est momentanément saturé. Réessayez "
            f"{_wait_words(self.retry_after)}. {HAND_FILL}"
        )

    @property
    def admin_action(self) -> str:
        return (
            "Le portail suspend tous ses appels jusqu'à la fin du délai indiqué "
            "(ignorer un 429 fait bannir l'adresse IP 12 heures). Si cela se répète, "
            "vérifiez qu'aucun autre logiciel n'utilise le même jeton."
        )


class BudgetSpent(RateLimited):
    """The portal's own rate budget is spent: the call was not sent."""

    kind = "budget_spent"
    default_title = "Budget d'appels du portail épuisé"

    @property
    def admin_action(self) -> str:
        return (
            "Aucun appel envoyé : le portail garde une marge sous la limite de l'API. "
            "Si cela se répète, augmentez RATE_BUDGET_PER_MINUTE (sans dépasser 250)."
        )


class ClientShareSpent(BudgetSpent):
    """One client (IP address) has used its share of the budget: the call was not sent."""

    kind = "client_share_spent"
    default_title = "Part du budget d'un même poste épuisée"

    @property
    def applicant_message(self) -> str:
        return (
            "Vous avez lancé de nombreuses recherches en peu de temps. La recherche par SIRET "
            f"sera de nouveau possible {_wait_words(self.retry_after)}. {HAND_FILL}"
        )

    @property
    def admin_action(self) -> str:
        return (
            "Aucun appel envoyé : une même adresse IP ne peut utiliser qu'une part du budget "
            "(RATE_BUDGET_PER_CLIENT_PER_MINUTE), pour qu'un seul poste ou un robot ne prive "
            "pas les autres demandeurs du pré-remplissage."
        )


class NetworkShareSpent(ClientShareSpent):
    """The client's wider network (an IPv6 /48) has used its share: the call was not sent."""

    kind = "network_share_spent"
    default_title = "Part du budget d'un même réseau épuisée"

    @property
    def applicant_message(self) -> str:
        return (
            "De nombreuses recherches ont été lancées depuis votre réseau en peu de temps. La "
            f"recherche par SIRET sera de nouveau possible {_wait_words(self.retry_after)}. "
            f"{HAND_FILL}"
        )


class ProviderUnavailable(ApiEntrepriseError):
    """502/503/504 (and other 5xx): the data provider is down or too slow."""

    kind = "unavailable"
    default_title = "Fournisseur de données indisponible"

    @property
    def applicant_message(self) -> str:
        return (
            "Le service de pré-remplissage est temporairement indisponible. "
            f"Réessayez {_wait_words(self.retry_after)} ou complétez les champs vous-même."
        )

    @property
    def admin_action(self) -> str:
        return (
            "Panne ou lenteur du fournisseur (INSEE, DJEPVA…) : voir "
            "status.entreprise.api.gouv.fr. Rien à faire côté portail."
        )


class CircuitOpen(ProviderUnavailable):
    """Calls are suspended after repeated provider failures; the call was not sent."""

    kind = "circuit_open"
    default_title = "Appels suspendus après plusieurs pannes"

    @property
    def admin_action(self) -> str:
        return (
            "Le portail a suspendu ses appels après plusieurs pannes successives ; un appel "
            "d'essai sera tenté à la fin de la pause."
        )


class TransportError(ApiEntrepriseError):
    """No usable HTTP answer: the connection failed or took too long."""

    kind = "unreachable"
    default_title = "Erreur de transport"

    @property
    def applicant_message(self) -> str:
        return (
            "Le service de pré-remplissage est temporairement indisponible. "
            "Réessayez plus tard ou complétez les champs vous-même."
        )


class Timeout(TransportError):
    """The API did not answer (or finish answering) within the timeout."""

    kind = "timeout"
    default_title = "Délai de réponse dépassé"

    @property
    def admin_action(self) -> str:
        return "L'API n'a pas répondu à temps ; si cela se répète, voir son état de service."


class Unreachable(TransportError):
    """Connection refused, DNS or TLS failure: the API could not be reached."""

    kind = "unreachable"
    default_title = "API injoignable"

    @property
    def admin_action(self) -> str:
        return (
            "Vérifiez l'URL de l'API dans les paramètres et l'accès réseau sortant du "
            "serveur (pare-feu, proxy, DNS, certificats)."
        )


class BadAnswer(ApiEntrepriseError):
    """An answer we cannot use: redirect, wrong content type, invalid JSON, missing fields,
    body over the size cap, unexpected status."""

    kind = "bad_answer"
    default_title = "Réponse inexploitable"

    @property
    def applicant_message(self) -> str:
        return (
            "Le service de pré-remplissage est temporairement indisponible. "
            "Complétez les champs vous-même."
        )

    @property
    def admin_action(self) -> str:
        return (
            "Réponse inattendue : vérifiez l'URL de l'API dans les paramètres ; si elle est "
            "correcte, signalez-le avec l'X-Request-ID."
        )
