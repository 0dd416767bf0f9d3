"""The platform's published event contracts.

Every event a service publishes is a pydantic model here, registered on exactly one topic.
Partners rely on these; change them only additively within a version.
"""

from prasmes_contracts.envelope import CloudEvent, KafkaRecord, binary_record, encode_data, from_kafka, to_kafka
from prasmes_contracts.events import Event, Topic
from prasmes_contracts.registry import TOPICS, event_class, topic_for

__all__ = [
    "TOPICS",
    "CloudEvent",
    "Event",
    "KafkaRecord",
    "Topic",
    "binary_record",
    "encode_data",
    "event_class",
    "from_kafka",
    "to_kafka",
    "topic_for",
]
