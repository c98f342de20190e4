"""Field hints of the admin and login forms: outside the labels (a screen reader would read
them twice, once in the field's name and once in its description) and tied to their field by
aria-describedby, together with the error when there is one."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from portail.core.api_urls import SANDBOX_URL
from tests.admin_helpers import (
    AuthActions,
    csrf_from,
    logged_in,
)


class FormMarkup(HTMLParser):
    """Labels' text, hints (class "hint" with an id), every id, and the described elements."""

    VOID = frozenset({"input", "br", "img", "meta", "link", "hr", "source", "wbr"})

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.labels: list[str] = []
        self.hints: dict[str, str] = {}
        self.described: dict[str, tuple[list[str], bool]] = {}
        self._open: list[tuple[str, dict]] = []
        self._texts: dict[int, list[str]] = {}
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if "aria-describedby" in attributes:
            key = attributes.get("id") or attributes.get("name") or tag
            self.described[key] = (
                attributes["aria-describedby"].split(),
                attributes.get("aria-invalid") == "true",
            )
        if tag in self.VOID:
            return
        self._open.append((tag, attributes))
        self._texts[len(self._open)] = []

    def handle_endtag(self, tag):
        if tag in self.VOID or not any(open_tag == tag for open_tag, _ in self._open):
            return
        while self._open:
            depth = len(self._open)
            open_tag, attributes = self._open.pop()
            text = " ".join("".join(self._texts.pop(depth)).split())
            if self._open:  # the text belongs to the enclosing elements too
                self._texts[depth - 1].append(" " + text + " ")
            if open_tag == "label":
                self.labels.append(text)
            hint_id = attributes.get("id", "")
            if "hint" in attributes.get("class", "").split() and hint_id.endswith("-hint"):
                self.hints[hint_id] = text
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._open:
            self._texts[len(self._open)].append(data)


def check_hints(html: str, expected_hints: set[str]) -> FormMarkup:
    """Assert the hint rules on a page; return what was parsed for further checks."""
    markup = FormMarkup(html)
    assert expected_hints <= set(markup.hints), sorted(markup.hints)
    for hint_id, hint in markup.hints.items():
        assert hint, hint_id
        for label in markup.labels:
            assert hint not in label, f"{hint_id} is read as part of the label « {label} »"
        describing = [key for key, (ids, _) in markup.described.items() if hint_id in ids]
        assert describing, f"no field is described by {hint_id}"
    for key, (ids, _invalid) in markup.described.items():
        missing = [item for item in ids if item not in markup.ids]
        assert not missing, f"{key} is described by missing ids {missing}"
    return markup


SETTINGS_HINTS = {
    "f-enabled-hint",
    "f-recipient_siret-hint",
    "f-token-hint",
    "f-context-hint",
    "f-api_url-hint",
}


def test_settings_hints_are_outside_labels_and_describe_their_field(app):
    auth = logged_in(app)
    markup = check_hints(
        auth.client.get("/admin/parametres").get_data(as_text=True), SETTINGS_HINTS
    )
    for name in ("enabled", "recipient_siret", "token", "context"):
        ids, invalid = markup.described[f"f-{name}"]
        assert f"f-{name}-hint" in ids and not invalid
    assert "f-api_url-hint" in markup.described["fieldset"][0]
    assert any(label == "SIRET de votre organisation" for label in markup.labels)


@pytest.mark.parametrize(
    ("field", "value"),
    [("recipient_siret", "123"), ("token", "pas un jeton"), ("context", "x" * 201)],
)
def test_settings_field_in_error_is_described_by_its_hint_and_its_error(app, field, value):
    auth = logged_in(app)
    data = {
        "csrf_token": auth.csrf(),
        "enabled": "y",
        "recipient_siret": "21999001700010",
        "context": "",
        "api_url": SANDBOX_URL,
        "action": "enregistrer",
    }
    data[field] = value
    response = auth.client.post("/admin/parametres", data=data)
    assert response.status_code == 422
    markup = check_hints(response.get_data(as_text=True), SETTINGS_HINTS)
    ids, invalid = markup.described[f"f-{field}"]
    assert invalid
    assert ids[0] == f"f-{field}-hint" and ids[-1] == f"f-{field}-error"
    # The other fields are not marked: each carries its own state only.
    for other in {"recipient_siret", "token", "context"} - {field}:
        other_ids, other_invalid = markup.described[f"f-{other}"]
        assert not other_invalid and f"f-{other}-error" not in other_ids


def test_login_hint_is_outside_the_label_and_describes_the_password(app):
    client = app.test_client()
    markup = check_hints(client.get("/admin/connexion").get_data(as_text=True), {"f-password-hint"})
    assert "Mot de passe" in markup.labels
    assert markup.described["f-password"] == (["f-password-hint"], False)


def test_login_errors_are_described_with_the_hint(app):
    client = app.test_client()
    page = client.get("/admin/connexion")
    response = client.post(
        "/admin/connexion",
        data={"username": "alice", "password": "", "csrf_token": csrf_from(page.data)},
    )
    assert response.status_code == 422
    markup = check_hints(response.get_data(as_text=True), {"f-password-hint"})
    assert markup.described["f-password"] == (["f-password-hint", "f-password-error"], True)


def test_wrong_password_message_describes_both_fields(app):
    auth = AuthActions(app, app.test_client())
    auth.create_admin()
    response = auth.login(password="pas le bon mot de passe")
    assert response.status_code == 401
    markup = check_hints(response.get_data(as_text=True), {"f-password-hint"})
    assert markup.described["f-username"] == (["login-error"], False)
    assert markup.described["f-password"] == (["f-password-hint", "login-error"], False)
