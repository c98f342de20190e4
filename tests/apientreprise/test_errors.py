"""The catalogue of API Entreprise error kinds and the exception classes built on it."""

from __future__ import annotations

import pickle  # noqa: S403 - round-trips our own exceptions
import re
import string

import pytest

from portail.apientreprise import error_kinds, errors
from portail.core.tokens import mint_token

HAND = "Vous pouvez compléter les champs vous-même."
SATURATED = "Le service de pré-remplissage est momentanément saturé. Réessayez {}. " + HAND
DOWN_AT = (
    "Le service de pré-remplissage est temporairement indisponible. "
    "Réessayez {} ou complétez les champs vous-même."
)
DOWN_LATER = (
    "Le service de pré-remplissage est temporairement indisponible. "
    "Réessayez plus tard ou complétez les champs vous-même."
)
PREFILL_DOWN = "Le pré-remplissage est momentanément indisponible. " + HAND
CLIENT_SHARE_ACTION = (
    "Aucun appel envoyé\u202f: une même adresse IP ne peut utiliser qu'une part du budget "
    "(RATE_BUDGET_PER_CLIENT_PER_MINUTE), pour qu'un seul poste ou un robot ne prive "
    "pas les autres demandeurs du pré-remplissage."
)
NOW = "dans quelques instants"
IN_7S = "dans environ 7 secondes"

# class, kind, default title, applicant message (no delay), applicant message (7 s),
# admin action (no code). The texts are today's, word for word: losing one fails here.
TABLE = [
    (
        errors.NotFound,
        "not_found",
        "Entité non trouvée",
        "Aucune donnée publique n'est disponible pour ce SIRET. "
        "Vérifiez le numéro ou complétez les champs vous-même.",
        None,
        "Réponse normale de l'API\u202f: l'entité n'a pas de données publiques.",
    ),
    (
        errors.NotPublic,
        "not_public",
        "Indisponible pour des raisons légales",
        "Les informations de cet établissement ne peuvent pas être affichées. "
        "Complétez les champs vous-même.",
        None,
        "Réponse normale de l'API\u202f: l'entité n'est pas diffusée par l'INSEE.",
    ),
    (
        errors.TokenRefused,
        "token_refused",
        "Jeton refusé",
        PREFILL_DOWN,
        None,
        "Vérifiez le jeton dans les paramètres et, au besoin, collez-le à nouveau.",
    ),
    (
        errors.ScopeMissing,
        "scope_missing",
        "Privilèges insuffisants",
        PREFILL_DOWN,
        None,
        "Le jeton n'a pas l'habilitation nécessaire pour cette donnée\u202f: vérifiez les "
        "droits (scopes) de votre habilitation DataPass.",
    ),
    (
        errors.BadParameter,
        "bad_parameter",
        "Paramètre invalide",
        PREFILL_DOWN,
        None,
        "Vérifiez le SIRET de votre organisation et le contexte d'appel dans les paramètres.",
    ),
    (
        errors.RecipientIsTarget,
        "recipient_is_target",
        "Le paramètre recipient est identique au SIRET/SIREN appelé.",
        "Ce SIRET appartient à la collectivité qui reçoit les demandes\u202f: ses informations "
        "ne peuvent pas être pré-remplies. Complétez les champs vous-même.",
        None,
        "Réponse normale\u202f: l'API refuse qu'une organisation se consulte elle-même "
        "(même SIREN que le SIRET de votre organisation).",
    ),
    (
        errors.DuplicateInFlight,
        "duplicate",
        "Conflit",
        "La recherche est déjà en cours. Réessayez dans quelques instants. " + HAND,
        None,
        "Une requête identique était déjà en cours (probablement depuis un autre "
        "processus du portail ou un autre logiciel utilisant le même jeton).",
    ),
    (
        errors.RateLimited,
        "rate_limited",
        "Trop de requêtes",
        SATURATED.format(NOW),
        SATURATED.format(IN_7S),
        "Le portail suspend tous ses appels jusqu'à la fin du délai indiqué "
        "(ignorer un 429 fait bannir l'adresse IP 12 heures). Si cela se répète, "
        "vérifiez qu'aucun autre logiciel n'utilise le même jeton.",
    ),
    (
        errors.BudgetSpent,
        "budget_spent",
        "Budget d'appels du portail épuisé",
        SATURATED.format(NOW),
        SATURATED.format(IN_7S),
        "Aucun appel envoyé\u202f: le portail garde une marge sous la limite de l'API. "
        "Si cela se répète, augmentez RATE_BUDGET_PER_MINUTE (sans dépasser 250).",
    ),
    (
        errors.ClientShareSpent,
        "client_share_spent",
        "Part du budget d'un même poste épuisée",
        "Vous avez lancé de nombreuses recherches en peu de temps. La recherche par SIRET "
        f"sera de nouveau possible {NOW}. {HAND}",
        "Vous avez lancé de nombreuses recherches en peu de temps. La recherche par SIRET "
        f"sera de nouveau possible {IN_7S}. {HAND}",
        CLIENT_SHARE_ACTION,
    ),
    (
        errors.NetworkShareSpent,
        "network_share_spent",
        "Part du budget d'un même réseau épuisée",
        "De nombreuses recherches ont été lancées depuis votre réseau en peu de temps. La "
        f"recherche par SIRET sera de nouveau possible {NOW}. {HAND}",
        "De nombreuses recherches ont été lancées depuis votre réseau en peu de temps. La "
        f"recherche par SIRET sera de nouveau possible {IN_7S}. {HAND}",
        CLIENT_SHARE_ACTION,
    ),
    (
        errors.ProviderUnavailable,
        "unavailable",
        "Fournisseur de données indisponible",
        DOWN_AT.format(NOW),
        DOWN_AT.format(IN_7S),
        "Panne ou lenteur du fournisseur (INSEE, DJEPVA…)\u202f: voir "
        "status.entreprise.api.gouv.fr. Rien à faire côté portail.",
    ),
    (
        errors.CircuitOpen,
        "circuit_open",
        "Appels suspendus après plusieurs pannes",
        DOWN_AT.format(NOW),
        DOWN_AT.format(IN_7S),
        "Le portail a suspendu ses appels après plusieurs pannes successives\u202f; un appel "
        "d'essai sera tenté à la fin de la pause.",
    ),
    (
        errors.Timeout,
        "timeout",
        "Délai de réponse dépassé",
        DOWN_LATER,
        None,
        "L'API n'a pas répondu à temps\u202f; si cela se répète, voir son état de service.",
    ),
    (
        errors.Unreachable,
        "unreachable",
        "API injoignable",
        DOWN_LATER,
        None,
        "Vérifiez l'URL de l'API dans les paramètres et l'accès réseau sortant du "
        "serveur (pare-feu, proxy, DNS, certificats).",
    ),
    (
        errors.BadAnswer,
        "bad_answer",
        "Réponse inexploitable",
        "Le service de pré-remplissage est temporairement indisponible. "
        "Complétez les champs vous-même.",
        None,
        "Réponse inattendue\u202f: vérifiez l'URL de l'API dans les paramètres\u202f; si elle est "
        "correcte, signalez-le avec l'X-Request-ID.",
    ),
]

