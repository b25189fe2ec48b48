"""set_logger_config: handlers, files, ranks, no duplicates."""

from __future__ import annotations

import logging

import pytest

from propulate import set_logger_config


@pytest.fixture(autouse=True)
def restore_logger():
    logger = logging.getLogger("propulate")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    for handler in handlers:
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = propagate


def test_calling_twice_does_not_duplicate_lines(tmp_path, capsys):
    log_file = tmp_path / "sub" / "run.log"
    set_logger_config(level=logging.INFO, log_file=log_file, log_to_stdout=True, colors=False)
    set_logger_config(level=logging.INFO, log_file=log_file, log_to_stdout=True, colors=False)
    logging.getLogger("propulate.propulator").info("hello once")
    out = capsys.readouterr().out
    assert out.count("hello once") == 1
    assert log_file.read_text().count("hello once") == 1  # the folder was created


def test_level_filters_and_rank_prefix(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PMI_RANK", "3")
    set_logger_config(level=logging.WARNING, log_to_stdout=True, log_rank=True, colors=False)
    logger = logging.getLogger("propulate.x")
    logger.info("not shown")
    logger.warning("shown")
    out = capsys.readouterr().out
    assert "not shown" not in out and "[3] WARNING" in out


def test_only_rank_zero_logs_info_without_log_rank(monkeypatch, capsys):
    monkeypatch.setenv("PMI_RANK", "2")
    set_logger_config(level=logging.INFO, log_to_stdout=True, log_rank=False, colors=False)
    logger = logging.getLogger("propulate.x")
    logger.info("progress from rank 2")
    logger.warning("a problem on rank 2")
    out = capsys.readouterr().out
    assert "progress from rank 2" not in out
    assert "a problem on rank 2" in out  # warnings are never spam
