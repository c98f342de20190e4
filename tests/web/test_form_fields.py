"""The markup of one deposit-form field: escaping, labels, hints and errors tied together."""

from __future__ import annotations

import re

from markupsafe import Markup

from portail.web.form_fields import PREFILL_NOTE, field

HOSTILE = '"><script>alert(1)</script>'


def test_values_labels_hints_and_errors_are_escaped():
    html = field(
        "commune",
        "Commune <b>",
        {"commune": HOSTILE},
        {"commune": HOSTILE},
        hint=HOSTILE,
    )
    assert isinstance(html, Markup)
    assert "<script>" not in html
    assert 'value="&#34;&gt;&lt;script&gt;' in html
    assert "Commune &lt;b&gt;" in html


def test_hint_prefill_note_and_error_are_described_outside_the_label():
    html = field(
        "code_naf",
        "Code NAF",
        {"code_naf": "94.99Z"},
        {"code_naf": "Format attendu : NN.NNX."},
        hint="Format NN.NNX",
        prefilled={"code_naf"},
        required=True,
    )
    label = re.search(r"<label[^>]*>(.*?)</label>", html, re.S).group(1)
    assert "Format NN.NNX" not in label  # read once, not twice
    assert 'aria-describedby="f-code_naf-hint f-code_naf-source f-code_naf-error"' in html
    assert 'aria-invalid="true"' in html and " required" in html
    assert 'class="field has-error prefilled"' in html
    assert PREFILL_NOTE in html
    for suffix in ("hint", "source", "error"):
        assert f'id="f-code_naf-{suffix}"' in html


def test_plain_field_has_no_dangling_references():
    html = field("sigle", "Sigle", {}, {})
    assert "aria-describedby" not in html and "aria-invalid" not in html
    assert 'value=""' in html and 'class="field"' in html


def test_select_marks_the_current_choice_and_textarea_keeps_line_breaks():
    select = field(
        "siege_social",
        "Siège",
        {"siege_social": "non"},
        {},
        choices=[("", "Non renseigné"), ("oui", "Oui"), ("non", "Non")],
        required=True,
    )
    assert '<option value="non" selected>Non</option>' in select
    assert '<option value="oui">Oui</option>' in select
    assert "required" not in select  # "Non renseigné" stays a valid choice
    text = field("objet", "Objet", {"objet": "ligne 1\nligne <2>"}, {}, textarea=True, rows=6)
    assert (
        '<textarea id="f-objet" name="objet" rows="6">ligne 1\nligne &lt;2&gt;</textarea>' in text
    )