EXPECTED_LABELS = {
    "not_found": "non trouvé",
    "not_public": "non diffusible",
    "token_refused": "jeton refusé",
    "scope_missing": "droits insuffisants",
    "bad_parameter": "paramètre refusé",
    "recipient_is_target": "SIREN de la collectivité",
    "duplicate": "requête en double",
    "rate_limited": "trop de requêtes",
    "unavailable": "fournisseur indisponible",
    "timeout": "délai dépassé",
    "unreachable": "API injoignable",
    "bad_answer": "réponse inexploitable",
    "budget_spent": "budget du portail épuisé",
    "client_share_spent": "trop de recherches d'un même poste",
    "network_share_spent": "trop de recherches d'un même réseau",
    "circuit_open": "appels suspendus après des pannes",
}

ALL_CLASSES = sorted(
    (
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.ApiEntrepriseError)
    ),
    key=lambda cls: cls.__name__,
)
# Classes that name a kind of their own (the intermediate bases do not).
KIND_CLASSES = [cls for cls in ALL_CLASSES if "kind" in vars(cls)]
KIND_SUBCLASSES = [cls for cls in KIND_CLASSES if cls is not errors.ApiEntrepriseError]
FAMILIES = [errors.AboutTarget, errors.SetupProblem, errors.TryAgainLater, errors.ServiceFailure]


def _by_name(classes):
    return pytest.mark.parametrize("cls", classes, ids=lambda cls: cls.__name__)


def test_every_catalogue_kind_has_a_class_and_every_class_an_entry():
    assert {cls.kind for cls in KIND_SUBCLASSES} == set(error_kinds.KINDS)
    for cls in KIND_SUBCLASSES:
        assert cls.entry is error_kinds.KINDS[cls.kind]
        assert cls.default_title == cls.entry.title
    assert {row[0] for row in TABLE} | {errors.TransportError} == set(KIND_SUBCLASSES)


