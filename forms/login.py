"""The admin login form (fields `username`, `password`)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from portail.core.passwords import MAX_LENGTH


class LoginForm(FlaskForm):
    """Username and password; `next` carries the page asked for before logging in."""

    username = StringField(
        "Identifiant",
        validators=[
            InputRequired(message="Saisissez votre identifiant."),
            Length(max=64, message="L'identifiant compte au plus 64 caractères."),
        ],
    )
    # No minimum length here: the policy applies when the password is set, not when typed.
    password = PasswordField(
        "Mot de passe",
        validators=[
            InputRequired(message="Saisissez votre mot de passe."),
            Length(
                max=MAX_LENGTH, message=f"Le mot de passe compte au plus {MAX_LENGTH} caractères."
            ),
        ],
    )
    next = HiddenField()
