"""The catalogue of API Entreprise error kinds: one place for what each failure is called and
what each audience reads about it.

For every kind (the identifier the journal records): its default title (when the API gives
none), its short label in the admin's journal, the applicant's message (French, vouvoiement,
always saying the fields can be filled in by hand), the admin's action (what to do about it;
some kinds vary by the API's error code) and whether it is a "normal" answer that says
something about the looked-up SIRET rather than a failure of the service.

The exception classes in `portail.apientreprise.errors` take their texts from here. These
texts are our own words only: an applicant message may hold `{wait}` (the retry delay in
words) and `{hand_fill}` (the "fill in by hand" sentence), nothing the API or the settings
supplied, so neither the token nor an echo of it can reach them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from portail.apientreprise.answer import MAX_RETRY_AFTER

HAND_FILL = "Vous pouvez compléter les champs vous-même."


def wait_words(seconds: float | None) -> str:
    """French words for a waiting time: 'dans environ 30 secondes', 'dans environ 2 minutes'."""
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return "dans quelques instants"
    seconds = min(seconds, MAX_RETRY_AFTER)
    if seconds < 90:
        return f"dans environ {max(1, math.ceil(seconds))} secondes"
    return f"dans environ {math.ceil(seconds / 60)} minutes"


@dataclass(frozen=True)
class ErrorKind:
    """One kind of API Entreprise failure and its words for each audience."""

    kind: str  # what the journal records (journal.error_kind)
    title: str  # default title, when the API's answer carries none
    label: str  # short label in the admin's journal
    applicant: str  # template: may hold {wait} and {hand_fill}
    admin_action: str  # what the admin should do about it
    normal: bool = False  # about the looked-up entity, not a failure of the service
    # API error code -> admin action, where the code says more than the status.
    admin_action_by_code: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    def applicant_message(self, retry_after: float | None = None) -> str:
        """The applicant's message, with the retry delay in words."""
        return self.applicant.format(wait=wait_words(retry_after), hand_fill=HAND_FILL)

    def admin_action_for(self, code: str | None = None) -> str:
        """The admin's action for this API error code (the kind's default otherwise)."""
        return self.admin_action_by_code.get(code or "", self.admin_action)


# Applicant messages shared by several kinds.
_PREFILL_DOWN = "Le pré-remplissage est momentanément indisponible. {hand_fill}"
_SATURATED = "Le service de pré-remplissage est momentanément saturé. Réessayez {wait}. {hand_fill}"
_SERVICE_DOWN_RETRY_AT = (
    "Le service de pré-remplissage est temporairement indisponible. "
    "Réessayez {wait} ou complétez les champs vous-même."
)
_SERVICE_DOWN_RETRY_LATER = (
    "Le service de pré-remplissage est temporairement indisponible. "
    "Réessayez plus tard ou complétez les champs vous-même."
)
_CLIENT_SHARE_ADMIN = (
    "Aucun appel envoyé : une même adresse IP ne peut utiliser qu'une part du budget "
    "(RATE_BUDGET_PER_CLIENT_PER_MINUTE), pour qu'un seul poste ou un robot ne prive "
    "pas les autres demandeurs du pré-remplissage."
)
_CHECK_API_URL = (
    "Vérifiez l'URL de l'API dans les paramètres et l'accès réseau sortant du "
    "serveur (pare-feu, proxy, DNS, certificats)."
)


# The base `ApiEntrepriseError`: an error of no more precise kind (never journaled as such).
GENERIC = ErrorKind(
    kind="error",
    title="Erreur",
    label="erreur",
    applicant=_PREFILL_DOWN,
    admin_action="Aucune action nécessaire si l'erreur reste isolée.",
)


