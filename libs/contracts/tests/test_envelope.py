from datetime import UTC, datetime

import pytest
from cloudevents.v1.kafka import KafkaMessage, from_binary
from prasmes_contracts import CloudEvent, KafkaRecord, from_kafka, to_kafka
from prasmes_contracts.envelope import EnvelopeError

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _event() -> CloudEvent:
    return CloudEvent(
        source="/prasmes/accounts",
        type="lv.prasmes.accounts.AccountOpened.v1",
        subject="acc-1",
        time=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        data={"account_id": "acc-1", "learner_id": "u-1"},
        traceparent=TRACEPARENT,
    )


def test_binary_mode_puts_attributes_in_ce_headers_and_data_in_the_value() -> None:
    record = to_kafka(_event(), key="acc-1")
    assert record.key == b"acc-1"
    assert record.header("ce_type") == "lv.prasmes.accounts.AccountOpened.v1"
    assert record.header("ce_specversion") == "1.0"
    assert record.header("ce_subject") == "acc-1"
    assert record.header("content-type") == "application/json"
    assert record.header("traceparent") == TRACEPARENT
    assert record.value == b'{"account_id":"acc-1","learner_id":"u-1"}'


def test_round_trip_keeps_every_attribute() -> None:
    event = _event()
    assert from_kafka(to_kafka(event, key="acc-1")) == event


def test_the_reference_sdk_reads_our_records() -> None:
    event = _event()
    record = to_kafka(event, key="acc-1")
    message = KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)
    parsed = from_binary(message)
    assert parsed["id"] == event.id
    assert parsed["type"] == "lv.prasmes.accounts.AccountOpened.v1"
    assert parsed["source"] == "/prasmes/accounts"
    assert parsed["subject"] == "acc-1"
    assert parsed.data == {"account_id": "acc-1", "learner_id": "u-1"}


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (KafkaRecord(key=None, value=b"{}", headers=[]), "missing headers"),
        (
            KafkaRecord(None, b"not json", [(h, b"x") for h in ("ce_id", "ce_source", "ce_type", "ce_specversion")]),
            "not JSON",
        ),
        (
            KafkaRecord(None, b"[1]", [(h, b"x") for h in ("ce_id", "ce_source", "ce_type", "ce_specversion")]),
            "JSON object",
        ),
    ],
)
def test_malformed_records_are_refused(record: KafkaRecord, problem: str) -> None:
    with pytest.raises(EnvelopeError, match=problem):
        from_kafka(record)
