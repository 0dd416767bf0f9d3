"""The notices without I/O: what they say, and when one is read."""

import uuid
from datetime import UTC, datetime, timedelta

from notifications.domain import SILENT_RELEASES, grant_notice, welcome_notice

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_a_notice_is_read_once_and_keeps_the_first_time() -> None:
    notice = welcome_notice("anna", uuid.uuid4(), NOW, "event-1")
    read = notice.read(NOW + timedelta(minutes=5))
    assert (notice.read_at, read.read_at) == (None, NOW + timedelta(minutes=5))
    assert read.read(NOW + timedelta(days=1)) is read


def test_a_grant_notice_names_the_project_and_the_amount_in_both_languages() -> None:
    notice = grant_notice("grant_spent", "anna", "IMK", "320.00", NOW, "event-2")
    assert notice.body == {
        "lv": "No jūsu finansējuma projektā IMK samaksāti 320.00 EUR par mācībām.",
        "en": "320.00 EUR of your grant in IMK paid for your studies.",
    }
    assert (notice.kind, notice.recipient_id, notice.cause_event_id) == ("grant_spent", "anna", "event-2")


def test_a_lapsed_grant_gets_only_the_lapse_notice() -> None:
    assert "lapsed" in SILENT_RELEASES
    assert not SILENT_RELEASES & {"withdrawn", "remainder", "discontinued"}