_CATALOGUE = (
    # Answers about the looked-up entity.
    ErrorKind(
        kind="not_found",
        title="Entité non trouvée",
        label="non trouvé",
        applicant=(
            "Aucune donnée publique n'est disponible pour ce SIRET. "
            "Vérifiez le numéro ou complétez les champs vous-même."
        ),
        admin_action="Réponse normale de l'API : l'entité n'a pas de données publiques.",
        normal=True,
    ),
    ErrorKind(
        kind="not_public",
        title="Indisponible pour des raisons légales",
        label="non diffusible",
        applicant=(
            "Les informations de cet établissement ne peuvent pas être affichées. "
            "Complétez les champs vous-même."
        ),
        admin_action="Réponse normale de l'API : l'entité n'est pas diffusée par l'INSEE.",
        normal=True,
    ),
    # The portal's setup: token, scopes, parameters.
    ErrorKind(
        kind="token_refused",
        title="Jeton refusé",
        label="jeton refusé",
        applicant=_PREFILL_DOWN,
        admin_action="Vérifiez le jeton dans les paramètres et, au besoin, collez-le à nouveau.",
        admin_action_by_code=MappingProxyType(
            {
                "00103": "Le jeton a expiré : collez un nouveau jeton dans les paramètres.",
                "00105": (
                    "Le jeton est sur liste noire (probablement divulgué) : demandez-en un "
                    "nouveau sur entreprise.api.gouv.fr et collez-le dans les paramètres."
                ),
            }
        ),
    ),
    ErrorKind(
        kind="scope_missing",
        title="Privilèges insuffisants",
        label="droits insuffisants",
        applicant=_PREFILL_DOWN,
        admin_action=(
            "Le jeton n'a pas l'habilitation nécessaire pour cette donnée : vérifiez les "
            "droits (scopes) de votre habilitation DataPass."
        ),
    ),
    ErrorKind(
        kind="bad_parameter",
        title="Paramètre invalide",
        label="paramètre refusé",
        applicant=_PREFILL_DOWN,
        admin_action=(
            "Vérifiez le SIRET de votre organisation et le contexte d'appel dans les paramètres."
        ),
    ),
    ErrorKind(
        kind="recipient_is_target",
        title="Le paramètre recipient est identique au SIRET/SIREN appelé.",
        label="SIREN de la collectivité",
        applicant=(
            "Ce SIRET appartient à la collectivité qui reçoit les demandes : ses informations "
            "ne peuvent pas être pré-remplies. Complétez les champs vous-même."
        ),
        admin_action=(
            "Réponse normale : l'API refuse qu'une organisation se consulte elle-même "
            "(même SIREN que le SIRET de votre organisation)."
        ),
        normal=True,
    ),
    # Not now: the API or the portal asks to come back later.
    ErrorKind(
        kind="duplicate",
        title="Conflit",
        label="requête en double",
        applicant="La recherche est déjà en cours. Réessayez dans quelques instants. {hand_fill}",
        admin_action=(
            "Une requête identique était déjà en cours (probablement depuis un autre "
            "processus du portail ou un autre logiciel utilisant le même jeton)."
        ),
    ),
    ErrorKind(
        kind="rate_limited",
        title="Trop de requêtes",
        label="trop de requêtes",
        applicant=_SATURATED,
        admin_action=(
            "Le portail suspend tous ses appels jusqu'à la fin du délai indiqué "
            "(ignorer un 429 fait bannir l'adresse IP 12 heures). Si cela se répète, "
            "vérifiez qu'aucun autre logiciel n'utilise le même jeton."
        ),
    ),
    ErrorKind(
        kind="budget_spent",
        title="Budget d'appels du portail épuisé",
        label="budget du portail épuisé",
        applicant=_SATURATED,
        admin_action=(
            "Aucun appel envoyé : le portail garde une marge sous la limite de l'API. "
            "Si cela se répète, augmentez RATE_BUDGET_PER_MINUTE (sans dépasser 250)."
        ),
    ),
    ErrorKind(
        kind="client_share_spent",
        title="Part du budget d'un même poste épuisée",
        label="trop de recherches d'un même poste",
        applicant=(
            "Vous avez lancé de nombreuses recherches en peu de temps. La recherche par SIRET "
            "sera de nouveau possible {wait}. {hand_fill}"
        ),
        admin_action=_CLIENT_SHARE_ADMIN,
    ),
    ErrorKind(
        kind="network_share_spent",
        title="Part du budget d'un même réseau épuisée",
        label="trop de recherches d'un même réseau",
        applicant=(
            "De nombreuses recherches ont été lancées depuis votre réseau en peu de temps. La "
            "recherche par SIRET sera de nouveau possible {wait}. {hand_fill}"
        ),
        admin_action=_CLIENT_SHARE_ADMIN,
    ),
    # The service failed: provider down, no usable HTTP answer, unusable answer.
    ErrorKind(
        kind="unavailable",
        title="Fournisseur de données indisponible",
        label="fournisseur indisponible",
        applicant=_SERVICE_DOWN_RETRY_AT,
        admin_action=(
            "Panne ou lenteur du fournisseur (INSEE, DJEPVA…) : voir "
            "status.entreprise.api.gouv.fr. Rien à faire côté portail."
        ),
    ),
    ErrorKind(
        kind="circuit_open",
        title="Appels suspendus après plusieurs pannes",
        label="appels suspendus après des pannes",
        applicant=_SERVICE_DOWN_RETRY_AT,
        admin_action=(
            "Le portail a suspendu ses appels après plusieurs pannes successives ; un appel "
            "d'essai sera tenté à la fin de la pause."
        ),
    ),
    ErrorKind(
        kind="timeout",
        title="Délai de réponse dépassé",
        label="délai dépassé",
        applicant=_SERVICE_DOWN_RETRY_LATER,
        admin_action=(
            "L'API n'a pas répondu à temps ; si cela se répète, voir son état de service."
        ),
    ),
    ErrorKind(
        kind="unreachable",
        title="API injoignable",
        label="API injoignable",
        applicant=_SERVICE_DOWN_RETRY_LATER,
        admin_action=_CHECK_API_URL,
    ),
    ErrorKind(
        kind="bad_answer",
        title="Réponse inexploitable",
        label="réponse inexploitable",
        applicant=(
            "Le service de pré-remplissage est temporairement indisponible. "
            "Complétez les champs vous-même."
        ),
        admin_action=(
            "Réponse inattendue : vérifiez l'URL de l'API dans les paramètres ; si elle est "
            "correcte, signalez-le avec l'X-Request-ID."
        ),
    ),
)

# Every kind the journal may record -> its entry, in the catalogue's order.
KINDS: Mapping[str, ErrorKind] = MappingProxyType({entry.kind: entry for entry in _CATALOGUE})
if len(KINDS) != len(_CATALOGUE):  # checked even under python -O (no assert)
    raise RuntimeError("an error kind appears twice in the catalogue")

# kind -> short French label, for the admin's journal (its filter and its rows).
KIND_LABELS: dict[str, str] = {entry.kind: entry.label for entry in _CATALOGUE}

# Kinds that say something about the looked-up SIRET rather than about the service.
NORMAL_KINDS: frozenset[str] = frozenset(entry.kind for entry in _CATALOGUE if entry.normal)
