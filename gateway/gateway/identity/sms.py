"""Sending one-time codes by SMS. A province plugs in its SMS gateway; the built-in
provider appends the messages to a local file for development (never to the log)."""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path


class SmsProvider(ABC):
    @abstractmethod
    async def send(self, phone: str, text: str) -> None: ...


class FileOutboxSms(SmsProvider):
    """Development only: one JSON line per message in ``var/sms-outbox.jsonl`` (mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, phone: str, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write(
                json.dumps(
                    {"to": phone, "text": text, "at": datetime.now(UTC).isoformat()},
                    ensure_ascii=False,
                )
            )
            f.write("\n")

    def last_code_for(self, phone: str) -> str | None:
        """The newest code sent to ``phone`` (for development and tests)."""
        if not self.path.exists():
            return None
        code = None
        for line in self.path.read_text().splitlines():
            entry = json.loads(line)
            if entry["to"] == phone:
                code = entry["text"].rsplit("：", 1)[-1].strip()[:6]
        return code
