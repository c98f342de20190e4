"""French typography of the text people read: finder (for the guard test) and fixer.

The rule (Imprimerie nationale): a narrow no-break space (U+202F) before : ; ! ? and inside
« » guillemets; real plurals instead of "(s)". Only prose is looked at: in templates, the text
between tags, the values of attributes people read (aria-label, title...) and the string
literals of Jinja expressions; never tags, Jinja code, scripts, styles, URLs (https:) or times
(14:05). In Python, the string constants of the modules that build what pages and e-mails show,
minus docstrings, log lines, SQL and console output.

`python -m tests.typography` rewrites every file in place (to settle a merge that brought new
text with ordinary spaces); the guard test (tests/web/test_typography.py) fails on what it finds.
"""

from __future__ import annotations

import ast
import io
import json
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NNBSP = "\u202f"

# Text for the operator, read in a terminal or a log and copied from (commands, settings,
# identifiers): console programs, their errors and log warnings keep plain spaces.
OPERATOR_MODULES = {
    "portail/admin/cli.py",
    "portail/admin/maintenance_cli.py",
    "portail/apientreprise/sandbox/cli.py",
    "portail/serve.py",
    "portail/storage/accounts.py",
    "portail/storage/backup.py",
    "portail/storage/retention.py",
    "portail/storage/token_key.py",
    "portail/web/client_address.py",
}
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
CONSOLE_CALLS = {"print", "echo", "secho"}
SQL = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|WHERE|PRAGMA|VALUES|AND|OR|LIMIT|OFFSET)\b|[=<>,] \?"
)
HUMAN_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "aria-description", "hx-confirm"}
LITERAL_ELEMENTS = ("script", "style", "code", "pre", "kbd", "samp")

_PUNCTUATION = ":;!?"
# Prose punctuation is followed by a space, the end, a tag, Jinja, a quote or a bracket;
# glued on both sides it is code (a:hover, https://, 14:05, ?siret=).
_PROSE_AFTER = re.compile(r"$|[\s<{'\")\]»]")
_PLURAL_PLACEHOLDER = re.compile(r"\w\((?:e?s|x)\)")


@dataclass(frozen=True)
class Finding:
    where: str
    line: int
    excerpt: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.problem}: {self.excerpt!r}"


def _problems(text: str, prose: list[bool], plain_space_only: bool) -> list[tuple[int, str]]:
    """(offset, problem) for each typographic fault among the prose positions of text."""
    found = []
    for index, char in enumerate(text):
        if not prose[index]:
            continue
        before = text[index - 1] if index else ""
        after = text[index + 1 : index + 2]
        if char in _PUNCTUATION and _PROSE_AFTER.match(after):
            if before == NNBSP or before in _PUNCTUATION + ".…" or before in "\n":
                continue
            if before in " \u00a0\t":
                found.append((index, f"ordinary space before {char!r}"))
            elif not plain_space_only and before and (before.isalnum() or before in "}>)»"):
                found.append((index, f"no space before {char!r}"))
        elif char == "«" and after != NNBSP:
            found.append((index, "no narrow no-break space after «"))
        elif char == "»" and before != NNBSP:
            found.append((index, "no narrow no-break space before »"))
    for match in _PLURAL_PLACEHOLDER.finditer(text):
        if prose[match.start() + 1]:
            found.append((match.start(), f"plural placeholder {match.group()[1:]!r}"))
    return found


def _fix(text: str, prose: list[bool], plain_space_only: bool) -> str:
    """text with the spacing faults of its prose positions mended (plurals are left to people:
    they need a count)."""
    out = []
    for index, char in enumerate(text):
        if not prose[index]:
            out.append(char)
            continue
        after = text[index + 1 : index + 2]
        before = out[-1] if out else ""
        if char in _PUNCTUATION and _PROSE_AFTER.match(after):
            if before in (" ", "\u00a0"):
                out[-1] = NNBSP
            elif not plain_space_only and before and (before.isalnum() or before in "}>)»"):
                out.append(NNBSP)
            out.append(char)
        elif char == "»":
            if before in (" ", "\u00a0"):
                out[-1] = NNBSP
            elif before != NNBSP:
                out.append(NNBSP)
            out.append(char)
        elif char in (" ", "\u00a0") and before == "«":
            out.append(NNBSP)
        elif before == "«" and char != NNBSP:
            out.extend((NNBSP, char))
        else:
            out.append(char)
    return "".join(out)