def test_the_catalogue_names_each_kind_once():
    kinds = [entry.kind for entry in error_kinds._CATALOGUE]
    assert len(kinds) == len(set(kinds)) == 16
    assert error_kinds.GENERIC.kind not in kinds


def test_a_class_with_an_unknown_kind_is_refused_at_once():
    with pytest.raises(KeyError):

        class Misspelt(errors.ApiEntrepriseError):
            kind = "not_fuond"


@_by_name([errors.ApiEntrepriseError, *FAMILIES])
def test_the_base_and_the_families_speak_in_general_terms(cls):
    error = cls()
    assert error.entry is error_kinds.GENERIC
    assert error.kind == "error" and error.title == "Erreur"
    assert error.applicant_message == PREFILL_DOWN
    assert error.admin_action == "Aucune action nécessaire si l'erreur reste isolée."


@pytest.mark.parametrize(
    ("cls", "kind", "title", "applicant", "applicant_in_7s", "action"),
    TABLE,
    ids=[row[0].__name__ for row in TABLE],
)
def test_each_kind_says_its_own_words(cls, kind, title, applicant, applicant_in_7s, action):
    error = cls()
    assert error.kind == kind
    assert error.title == cls.default_title == title
    assert error.applicant_message == applicant
    assert cls(retry_after=7).applicant_message == (applicant_in_7s or applicant)
    assert error.admin_action == action
    assert cls(code="00999").admin_action == action  # a code the catalogue does not know
    assert error.admin_detail == f"«\u202f{title}\u202f». {action}"


def test_a_transport_error_reads_like_an_unreachable_api():
    error = errors.TransportError()
    assert error.kind == "unreachable"
    assert error.applicant_message == DOWN_LATER
    assert error.admin_action == errors.Unreachable().admin_action


@pytest.mark.parametrize(
    ("code", "action"),
    [
        (None, "Vérifiez le jeton dans les paramètres et, au besoin, collez-le à nouveau."),
        ("00101", "Vérifiez le jeton dans les paramètres et, au besoin, collez-le à nouveau."),
        ("00103", "Le jeton a expiré\u202f: collez un nouveau jeton dans les paramètres."),
        (
            "00105",
            "Le jeton est sur liste noire (probablement divulgué)\u202f: demandez-en un "
            "nouveau sur entreprise.api.gouv.fr et collez-le dans les paramètres.",
        ),
    ],
)
def test_a_refused_token_gets_the_action_its_code_calls_for(code, action):
    error = errors.TokenRefused(status=401, code=code)
    assert error.admin_action == action
    assert error.admin_detail.endswith(f"«\u202fJeton refusé\u202f». {action}")
    assert error.applicant_message == PREFILL_DOWN


def test_admin_detail_puts_the_facts_before_the_action():
    error = errors.TokenRefused(
        status=401,
        code="00103",
        title="Jeton expiré",
        detail="Le jeton a expiré le 1er mars",
        note="appel d'essai",
        request_id="req-42",
        retry_after=120,
    )
    assert error.admin_detail == (
        "statut HTTP 401\u202f; code 00103\u202f; «\u202fJeton expiré\u202f»\u202f; "
        "Le jeton a expiré le 1er mars\u202f; appel d'essai\u202f; X-Request-ID req-42\u202f; "
        "nouvel essai possible dans environ 2 minutes. "
        "Le jeton a expiré\u202f: collez un nouveau jeton dans les paramètres."
    )
    assert str(error) == (
        "token_refused | HTTP 401 | code 00103 | Jeton expiré | appel d'essai | X-Request-ID req-42"
    )
    assert repr(error) == f"TokenRefused({str(error)!r})"


def test_kind_labels_are_the_journal_labels():
    assert errors.KIND_LABELS == error_kinds.KIND_LABELS == EXPECTED_LABELS
    assert list(error_kinds.KIND_LABELS) == list(error_kinds.KINDS)


