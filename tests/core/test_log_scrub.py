"""The API token never reaches a log line, even when some code logs it by mistake."""

from __future__ import annotations

import logging

from portail.core import log_scrub
from portail.core.tokens import mint_token
from portail.storage import settings


def test_a_loaded_token_is_masked_in_messages_and_arguments(db, caplog):
    token = mint_token(["open_data"])
    settings.save(db, {"token": token}, actor="test")
    assert settings.load(db).token == token
    logger = logging.getLogger("some.library")
    with caplog.at_level(logging.DEBUG):
        logger.warning("Authorization: Bearer %s", token)
        logger.warning(f"inline {token} too")
    assert caplog.records
    for record in caplog.records:
        assert token not in record.getMessage()
        assert log_scrub.MASK in record.getMessage()


def test_a_token_inside_an_exception_is_masked_in_the_traceback(db, caplog):
    token = mint_token(["open_data"])
    settings.save(db, {"token": token}, actor="test")
    with caplog.at_level(logging.ERROR):
        try:
            raise RuntimeError(f"upstream echoed {token}")
        except RuntimeError:
            logging.getLogger("portail.any").exception("Échec")
    assert token not in caplog.text
    assert "upstream echoed ***" in caplog.text


def test_short_values_are_not_treated_as_secrets(app, caplog):
    log_scrub.remember("on")
    with caplog.at_level(logging.INFO):
        logging.getLogger("x").info("switch on")
    assert caplog.records[-1].getMessage() == "switch on"
