"""The notifications service's settings and adapters: where mail goes (an SMTP server, or a folder of .eml files on
a machine without one), where the recipients' addresses come from, how mails are retried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from prasmes_runtime.credentials import ServiceCredential
from prasmes_runtime.errors import Unavailable
from prasmes_runtime.settings import Settings
from pydantic import Field, SecretStr

from notifications.adapters.contacts import Contacts, DirectoryContacts
from notifications.adapters.mailbox import MailboxFolder
from notifications.adapters.smtp import SmtpConfig, SmtpSender
from notifications.domain.mails import Retry
from notifications.service.mails import Mailer, Sending


class NotificationsSettings(Settings):
    service_name: str = "notifications"
    smtp_host: str = ""
    """The SMTP server (SMTP_HOST); empty: mails are written as .eml files into var/mail (one machine, no server)."""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = False
    """Upgrade the connection with STARTTLS (SMTP_STARTTLS); required when true."""
    smtp_tls: bool = False
    """Implicit TLS (SMTP_TLS, usually port 465)."""
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout: float = Field(default=10.0, gt=0)
    mail_from: str = "Prasmes <no-reply@prasmes.lv>"
    public_url: str = "http://127.0.0.1:8000"
    """The platform's address as its users open it: every mail links back to it (PUBLIC_URL)."""
    mail_retry_first_seconds: float = Field(default=30, gt=0)
    mail_retry_longest_seconds: float = Field(default=3600, gt=0)
    mail_max_attempts: int = Field(default=10, ge=1, le=100)
    """A mail the server keeps refusing for now (4xx, down) is given up after this many attempts, with the reason."""
    digest_hour: int = Field(default=7, ge=0, le=23)
    """The staff's daily digests are made from this hour in Riga (DIGEST_HOUR)."""
    staff_roster_seconds: float = Field(default=300, gt=0)
    """How long the directory's answer to who the agency's officers are is kept (STAFF_ROSTER_SECONDS)."""
    mail_concurrency: int = Field(default=8, ge=1, le=64)
    """Mails sent side by side, each over its own connection (MAIL_CONCURRENCY): within what the server allows."""
    mail_lease_seconds: float = Field(default=300, gt=0)
    """A mail claimed for sending longer ago than this was being sent when its sender stopped: it is in doubt."""

    def retry(self) -> Retry:
        first, longest = self.mail_retry_first_seconds, self.mail_retry_longest_seconds
        return Retry(timedelta(seconds=first), timedelta(seconds=longest), self.mail_max_attempts)

    def smtp(self) -> SmtpConfig:
        return SmtpConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            starttls=self.smtp_starttls,
            use_tls=self.smtp_tls,
            username=self.smtp_username or None,
            password=self.smtp_password.get_secret_value() or None,
            timeout=self.smtp_timeout,
            sender=self.mail_from,
        )


@dataclass(frozen=True)
class NotificationsAdapters:
    contacts: Contacts
    mailer: Mailer


def build_adapters(settings: NotificationsSettings) -> NotificationsAdapters:
    mailer: Mailer = (
        SmtpSender(settings.smtp())
        if settings.smtp_host
        else MailboxFolder(settings.var_dir / "mail", settings.mail_from)
    )
    credential = ServiceCredential.of(settings)
    return NotificationsAdapters(
        contacts=DirectoryContacts(
            settings.identity_url, credential.token if credential else _no_credential, settings.staff_roster_seconds
        ),
        mailer=mailer,
    )


async def _no_credential() -> str:
    raise Unavailable("no SERVICE_CLIENT_SECRET: notifications cannot ask the directory for addresses")


def sending(settings: NotificationsSettings, adapters: NotificationsAdapters) -> Sending:
    return Sending(
        contacts=adapters.contacts,
        mailer=adapters.mailer,
        retry=settings.retry(),
        public_url=settings.public_url,
        lease=timedelta(seconds=settings.mail_lease_seconds),
        concurrency=settings.mail_concurrency,
    )