def test_normal_kinds_are_the_answers_about_the_target():
    assert frozenset({"not_found", "not_public", "recipient_is_target"}) == errors.NORMAL_KINDS
    assert isinstance(errors.NORMAL_KINDS, frozenset)
    about_target = {cls.kind for cls in KIND_CLASSES if issubclass(cls, errors.AboutTarget)}
    assert about_target == errors.NORMAL_KINDS


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (errors.BudgetSpent, errors.RateLimited),
        (errors.ClientShareSpent, errors.BudgetSpent),
        (errors.NetworkShareSpent, errors.ClientShareSpent),
        (errors.CircuitOpen, errors.ProviderUnavailable),
        (errors.Timeout, errors.TransportError),
        (errors.Unreachable, errors.TransportError),
        (errors.RecipientIsTarget, errors.BadParameter),
        (errors.RecipientIsTarget, errors.AboutTarget),
        (errors.NotFound, errors.AboutTarget),
        (errors.NotPublic, errors.AboutTarget),
        (errors.TokenRefused, errors.SetupProblem),
        (errors.ScopeMissing, errors.SetupProblem),
        (errors.DuplicateInFlight, errors.TryAgainLater),
        (errors.RateLimited, errors.TryAgainLater),
        (errors.ProviderUnavailable, errors.ServiceFailure),
        (errors.TransportError, errors.ServiceFailure),
        (errors.BadAnswer, errors.ServiceFailure),
    ],
    ids=lambda cls: cls.__name__,
)
def test_the_hierarchy_callers_rely_on(child, parent):
    assert issubclass(child, parent)


@_by_name(KIND_SUBCLASSES)
def test_each_kind_class_belongs_to_exactly_one_family_but_recipient_is_target(cls):
    families = [family for family in FAMILIES if issubclass(cls, family)]
    expected = 2 if cls is errors.RecipientIsTarget else 1
    assert len(families) == expected


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


FRENCH_WORDS = re.compile(r"\b(le|la|les|de|du|des|un|une|et|ou|pour|l'|d')\b", re.IGNORECASE)


@pytest.mark.parametrize(
    "entry",
    [error_kinds.GENERIC, *error_kinds.KINDS.values()],
    ids=lambda entry: entry.kind,
)
def test_catalogue_texts_are_french_and_our_own_words(entry):
    for text in (entry.title, entry.label, entry.applicant, entry.admin_action):
        assert text.strip() == text and text
        assert "Bearer" not in text and "eyJ" not in text and "token" not in text.lower()
    # Vouvoiement, and the fields can always be filled in by hand.
    applicant = entry.applicant_message(None)
    assert "vous-même" in applicant
    assert not re.search(r"\b(tu|toi|ton|tes)\b", applicant, re.IGNORECASE)
    for text in (applicant, entry.admin_action, *entry.admin_action_by_code.values()):
        assert FRENCH_WORDS.search(text), text
        assert text[0].isupper() and text.endswith((".", ")")), text
    # Only our delay and our sentence go into an applicant message.
    assert _placeholders(entry.applicant) <= {"wait", "hand_fill"}
    assert "{" not in entry.admin_action and "{" not in entry.label
    assert len(entry.label) <= 40 and not entry.label.endswith(".")


def test_labels_are_distinct():
    labels = list(error_kinds.KIND_LABELS.values())
    assert len(labels) == len(set(labels))


@_by_name(ALL_CLASSES)
def test_the_audiences_words_never_echo_what_the_api_sent(cls):
    token = mint_token(["open_data"])
    error = cls(
        status=502,
        code="01999",
        title=f"Bearer {token}",
        detail=f"echo {token}",
        note=token,
        request_id="req-1",
        headers={"X-Echo": token},
    )
    assert token not in error.applicant_message
    assert token not in error.admin_action
    assert token not in cls().applicant_message + cls().admin_detail + repr(cls())


@_by_name(ALL_CLASSES)
def test_every_class_survives_pickling(cls):
    error = cls(
        status=429,
        code="00429",
        title="Titre",
        detail="Détail",
        request_id="req-7",
        retry_after=7,
        headers={"Retry-After": "7"},
        note="note",
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301
    assert type(copy) is cls
    assert copy.__dict__ == error.__dict__
    assert str(copy) == str(error) and repr(copy) == repr(error) and copy.args == error.args
    assert copy.applicant_message == error.applicant_message
    assert copy.admin_detail == error.admin_detail
    assert copy.entry is error.entry


def test_wait_words_stay_importable_from_errors():
    assert errors._wait_words is error_kinds.wait_words
    assert errors.HAND_FILL == HAND
    assert errors._wait_words(float("inf")) == NOW
    assert errors._wait_words(89) == "dans environ 89 secondes"
    assert errors._wait_words(90) == "dans environ 2 minutes"
    assert errors._wait_words(10**9) == "dans environ 60 minutes"