# Templates ---------------------------------------------------------------------------------

_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
_JINJA_STRING = re.compile(r"'([^'\\]*(?:\\.[^'\\]*)*)'|\"([^\"\\]*(?:\\.[^\"\\]*)*)\"")
_ATTRIBUTE = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(\"[^\"]*\"|'[^']*')")


def template_prose(text: str) -> list[bool]:
    """For each character of a template: is it prose people read?"""
    prose = [False] * len(text)
    jinja = [False] * len(text)
    for block in _JINJA.finditer(text):
        for index in range(block.start(), block.end()):
            jinja[index] = True
        if block.group().startswith("{#"):
            continue
        for literal in _JINJA_STRING.finditer(block.group()):
            start = block.start() + literal.start() + 1
            end = block.start() + literal.end() - 1
            if re.search(r"[^\W\d_]", text[start:end]):
                for index in range(start, end):
                    prose[index] = True
    index = 0
    literal_end = None  # inside <script>, <code>...: until this closing tag
    while index < len(text):
        if jinja[index]:
            index += 1
            continue
        if text.startswith("<!--", index):
            index = text.find("-->", index) + 3 if "-->" in text[index:] else len(text)
            continue
        if text[index] == "<" and re.match(r"</?[a-zA-Z!]", text[index : index + 3]):
            end = index
            while end < len(text) and (text[end] != ">" or jinja[end]):
                end += 1
            tag = text[index : end + 1]
            name = re.match(r"</?([a-zA-Z0-9!]+)", tag).group(1).lower()
            if literal_end is None:
                for attribute in _ATTRIBUTE.finditer(tag):
                    if attribute.group(1).lower() in HUMAN_ATTRIBUTES:
                        for offset in range(attribute.start(2) + 1, attribute.end(2) - 1):
                            if not jinja[index + offset]:
                                prose[index + offset] = True
                if name in LITERAL_ELEMENTS and not tag.startswith("</"):
                    literal_end = f"</{name}"
            elif tag.lower().startswith(literal_end):
                literal_end = None
            index = end + 1
            continue
        if literal_end is None:
            prose[index] = True
        index += 1
    return prose


def templates() -> list[Path]:
    return sorted((ROOT / "templates").rglob("*.html"))


def template_findings(path: Path) -> list[Finding]:
    text = path.read_text(encoding="utf-8")
    problems = _problems(text, template_prose(text), plain_space_only=False)
    return [_finding(path, text, offset, problem) for offset, problem in problems]


