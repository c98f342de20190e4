"""A small, valid PDF 1.4 written by hand: one A4 page of text lines, for the sandbox's
attestation documents (no library, nothing downloaded).

The file has what a reader checks: the `%PDF-1.4` header and a binary comment line, six
numbered objects (catalog, pages, page, two standard Type 1 fonts, content stream) plus the
document information, a cross-reference table whose every entry gives its object's exact
byte offset (20-byte entries), the trailer and `startxref`. Text is WinAnsi-encoded (French
accents), with the string delimiters escaped. Same inputs, same bytes.
"""

from __future__ import annotations

from datetime import date

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
TITLE_SIZE, TEXT_SIZE, LEADING = 18, 11, 18


def pdf_string(value: str) -> bytes:
    """A PDF literal string: WinAnsi bytes (unknown characters as '?'), (, ) and \\ escaped,
    line breaks as spaces."""
    raw = " ".join(value.split()).encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _content(title: str, lines: list[str]) -> bytes:
    parts = [
        b"BT",
        b"/F2 %d Tf" % TITLE_SIZE,
        b"%d %d Td" % (MARGIN, PAGE_HEIGHT - MARGIN - TITLE_SIZE),
        pdf_string(title) + b" Tj",
        b"/F1 %d Tf" % TEXT_SIZE,
        b"%d TL" % LEADING,
        b"0 -%d Td" % (2 * LEADING),
    ]
    for line in lines:
        parts.append(pdf_string(line) + b" Tj T*")
    parts.append(b"ET")
    return b"\n".join(parts) + b"\n"


def one_page_pdf(title: str, lines: list[str], *, created: date, producer: str) -> bytes:
    """A one-page PDF showing `title` in bold, then `lines`."""
    content = _content(title, lines)
    stamp = created.strftime("D:%Y%m%d000000Z").encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
        % (PAGE_WIDTH, PAGE_HEIGHT),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Title "
        + pdf_string(title)
        + b" /Producer "
        + pdf_string(producer)
        + b" /CreationDate ("
        + stamp
        + b") >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (
        len(objects) + 1,
        len(objects),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)
