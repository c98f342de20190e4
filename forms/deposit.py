"""The applicant's deposit form: tiers (prefilled, editable) plus applicant and request."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from portail.core.siret import InvalidSiret, validate_siret

_PHONE = re.compile(r"\+?[0-9][0-9 .\-()]{8,19}")
_AMOUNT_CLEAN = re.compile(r"[\s\u00a0\u202f€]|EUR", re.IGNORECASE)
MAX_AMOUNT = Decimal("100000000")

REQUIRED = "Ce champ est obligatoire."


def parse_amount(raw: str | None) -> Decimal | None:
    """Parse an amount typed the French way ("1 500,50 €") or the dotted way; None if invalid."""
    text = _AMOUNT_CLEAN.sub("", raw or "")
    if not text:
        return None
    if "," in text and "." in text:  # "1.500,50": dots group thousands
        text = text.replace(".", "")
    text = text.replace(",", ".")
    if not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _siret_rule(_form, field):
    try:
        field.data = validate_siret(field.data)
    except InvalidSiret as exc:
        raise ValidationError(exc.message) from None


def _email_rule(_form, field):
    """An address the acknowledgement can be sent to: its syntax, and a domain that is a
    valid name (accented ones included, in their IDNA form), checked by email-validator.
    Whether the mailbox exists is not asked (no DNS lookup): that is the applicant's business."""
    try:
        validate_email((field.data or "").strip(), check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        raise ValidationError(
            "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."
        ) from None


def _phone_rule(_form, field):
    if field.data and not _PHONE.fullmatch(field.data.strip()):
        raise ValidationError(
            "Saisissez un numéro de téléphone valide, par exemple 01 23 45 67 89."
        )


def _amount_rule(_form, field):
    amount = parse_amount(field.data)
    if amount is None:
        raise ValidationError(
            "Saisissez un montant en euros, en chiffres, par exemple 1 500 ou 1 500,50."
        )
    if amount <= 0:
        raise ValidationError("Le montant demandé doit être supérieur à zéro.")
    if amount > MAX_AMOUNT:
        raise ValidationError("Le montant demandé dépasse 100 millions d'euros : vérifiez-le.")


# What applicants write for France; any of these gets the French postcode and commune rules.
_FRANCE = {
    "france",
    "france métropolitaine",
    "france metropolitaine",
    "république française",
    "republique francaise",
    "fr",
}


def _in_france(form) -> bool:
    """Whether the address is in France (an empty country counts as France)."""
    return " ".join((form.pays.data or "France").lower().split()) in _FRANCE


def _postcode_rule(form, field):
    is_france = _in_france(form)
    postcode = (field.data or "").strip()
    if is_france and not postcode:
        raise ValidationError(
            "Indiquez le code postal : il est demandé pour une adresse en France "
            "(5 chiffres, par exemple 75001)."
        )
    if is_france and not re.fullmatch(r"[0-9]{5}", postcode):
        raise ValidationError("Le code postal compte 5 chiffres, par exemple 75001.")


def _commune_rule(form, field):
    """A commune is required in France; a foreign address is accepted as given, even without
    a commune (some foreign addresses have none, or hold it in the street lines)."""
    if _in_france(form) and not (field.data or "").strip():
        raise StopValidation(REQUIRED)


# The values of the form's two <select>s: a post can hold anything, the page shows these only.
SIEGE_CHOICES = ("", "oui", "non")
ETAT_CHOICES = ("", "actif", "fermé")


def _choice_rule(choices: tuple[str, ...]):
    def rule(_form, field):
        if (field.data or "") not in choices:
            raise ValidationError("Choisissez l'une des valeurs proposées dans la liste.")

    return rule


def _text(label_max: int = 200, required: bool = False):
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    validators.append(Length(max=label_max, message=f"{label_max} caractères au maximum."))
    return validators


class DepositForm(FlaskForm):
    """Every field of the deposit; names are the contract's `name` attributes."""

    siret = StringField(validators=[DataRequired(REQUIRED), _siret_rule])
    raison_sociale = StringField(validators=_text(required=True))
    sigle = StringField(validators=_text(100))
    enseigne = StringField(validators=_text())
    forme_juridique = StringField(validators=_text())
    code_naf = StringField(validators=_text(10))
    libelle_naf = StringField(validators=_text())
    tranche_effectif = StringField(validators=_text(100))
    date_creation = StringField(validators=_text(10))
    siege_social = StringField(validators=[_choice_rule(SIEGE_CHOICES)])
    siret_siege = StringField(validators=_text(20))
    etat_administratif = StringField(validators=[_choice_rule(ETAT_CHOICES)])
    adresse_numero = StringField(validators=_text(20))
    adresse_voie = StringField(validators=_text())
    adresse_complement = StringField(validators=_text())
    code_postal = StringField(
        validators=[_postcode_rule, Length(max=20, message="20 caractères au maximum.")]
    )
    commune = StringField(validators=[_commune_rule, *_text()])
    pays = StringField(validators=_text(100, required=True))
    rna = StringField(validators=_text(10))
    objet_association = TextAreaField(validators=_text(2000))

    representant_nom = StringField(validators=_text(100, required=True))
    representant_prenom = StringField(validators=_text(100, required=True))
    representant_qualite = StringField(validators=_text(100, required=True))
    email = StringField(validators=[DataRequired(REQUIRED), Length(max=254), _email_rule])
    telephone = StringField(validators=[Optional(), _phone_rule])
    intitule_projet = StringField(validators=_text(200, required=True))
    description_projet = TextAreaField(validators=_text(5000, required=True))
    montant_demande = StringField(validators=[DataRequired(REQUIRED), _amount_rule])
    consentement = BooleanField(
        validators=[
            DataRequired(
                "Cochez cette case pour confirmer que vous avez pris connaissance de la "
                "notice sur l'utilisation des données."
            )
        ]
    )


class PrefillForm(FlaskForm):
    """The no-JS "Pré-remplir" post: only its CSRF token is checked, like DepositForm's.

    The lookup spends the authority's shared API budget, so another site must not be able
    to trigger it through the applicant's browser.
    """