def fix_template(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    fixed = _fix(text, template_prose(text), plain_space_only=False)
    if fixed != text:
        path.write_text(fixed, encoding="utf-8")
    return fixed != text


# Python messages ---------------------------------------------------------------------------


def message_modules() -> list[Path]:
    paths = [*sorted((ROOT / "portail").rglob("*.py")), *sorted((ROOT / "forms").glob("*.py"))]
    return [path for path in paths if _relative(path) not in OPERATOR_MODULES]


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def _skipped_spans(tree: ast.AST) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Source spans whose strings are not messages: docstrings, log lines, console output, SQL."""
    spans = []

    def span(node: ast.AST) -> None:
        spans.append(((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            span(body[0])
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = ast.unparse(func.value).lower() if isinstance(func, ast.Attribute) else ""
            if (name in LOG_METHODS and "log" in owner) or name in CONSOLE_CALLS:
                span(node)
            for keyword in node.keywords:
                if keyword.arg == "help":  # command-line help
                    span(keyword.value)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL.search(node.value)
        ):
            span(node)
        if isinstance(node, ast.JoinedStr):
            parts = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
            if SQL.search(parts):
                span(node)
    return spans


_FSTRING_START = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+ (PEP 701)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def _whole_strings(source: str):
    """The string tokens of source, an f-string as one STRING token on every Python: from
    3.12 tokenize splits it into FSTRING_START, its parts and FSTRING_END; joined back here,
    the guard reads f-strings on 3.12 as it does on 3.11."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    depth, opened = 0, None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if _FSTRING_START is not None and token.type == _FSTRING_START:
            depth += 1
            opened = opened or token
        elif _FSTRING_END is not None and token.type == _FSTRING_END:
            depth -= 1
            if depth == 0:
                begin = offsets[opened.start[0] - 1] + opened.start[1]
                finish = offsets[token.end[0] - 1] + token.end[1]
                text = source[begin:finish]
                yield tokenize.TokenInfo(tokenize.STRING, text, opened.start, token.end, "")
                opened = None
        elif token.type == tokenize.STRING and depth == 0:
            yield token


def _string_tokens(source: str):
    """(start, end, text) of each string token outside docstrings, log lines, console output
    and SQL."""
    skipped = _skipped_spans(ast.parse(source))
    for token in _whole_strings(source):
        if any(start <= token.start and token.end <= end for start, end in skipped):
            continue
        yield token


def _token_body(text: str) -> tuple[int, int]:
    """Offsets of a string token's contents, between its prefix and quotes."""
    prefix = len(text) - len(text.lstrip("rRbBfFuU"))
    quote = 3 if text[prefix : prefix + 3] in ('"""', "'''") else 1
    return prefix + quote, len(text) - quote


def python_findings(path: Path) -> list[Finding]:
    source = path.read_text(encoding="utf-8")
    findings = []
    for token in _string_tokens(source):
        start, end = _token_body(token.string)
        prose = [start <= index < end for index in range(len(token.string))]
        for offset, problem in _problems(token.string, prose, plain_space_only=True):
            line = token.start[0] + token.string[:offset].count("\n")
            findings.append(Finding(_relative(path), line, token.string[:80], problem))
    return findings


def fix_python(path: Path) -> bool:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    edits = []
    for token in _string_tokens(source):
        start, end = _token_body(token.string)
        prose = [start <= index < end for index in range(len(token.string))]
        fixed = _fix(token.string, prose, plain_space_only=True)
        if fixed != token.string:
            begin = offsets[token.start[0] - 1] + token.start[1]
            finish = offsets[token.end[0] - 1] + token.end[1]
            edits.append((begin, finish, fixed))
    for begin, finish, fixed in reversed(edits):
        source = source[:begin] + fixed + source[finish:]
    if edits:
        path.write_text(source, encoding="utf-8")
    return bool(edits)


def _finding(path: Path, text: str, offset: int, problem: str) -> Finding:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return Finding(_relative(path), line, text[start : end if end != -1 else None].strip(), problem)


# Data files whose texts pages show as they are (the demonstration's personas), and which of
# their keys hold French prose.
PEOPLE_DATA = {
    ROOT / "portail/apientreprise/sandbox/data/personas.json": ("label", "shows"),
}


def _prose_strings(node, keys: tuple[str, ...], fix=None):
    """Yield (key, text) of the prose strings under `keys`; with `fix`, replace them."""
    if isinstance(node, list):
        for item in node:
            yield from _prose_strings(item, keys, fix)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in keys and isinstance(value, str):
                yield key, value
                if fix is not None:
                    node[key] = fix(value)
            else:
                yield from _prose_strings(value, keys, fix)


def data_findings(path: Path, keys: tuple[str, ...]) -> list[Finding]:
    findings = []
    for key, text in _prose_strings(json.loads(path.read_text(encoding="utf-8")), keys):
        prose = [True] * len(text)
        for _offset, problem in _problems(text, prose, plain_space_only=True):
            findings.append(Finding(f"{_relative(path)} ({key})", 0, text[:80], problem))
    return findings


def fix_data(path: Path, keys: tuple[str, ...]) -> bool:
    data = json.loads(path.read_text(encoding="utf-8"))
    before = json.dumps(data, ensure_ascii=False)

    def mend(text: str) -> str:
        return _fix(text, [True] * len(text), plain_space_only=True)

    list(_prose_strings(data, keys, mend))
    if json.dumps(data, ensure_ascii=False) == before:
        return False
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return True


def all_findings() -> list[Finding]:
    found = [finding for path in templates() for finding in template_findings(path)]
    found += [
        finding for path, keys in PEOPLE_DATA.items() for finding in data_findings(path, keys)
    ]
    return found + [finding for path in message_modules() for finding in python_findings(path)]


if __name__ == "__main__":
    changed = [_relative(path) for path in templates() if fix_template(path)]
    changed += [_relative(path) for path, keys in PEOPLE_DATA.items() if fix_data(path, keys)]
    changed += [_relative(path) for path in message_modules() if fix_python(path)]
    print("\n".join(changed) or "nothing to fix")
    remaining = all_findings()
    print("\n".join(map(str, remaining)))
    sys.exit(1 if remaining else 0)
