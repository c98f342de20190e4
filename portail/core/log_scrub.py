"""Defence in depth: the API token is masked in every log record, whatever logged it.

The client never puts the token in a message and scrubs upstream echoes, but a log line can
come from anywhere (a library's debug output, an exception's text, a future bug). Each token
the settings hand out is remembered here, and a log-record factory, installed once per
process, replaces it with "***" in the formatted message and in the exception text before
any handler sees the record. The factory runs only for records that pass the logger's
level, so it costs nothing on the hot path when nothing is logged.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

MASK = "***"


_MIN_SECRET_LENGTH = 16  # shorter values would mask ordinary words (tests, misconfigs)


_KEPT = 4  # a renewed token may still be echoed by a call in flight: keep the last few


_secrets: deque[str] = deque(maxlen=_KEPT)


_lock = threading.Lock()


_installed = False


_formatter = logging.Formatter()


def remember(secret: str) -> None:
    """Mask this value in every log record from now on (idempotent, cheap when known)."""
    if len(secret) < _MIN_SECRET_LENGTH or secret in _secrets:
        return
    with _lock:
        if secret not in _secrets:
            _secrets.append(secret)


def scrub(text: str) -> str:
    """`text` with every remembered secret masked."""
    for secret in tuple(_secrets):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def install() -> None:
    """Wrap the process's log-record factory (once; other wrappers are kept)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args, **kwargs) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _secrets:
                _scrub_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: leave it to logging's own error handling
        return
    clean = scrub(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        # Formatted now so that handlers reuse this scrubbed text (they honour exc_text).
        record.exc_text = scrub(_formatter.formatException(record.exc_info))
