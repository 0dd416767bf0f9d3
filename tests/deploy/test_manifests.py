"""deploy/k8s: the committed generated files are the generator's output, the base and both overlays render with the
pinned kustomize, every object validates against the Kubernetes schemas (the operators' kinds against a schema of
their required fields), every service has what it needs to run, scale and be reached by whom it should (and by no
one else), and checkov finds nothing that deploy/k8s/checkov-skips.yaml does not explain."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from prasmes_contracts.registry import TOPICS
from prasmes_devtools import kafka_access
from prasmes_runtime import registry

from tests.deploy.support import CHECKOV, K8S, OVERLAYS, load_generator, objects_of, setting_names, tool

KUBERNETES_VERSION = "1.33.0"
"""The Kubernetes version whose schemas (shipped by kubernetes-validate) every built-in object is validated against."""
generator = load_generator()


def _required(*paths: str) -> dict[str, Any]:
    """A JSON Schema requiring each dotted path (`spec.kafka.listeners`) to exist, every parent an object."""
    schema: dict[str, Any] = {"required": ["apiVersion", "kind", "metadata"]}
    for path in paths:
        node = schema
        for part in path.split("."):
            node["type"] = "object"
            node["required"] = sorted({*node.get("required", []), part})
            node = node.setdefault("properties", {}).setdefault(part, {})
    return schema


OPERATOR_KINDS: dict[tuple[str, str], dict[str, Any]] = {
    ("kafka.strimzi.io/v1beta2", "Kafka"): _required("spec.kafka.listeners", "spec.kafka.authorization"),
    ("kafka.strimzi.io/v1beta2", "KafkaNodePool"): _required("spec.replicas", "spec.roles", "spec.storage"),
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): _required("spec.topicName", "spec.partitions", "spec.replicas"),
    ("kafka.strimzi.io/v1beta2", "KafkaUser"): _required("spec.authentication.type", "spec.authorization.acls"),
    ("keda.sh/v1alpha1", "ScaledObject"): _required("spec.scaleTargetRef.name", "spec.triggers"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"): _required("spec"),
    ("postgresql.cnpg.io/v1", "Cluster"): _required("spec.instances", "spec.storage.size"),
    ("monitoring.coreos.com/v1", "PodMonitor"): _required("spec.selector", "spec.podMetricsEndpoints"),
}
"""The operators' custom resources, which kubernetes-validate has no schema of: validated only for their
apiVersion and kind (those listed here, nothing else) and the fields each of them requires."""


def test_the_committed_generated_files_are_the_generators_output():
    problems: list[str] = []
    assert generator.check(generator.files(), problems.append), "\n".join(problems)


@pytest.mark.parametrize("name", ["base", *OVERLAYS])
def test_every_object_validates_against_its_schema(rendered, name):
    errors = []
    for o in rendered[name]:
        where = f"{o['kind']}/{o['metadata']['name']}"
        schema = OPERATOR_KINDS.get((o["apiVersion"], o["kind"]))
        try:
            if schema is not None:
                jsonschema.validate(o, schema)
            else:
                kubernetes_validate.validate(o, KUBERNETES_VERSION, strict=True)
        except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as exc:
            errors.append(f"{name}: {where}: {exc}")
        except kubernetes_validate.SchemaNotFoundError:
            errors.append(f"{name}: {where}: no schema, and not an operator's kind listed in OPERATOR_KINDS")
    assert errors == []


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_service_has_its_deployments_service_autoscaling_budget_and_database(rendered, name):
    objects = rendered[name]
    kinds = {kind: objects_of(objects, kind) for kind in ("Deployment", "Service", "HorizontalPodAutoscaler")}
    budgets, scaled = objects_of(objects, "PodDisruptionBudget"), objects_of(objects, "ScaledObject")
    for entry in registry.SERVICES:
        api = f"{entry.name}-api" if entry.backend else entry.name
        assert api in kinds["Deployment"] and api in kinds["HorizontalPodAutoscaler"] and api in budgets, entry.name
        assert entry.name in kinds["Service"]
        if entry.backend:
            worker = f"{entry.name}-worker"
            assert worker in kinds["Deployment"] and worker in scaled and worker in budgets
            assert f"{entry.name}-db" in objects_of(objects, "Cluster")
            assert kafka_access.service_principal(entry.name) in objects_of(objects, "KafkaUser")


def _platform_deployments(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    services = {s.name for s in registry.SERVICES}
    return [o for o in objects_of(objects, "Deployment").values() if _service_of(o) in services]


def _service_of(o: dict[str, Any]) -> str:
    return str(o["metadata"]["labels"].get("app.kubernetes.io/name", ""))


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_pod_is_probed_sized_and_restricted(rendered, name):
    deployments = objects_of(rendered[name], "Deployment").values()
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
            assert security["runAsNonRoot"] is True and security["capabilities"]["drop"] == ["ALL"]
            assert security["seccompProfile"]["type"] == "RuntimeDefault"
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}
            assert "readinessProbe" in container and "livenessProbe" in container
    for deployment in _platform_deployments(rendered[name]):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert {"name": "metrics", "containerPort": 9464, "protocol": "TCP"} in container["ports"]
    assert objects_of(rendered[name], "ConfigMap")["prasmes-settings"]["data"]["METRICS_PORT"] == "9464"


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_environment_variable_is_a_setting(rendered, name):
    config_maps = objects_of(rendered[name], "ConfigMap")
    known = setting_names()
    for deployment in _platform_deployments(rendered[name]):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        names = {e["name"] for e in container["env"]}
        for source in container["envFrom"]:
            if "configMapRef" in source:
                names |= set(config_maps[source["configMapRef"]["name"]]["data"])
        assert names - known == set(), deployment["metadata"]["name"]


# --- who reaches whom


def _policies(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(objects_of(objects, "NetworkPolicy").values())


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    if any(e["key"] not in labels for e in selector.get("matchExpressions", [])):
        return False
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _ingress_rules(objects: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        rule
        for p in _policies(objects)
        if _selects(p, labels) and "Ingress" in p["spec"]["policyTypes"]
        for rule in p["spec"].get("ingress", [])
    ]


def _peer_services(rule: dict[str, Any]) -> set[str]:
    return {
        peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name", "?")
        for peer in rule.get("from", [])
    }


def _pod_labels(objects: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in _platform_deployments(objects)}


@pytest.mark.parametrize("name", OVERLAYS)
def test_nothing_is_reachable_but_what_a_policy_allows(rendered, name):
    deny = [p for p in _policies(rendered[name]) if p["spec"]["podSelector"] == {} and "ingress" not in p["spec"]]
    assert any(set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"} and "egress" not in p["spec"] for p in deny)
    for pod, labels in _pod_labels(rendered[name]).items():
        for rule in _ingress_rules(rendered[name], labels):
            assert rule.get("ports"), f"{pod}: an ingress rule without ports opens every port"


@pytest.mark.parametrize("name", OVERLAYS)
def test_only_the_gateway_and_the_web_pages_are_reachable_from_outside(rendered, name):
    """From another namespace (the ingress controller's, Prometheus's) or an address: the gateway's and the web
    pages' HTTP port, and every pod's metrics port to Prometheus alone (below)."""
    reachable = {
        labels["app.kubernetes.io/name"]
        for labels in _pod_labels(rendered[name]).values()
        for rule in _ingress_rules(rendered[name], labels)
        if not _is_metrics_rule(rule) and any("namespaceSelector" in p or "ipBlock" in p for p in rule["from"])
    }
    assert reachable == {"gateway", "web"}
    (ingress,) = objects_of(rendered[name], "Ingress").values()
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"gateway", "web"}


def _is_metrics_rule(rule: dict[str, Any]) -> bool:
    return {p["port"] for p in rule["ports"]} == {"metrics"}


@pytest.mark.parametrize("name", OVERLAYS)
def test_a_backend_answers_the_gateway_its_own_worker_and_its_declared_callers_only(rendered, name):
    labels = _pod_labels(rendered[name])
    for backend in registry.BACKENDS:
        rules = [r for r in _ingress_rules(rendered[name], labels[f"{backend}-api"]) if not _is_metrics_rule(r)]
        callers = set().union(*(_peer_services(r) for r in rules))
        assert callers == {"gateway", backend, *generator.CALLERS.get(backend, ())}, backend
        assert [r for r in _ingress_rules(rendered[name], labels[f"{backend}-worker"]) if not _is_metrics_rule(r)] == []


@pytest.mark.parametrize("name", OVERLAYS)
def test_only_prometheus_reaches_the_metrics_port(rendered, name):
    for pod, labels in _pod_labels(rendered[name]).items():
        rules = _ingress_rules(rendered[name], labels)
        metrics = [r for r in rules if any(p["port"] in ("metrics", 9464) for p in r["ports"])]
        assert metrics and all(_is_metrics_rule(r) for r in metrics), pod
        for rule in metrics:
            (peer,) = rule["from"]
            assert peer["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}
            assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}


# --- Kafka


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_topic_and_its_dead_letters_are_kafka_topics(rendered, name):
    topics = {t["spec"]["topicName"] for t in objects_of(rendered[name], "KafkaTopic").values()}
    assert topics == {n for t in TOPICS for n in (t.name, t.dead_letter)}


def test_the_partner_reads_no_internal_topic(rendered):
    partner = objects_of(rendered["production"], "KafkaUser")["partner"]
    read = {a["resource"]["name"] for a in partner["spec"]["authorization"]["acls"] if a["resource"]["type"] == "topic"}
    assert read and not read & set(kafka_access.internal_topics())
    assert all(set(a["operations"]) <= {"Read", "Describe"} for a in partner["spec"]["authorization"]["acls"])


def test_production_spreads_the_pods_and_keeps_three_copies_of_everything(rendered):
    objects = rendered["production"]
    for deployment in objects_of(objects, "Deployment").values():
        assert deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert {t["spec"]["replicas"] for t in objects_of(objects, "KafkaTopic").values()} == {3}
    assert {c["spec"]["instances"] for c in objects_of(objects, "Cluster").values()} == {3}
    apis = [
        d for d in _platform_deployments(objects) if d["metadata"]["labels"]["app.kubernetes.io/component"] != "worker"
    ]
    assert {d["spec"]["replicas"] for d in apis} == {3}


def test_the_dev_secrets_and_the_gateways_record_of_them_agree(rendered):
    secrets = objects_of(rendered["dev"], "Secret")
    by_prefix = {name.rsplit("-", 1)[0]: s for name, s in secrets.items()}
    clients = json.loads(_decoded(by_prefix["gateway-clients"], "SERVICE_CLIENTS"))
    assert set(clients) == set(registry.BACKENDS)
    for backend, digest in clients.items():
        secret = _decoded(by_prefix[f"{backend}-client"], "SERVICE_CLIENT_SECRET")
        assert hashlib.sha256(secret.encode()).hexdigest() == digest
    web = json.loads(_decoded(by_prefix["gateway-clients"], "OIDC_CLIENTS"))["web"]
    assert (
        hashlib.sha256(_decoded(by_prefix["web-client"], "OIDC_CLIENT_SECRET").encode()).hexdigest()
        == web["secret_sha256"]
    )


def _decoded(secret: dict[str, Any], key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


def test_no_committed_manifest_holds_a_secret_value():
    """Only the dev overlay makes Secrets (its worthless placeholders): the base and production name them."""
    for path in [*(K8S / "base").rglob("*.yaml"), *(K8S / "overlays/production").rglob("*.yaml")]:
        for o in (d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)):
            assert o.get("kind") != "Secret", path
            assert "secretGenerator" not in o, path


# --- the policy checker


def test_checkov_finds_nothing_unexplained(rendered_dir: Path):
    skips: dict[str, str] = yaml.safe_load((K8S / "checkov-skips.yaml").read_text())
    assert all(isinstance(reason, str) and len(reason) > 40 for reason in skips.values())
    scan = subprocess.run(
        [tool(CHECKOV), "-d", rendered_dir, "--framework", "kubernetes", "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
    )
    report = json.loads(scan.stdout)
    (result,) = report if isinstance(report, list) else [report]
    assert result["summary"]["parsing_errors"] == 0 and result["summary"]["resource_count"] > 100
    failed = {(c["check_id"], c["resource"]) for c in result["results"]["failed_checks"]}
    assert {(check, resource) for check, resource in failed if check not in skips} == set()
    assert set(skips) <= {check for check, _ in failed}, "checkov-skips.yaml explains a check that no longer fails"
