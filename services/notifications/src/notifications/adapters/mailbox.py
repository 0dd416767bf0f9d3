"""Mail for a machine without an SMTP server (`make run`): each mail written as an .eml file into a folder, where a
developer opens it in any mail program. The same interface as the SMTP sender."""

from __future__ import annotations

import asyncio
from pathlib import Path

from notifications.adapters.smtp import OutgoingMail, compose


class MailboxFolder:
    def __init__(self, folder: Path, sender: str) -> None:
        self._folder = folder
        self._sender = sender

    async def send(self, mail: OutgoingMail) -> None:
        await asyncio.to_thread(self._write, mail)

    def _write(self, mail: OutgoingMail) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        name = mail.message_id.strip("<>").replace("@", "_at_")
        (self._folder / f"{name}.eml").write_bytes(bytes(compose(mail, self._sender)))
