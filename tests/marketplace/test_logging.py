"""Structured logs: LOG_FORMAT=json writes one JSON object per line for a log collector."""

from __future__ import annotations

import copy
import io
import json
import logging
import logging.config
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def json_logger(stream: io.StringIO) -> logging.Logger:
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"] = {
        "test": {"class": "logging.StreamHandler", "formatter": "json", "stream": stream}
    }
    config["root"] = {"handlers": [], "level": "INFO"}
    config["loggers"] = {"structured.test": {"handlers": ["test"], "level": "INFO"}}
    logging.config.dictConfig(config)
    return logging.getLogger("structured.test")


def test_a_json_line_carries_time_level_logger_message_and_extra_fields():
    stream = io.StringIO()
    try:
        json_logger(stream).warning("开标失败 %s", "JFB-2026-001", extra={"tender": 5})
    finally:
        logging.config.dictConfig(settings.LOGGING)
    record = json.loads(stream.getvalue().strip())
    assert record["level"] == "WARNING"
    assert record["logger"] == "structured.test"
    assert record["message"] == "开标失败 JFB-2026-001"
    assert record["tender"] == 5
    assert record["process"] == os.getpid()
    assert record["time"]


def test_an_unknown_log_format_stops_the_start_with_its_name():
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.DEBUG"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings", "LOG_FORMAT": "xml"},
        cwd=Path(settings.BASE_DIR),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json" in result.stderr
