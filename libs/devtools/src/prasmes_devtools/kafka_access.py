"""Who may do what on Kafka: the platform's ACLs, derived from the registries (no list is kept by hand).

Each backend signs in as `svc-<name>`. It may write the topics it owns (the topic registry's `owner`) and the
dead-letter topics of the topics it consumes (its consumers write `<topic>.dlq` when a record keeps failing), and
create those (its worker's `ensure_topics`); it may read the topics its consumers handle (its `ServiceDefinition`),
in the consumer groups named after its consumers (`ConsumerSpec.name`, then the test suffix or `.g<generation>`).
A partner may only read the partner-readable topics, in groups of its own prefix, and write nothing.

The event schemas do not travel on the bus: they are the committed JSON Schemas and the AsyncAPI document of
`libs/contracts` (no schema registry, no schema topic), so the ACLs have none to grant.

`bindings(grant)` is the one mapping of a grant to ACLs: `apply` creates them on a broker (tests, one machine); the
deployment renders the same bindings as Strimzi KafkaUser resources.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequestStruct
from aiokafka.protocol.api import Request
from prasmes_contracts.registry import TOPICS, topic_named
from prasmes_runtime import registry
from prasmes_runtime.service import ServiceDefinition

ResourceType = Literal["topic", "group"]
PatternType = Literal["literal", "prefixed"]
Operation = Literal["Read", "Write", "Create", "Describe"]

WRITE_OPERATIONS: tuple[Operation, ...] = ("Write", "Describe", "Create")
READ_OPERATIONS: tuple[Operation, ...] = ("Read", "Describe")
GROUP_OPERATIONS: tuple[Operation, ...] = ("Read",)
"""Read on a group lets a member join, commit and (Describe being implied) look up the group's offsets."""

# Kafka's wire codes (org.apache.kafka.common.resource.*, org.apache.kafka.common.acl.*).
_RESOURCE_CODES: dict[ResourceType, int] = {"topic": 2, "group": 3}
_PATTERN_CODES: dict[PatternType, int] = {"literal": 3, "prefixed": 4}
_OPERATION_CODES: dict[Operation, int] = {"Read": 3, "Write": 4, "Create": 5, "Describe": 8}
_ALLOW = 3


@dataclass(frozen=True)
class Grant:
    principal: str
    """The SCRAM user's name (`User:<principal>` to the authorizer)."""
    writes: tuple[str, ...]
    reads: tuple[str, ...]
    group_prefixes: tuple[str, ...]


@dataclass(frozen=True)
class Binding:
    """One ACL, in Strimzi's words (a KafkaUser's `acls` entry): always an allow, from any host."""

    principal: str
    resource_type: ResourceType
    name: str
    pattern_type: PatternType
    operation: Operation


def service_principal(name: str) -> str:
    return f"svc-{name}"


def service_grants() -> list[Grant]:
    """One grant per backend of the service registry."""
    return [_service_grant(_definition(name)) for name in registry.BACKENDS]


def partner_grant(principal: str = "partner") -> Grant:
    """Reads the partner-readable topics only, in groups named `<principal>.<anything>`; writes nothing."""
    return Grant(
        principal=principal,
        writes=(),
        reads=tuple(topic.name for topic in TOPICS if topic.partner_readable),
        group_prefixes=(f"{principal}.",),
    )


def internal_topics() -> list[str]:
    """What no partner may read: the topics that are not partner-readable, and every dead-letter topic (a dead
    letter also carries the consumer's error text)."""
    return [
        *(topic.name for topic in TOPICS if not topic.partner_readable),
        *(topic.dead_letter for topic in TOPICS),
    ]


def bindings(grant: Grant) -> list[Binding]:
    def on(resource: ResourceType, name: str, pattern: PatternType, ops: Sequence[Operation]) -> list[Binding]:
        return [Binding(grant.principal, resource, name, pattern, op) for op in ops]

    reads = [b for topic in grant.reads for b in on("topic", topic, "literal", READ_OPERATIONS)]
    writes = [b for topic in grant.writes for b in on("topic", topic, "literal", WRITE_OPERATIONS)]
    groups = [b for prefix in grant.group_prefixes for b in on("group", prefix, "prefixed", GROUP_OPERATIONS)]
    return list(dict.fromkeys([*writes, *reads, *groups]))


async def apply(bootstrap: str, admin_security_kwargs: Mapping[str, Any], grants: Sequence[Grant]) -> None:
    """Create the grants' ACLs, signed in as a super user (aiokafka's client keyword arguments, e.g.
    `KafkaSecurity.client_kwargs()`). Idempotent: the broker keeps an ACL that exists as it is."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000, **admin_security_kwargs)
    try:
        await admin.start()
        await _create(admin, list(dict.fromkeys(b for grant in grants for b in bindings(grant))))
    finally:
        await admin.close()


class _CreateAcls(Request[CreateAclsRequestStruct]):  # type: ignore[misc]  # aiokafka ships no types
    """Every binding in one CreateAcls request (aiokafka 0.14 speaks CreateAcls but has no admin method for it,
    and its request carries one binding): the controller commits them together, where a request per binding (a few
    hundred) queues a metadata commit each and, on a busy machine, outlasts the client's timeout."""

    API_KEY = 30

    def __init__(self, bindings: Sequence[Binding]) -> None:
        self._bindings = list(bindings)

    def build(self, request_struct_class: type[CreateAclsRequestStruct]) -> CreateAclsRequestStruct:
        with_pattern = request_struct_class.API_VERSION >= 1
        return request_struct_class([_creation(b, with_pattern=with_pattern) for b in self._bindings])


def _creation(binding: Binding, *, with_pattern: bool) -> tuple[Any, ...]:
    resource = (_RESOURCE_CODES[binding.resource_type], binding.name)
    pattern = (_PATTERN_CODES[binding.pattern_type],) if with_pattern else ()
    return (*resource, *pattern, f"User:{binding.principal}", "*", _OPERATION_CODES[binding.operation], _ALLOW)


async def _create(admin: AIOKafkaAdminClient, bindings: Sequence[Binding]) -> None:
    # To any broker, which hands it to the controller; the answers come in the order of the bindings.
    response = await admin._client.send(admin._client.get_random_node(), _CreateAcls(bindings))
    for binding, (error_code, message) in zip(bindings, response.creation_responses, strict=True):
        if error_code:
            raise for_code(error_code)(f"ACL {binding} not created: {message}")


def _definition(name: str) -> ServiceDefinition:
    """A backend's `ServiceDefinition`, by the registry's `module:attribute` (a library names services, never
    imports them)."""
    module, attribute = registry.entry(name).definition.split(":")
    definition = getattr(importlib.import_module(module), attribute)
    if not isinstance(definition, ServiceDefinition):
        raise TypeError(f"{registry.entry(name).definition} is not a ServiceDefinition")
    return definition


def _service_grant(definition: ServiceDefinition) -> Grant:
    reads = tuple(dict.fromkeys(topic for spec in definition.consumers for topic in spec.topics))
    return Grant(
        principal=service_principal(definition.name),
        writes=(*definition.publishes, *(topic_named(topic).dead_letter for topic in reads)),
        reads=reads,
        group_prefixes=tuple(dict.fromkeys(spec.name for spec in definition.consumers)),
    )
