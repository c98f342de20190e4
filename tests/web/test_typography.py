"""French typography guard: no ordinary space (or none) before : ; ! ?, no ordinary space
inside « », no "(s)" plural, in the templates and the messages people read.

A failure lists file:line; `python -m tests.typography` mends the spacing in place (plurals
need a count: use the `count_of` filter or `portail.core.formats.count_of`)."""

from __future__ import annotations

import pytest

from portail.core.formats import count_of
from tests import typography

NNBSP = "\u202f"


def test_templates_use_french_spacing():
    findings = [f for path in typography.templates() for f in typography.template_findings(path)]
    assert not findings, "\n".join(map(str, findings))


def test_python_messages_use_french_spacing():
    findings = [
        f for path in typography.message_modules() for f in typography.python_findings(path)
    ]
    assert not findings, "\n".join(map(str, findings))


def test_data_shown_to_people_uses_french_spacing():
    # The demonstration page shows the personas' texts as they are.
    findings = [
        f
        for path, keys in typography.PEOPLE_DATA.items()
        for f in typography.data_findings(path, keys)
    ]
    assert not findings, "\n".join(map(str, findings))


def test_the_data_guard_sees_faults_and_the_fixer_mends_them(tmp_path):
    data = tmp_path / "personas.json"
    data.write_text(
        '{"personas": [{"label": "A", "shows": "Le formulaire indique « siège : non »"}]}'
    )
    assert len(typography.data_findings(data, ("label", "shows"))) == 3
    assert typography.fix_data(data, ("label", "shows"))
    assert typography.data_findings(data, ("label", "shows")) == []
    assert f"«{NNBSP}siège{NNBSP}: non{NNBSP}»" in data.read_text(encoding="utf-8")


def _template_problems(source: str) -> list[str]:
    prose = typography.template_prose(source)
    return [problem for _, problem in typography._problems(source, prose, plain_space_only=False)]


@pytest.mark.parametrize(
    "source",
    [
        "<p>Référence : {{ ref }}</p>",
        "<p>Que faire ?</p>",
        "<p>Attention: vérifiez</p>",
        "<p><strong>Note</strong> ; suite</p>",
        "<p>Cliquez sur « Envoyer ».</p>",
        "<p>{{ count }} heure(s)</p>",
        '<button aria-label="Effacer ?">x</button>',
        '{{ field("x", hint="Par exemple : 12") }}',
        "<script src='a.js'></script><p>Texte après un script : vu</p>",
    ],
)
def test_the_guard_sees_faults_in_prose(source):
    assert _template_problems(source)


@pytest.mark.parametrize(
    "source",
    [
        f"<p>Référence{NNBSP}: {{{{ ref }}}}</p>",
        f"<p>Cliquez sur «{NNBSP}Envoyer{NNBSP}»{NNBSP}!</p>",
        '<a href="https://exemple.fr/?a=1">lien</a>',
        "<p>Ouvert de 14:05 à 18:00</p>",
        "<style>a:hover { color: red; }</style>",
        "<script>if (a) { b(); }</script>",
        '<div hx-vals=\'{"action": "tester"}\'></div>',
        "{# a comment : in English #}",
        "{% if a %}x{% endif %}",
        "<code>flask --app app admin create NOM : x</code>",
        "{{ 's' if n > 1 }}",
    ],
)
def test_the_guard_leaves_code_and_good_text_alone(source):
    assert not _template_problems(source)


def test_the_fixer_sets_narrow_no_break_spaces():
    source = "<p>Note : « texte » ; fin ? {{ a if b else 'Oui : non' }}</p>"
    fixed = typography._fix(source, typography.template_prose(source), plain_space_only=False)
    assert fixed == (
        f"<p>Note{NNBSP}: «{NNBSP}texte{NNBSP}»{NNBSP}; fin{NNBSP}? "
        f"{{{{ a if b else 'Oui{NNBSP}: non' }}}}</p>"
    )


def test_python_scan_skips_log_lines_sql_and_docstrings(tmp_path, monkeypatch):
    module = tmp_path / "portail" / "sample.py"
    module.parent.mkdir()
    module.write_text(
        '"""Docstring : left alone."""\n'
        'logger.warning("Journal : %s", x)\n'
        'SQL = "SELECT * FROM t WHERE a = ?"\n'
        'CLAUSE = "ref >= ? AND ref < ?"\n'
        'MESSAGE = "Le jeton a expiré : collez-en un autre."\n'
        'QUOTED = f"« {name} »"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(typography, "ROOT", tmp_path)
    lines = sorted({finding.line for finding in typography.python_findings(module)})
    assert lines == [5, 6]


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 heure"), (1, "1 heure"), (2, "2 heures"), (1500, f"1{NNBSP}500 heures")],
)
def test_count_of_uses_real_plurals(count, expected):
    assert count_of(count, "heure") == expected


def test_count_of_takes_an_irregular_plural():
    assert count_of(3, "travail", "travaux") == "3 travaux"


def test_the_guard_reads_f_strings_whole(tmp_path):
    # Python 3.12 splits an f-string into several tokens (PEP 701): the guard joins them
    # back, so an f-string is checked and mended on every supported Python.
    module = tmp_path / "messages.py"
    module.write_text('n = 3\nm = f"Réessayez dans {n} secondes : merci."\n', encoding="utf-8")
    assert [f.problem for f in typography.python_findings(module)] == ["ordinary space before ':'"]
    assert typography.fix_python(module)
    assert f"secondes{NNBSP}: merci" in module.read_text(encoding="utf-8")
    assert typography.python_findings(module) == []
