"""The Kubernetes manifests: every overlay renders and validates offline against the
Kubernetes schemas and KEDA's CRDs, and the production overlay keeps the platform's
rules (probes, limits, non-root, read-only root, PDBs, network policies, no secrets
in the repository, pinned images, autoscaling), matching what the code really uses."""

from __future__ import annotations

import copy
import importlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.k8s.conftest import OVERLAYS, SERVICES, Objects

KUBERNETES_VERSION = "1.33.0"
HTTP_SCALED = {"gateway", "matters"}  # CPU autoscaling; the rest scale on lag
# Settings whose values are credentials or keys: only ever from a Secret.
SECRET_SETTINGS = re.compile(r"(DATABASE_URL|REDIS_URL|PASSWORD|PRIVATE_KEY|PII_KEY|CHAIN_KEY)$")


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not selector:
        return True
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        present = expr["key"] in labels
        if expr["operator"] == "In" and labels.get(expr["key"]) not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and labels.get(expr["key"]) in expr["values"]:
            return False
        if expr["operator"] == "Exists" and not present:
            return False
    return True


# ---- schemas -----------------------------------------------------------------------


def crd_json_schema(crd_file: Path) -> tuple[str, str, dict[str, Any]]:
    """(apiVersion, kind, JSON Schema) of a CRD's served version, strict as the API
    server's field validation: unknown fields fail unless the schema preserves them."""
    crd = yaml.safe_load(crd_file.read_text())
    [version] = [v for v in crd["spec"]["versions"] if v.get("served")]
    schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])

    def strict(node: Any) -> None:
        if isinstance(node, dict):
            if node.pop("x-kubernetes-int-or-string", False):
                node.pop("type", None)
                node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
            if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
                node.setdefault("additionalProperties", False)
            for value in node.values():
                strict(value)
        elif isinstance(node, list):
            for value in node:
                strict(value)

    strict(schema)
    api_version = f"{crd['spec']['group']}/{version['name']}"
    return api_version, crd["spec"]["names"]["kind"], schema


@pytest.fixture(scope="session")
def crd_schemas(tools: dict[str, str]) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for path in sorted(Path(tools["KEDA_CRDS"]).glob("keda.sh_*.yaml")):
        api_version, kind, schema = crd_json_schema(path)
        out[(api_version, kind)] = schema
    assert ("keda.sh/v1alpha1", "ScaledObject") in out
    return out


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_offline(overlay: str, render: Any, crd_schemas: Any) -> None:
    docs = render(overlay)
    assert len(docs) > 40
    for doc in docs:
        where = f"{overlay}: {doc['kind']} {doc['metadata']['name']}"
        schema = crd_schemas.get((doc["apiVersion"], doc["kind"]))
        if schema is not None:
            errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
            assert not errors, f"{where}: {errors}"
        else:
            try:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                raise AssertionError(f"{where}: {exc.message} at {list(exc.path)}") from exc


def test_crd_schema_rejects_an_unknown_field(crd_schemas: Any) -> None:
    """The KEDA check is strict: a misspelt field fails (as the API server would say)."""
    schema = crd_schemas[("keda.sh/v1alpha1", "ScaledObject")]
    good = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {"scaleTargetRef": {"name": "x"}, "triggers": [{"type": "cpu", "metadata": {}}]},
    }
    jsonschema.validate(good, schema)
    bad = copy.deepcopy(good)
    bad["spec"]["maxReplicas"] = 3  # ScaledObject calls it maxReplicaCount
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


# ---- the rules of the production overlay ---------------------------------------------


def test_one_deployment_per_service(production: Objects) -> None:
    assert set(production.of("Deployment")) == set(SERVICES)


@pytest.mark.parametrize("name", SERVICES)
def test_pods_are_locked_down_probed_and_bounded(name: str, production: Objects) -> None:
    deployment = production.one("Deployment", name)
    spec = pod_spec(deployment)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == name
    assert name in production.of("ServiceAccount")
    assert spec["terminationGracePeriodSeconds"] >= 45
    for container in spec["containers"] + spec.get("initContainers", []):
        ctx = container["securityContext"]
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"]["drop"] == ["ALL"]
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) <= set(resources["limits"])
        image = container["image"]
        assert ":" in image.rsplit("/", 1)[-1], f"{image} has no tag"
        assert not image.endswith(":latest")
    [server] = spec["containers"]
    assert server["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "startupProbe" in server
    assert server["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    assert spec["topologySpreadConstraints"]
    anti = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    labels = spec_labels(deployment)
    assert any(matches(t["podAffinityTerm"]["labelSelector"], labels) for t in anti)


def spec_labels(deployment: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


@pytest.mark.parametrize("name", SERVICES)
def test_at_least_two_replicas_and_a_disruption_budget(name: str, production: Objects) -> None:
    deployment = production.one("Deployment", name)
    assert deployment["spec"].get("replicas", 2) >= 2
    labels = spec_labels(deployment)
    budgets = [p for p in production.of("PodDisruptionBudget").values()]
    [pdb] = [p for p in budgets if matches(p["spec"]["selector"], labels)]
    assert pdb["spec"].get("minAvailable", 0) >= 1
    hpas = [
        h
        for h in production.of("HorizontalPodAutoscaler").values()
        if h["spec"]["scaleTargetRef"]["name"] == name
    ]
    scaled = [
        s
        for s in production.of("ScaledObject").values()
        if s["spec"]["scaleTargetRef"]["name"] == name
    ]
    # Exactly one autoscaler: KEDA makes its own HPA, two would fight.
    assert len(hpas) + len(scaled) == 1
    if name in HTTP_SCALED:
        [hpa] = hpas
        assert hpa["spec"]["minReplicas"] >= 2
        [metric] = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
    else:
        [so] = scaled
        assert so["spec"]["minReplicaCount"] >= 2


def consumer_spec(name: str) -> Any:
    module = importlib.import_module(f"{SERVICES[name]}.main")
    return module.spec(None)


@pytest.mark.parametrize("name", sorted(set(SERVICES) - HTTP_SCALED))
def test_consumers_scale_on_their_groups_lag_up_to_the_partitions(
    name: str, production: Objects
) -> None:
    platform = production.configmap("yiwang-platform")
    spec = consumer_spec(name)
    group = platform.get("YIWANG_KAFKA_NAMESPACE", "") + spec.name
    topics = {model.topic for model in spec.handlers}
    so = production.one("ScaledObject", name)
    kafka = [t for t in so["spec"]["triggers"] if t["type"] == "kafka"]
    assert {t["metadata"]["topic"] for t in kafka} == topics
    partitions = json.loads(platform.get("YIWANG_TOPIC_PARTITIONS_BY_TOPIC", "{}"))
    ceiling = max(partitions.get(t, int(platform["YIWANG_TOPIC_PARTITIONS"])) for t in topics)
    assert 2 <= so["spec"]["maxReplicaCount"] <= ceiling
    auth = production.of("TriggerAuthentication")
    for trigger in kafka:
        meta = trigger["metadata"]
        assert meta["consumerGroup"] == group
        assert meta["bootstrapServers"] == platform["YIWANG_KAFKA_BOOTSTRAP"]
        assert meta["allowIdleConsumers"] == "false"
        assert meta["sasl"] == platform["YIWANG_KAFKA_SASL_MECHANISM"].lower().replace(
            "scram-sha-", "scram_sha"
        )
        assert meta["tls"] == "enable"
        assert trigger["authenticationRef"]["name"] in auth


def container_env(deployment: dict[str, Any], objects: Objects) -> dict[str, Any]:
    """Every variable the service container gets: ConfigMap keys and its own env."""
    [container] = pod_spec(deployment)["containers"]
    env: dict[str, Any] = {}
    configmaps = {n: d.get("data", {}) for n, d in objects.of("ConfigMap").items()}
    for source in container.get("envFrom", []):
        assert "secretRef" not in source, "whole Secrets as env hide which keys are used"
        env.update(configmaps[source["configMapRef"]["name"]])
    for item in container["env"]:
        env[item["name"]] = item.get("value", item.get("valueFrom"))
    return env


@pytest.mark.parametrize("name", SERVICES)
def test_every_variable_is_a_real_setting_and_secrets_come_from_secrets(
    name: str, production: Objects
) -> None:
    settings_cls = importlib.import_module(f"{SERVICES[name]}.settings").Settings
    fields = {f"YIWANG_{f.upper()}" for f in settings_cls.model_fields}
    env = container_env(production.one("Deployment", name), production)
    assert set(env) <= fields, f"not settings of {name}: {sorted(set(env) - fields)}"
    for needed in [
        "YIWANG_DATABASE_URL",
        "YIWANG_BUS",
        "YIWANG_KAFKA_BOOTSTRAP",
        "YIWANG_KAFKA_SECURITY_PROTOCOL",
        "YIWANG_KAFKA_SASL_USERNAME",
        "YIWANG_KAFKA_SASL_PASSWORD",
        "YIWANG_INTERNAL_TOKEN_PUBLIC_KEYS",
    ]:
        assert needed in env, f"{name} lacks {needed}"
    for key, value in env.items():
        if SECRET_SETTINGS.search(key):
            assert isinstance(value, dict) and "secretKeyRef" in value, f"{name}: {key}"
    assert env["YIWANG_BUS"] == "kafka"


def test_service_specific_settings(production: Objects) -> None:
    gateway = container_env(production.one("Deployment", "gateway"), production)
    for key in ["YIWANG_INTERNAL_TOKEN_PRIVATE_KEY", "YIWANG_REDIS_URL", "YIWANG_PII_KEY"]:
        assert "secretKeyRef" in gateway[key]
    services = {s.metadata["name"] for s in []} | set(production.of("Service"))
    for upstream in ["MATTERS", "INTAKE", "LICENSE", "DATA_EXCHANGE", "SUPERVISION"]:
        url = gateway[f"YIWANG_UPSTREAM_{upstream}"]
        host, port = re.fullmatch(r"http://([a-z-]+):(\d+)", url).groups()  # type: ignore[union-attr]
        assert host in services and port == "8000"
    license_env = container_env(production.one("Deployment", "license"), production)
    assert "secretKeyRef" in license_env["YIWANG_SEAL_PRIVATE_KEY"]


def test_no_secret_values_in_the_repository(production: Objects, render: Any) -> None:
    for overlay in OVERLAYS:
        assert not [d for d in render(overlay) if d["kind"] == "Secret"]
    for name, cm in production.of("ConfigMap").items():
        for key in cm.get("data", {}):
            assert not SECRET_SETTINGS.search(key), f"{key} in ConfigMap {name}"
    # Nothing that looks like key material anywhere in deploy/k8s.
    root = Path(__file__).resolve().parents[2] / "deploy/k8s"
    for path in root.rglob("*.yaml"):
        text = path.read_text()
        assert "BEGIN PRIVATE KEY" not in text and "postgresql://" not in text, path
        assert "postgresql+asyncpg://" not in text and "redis://" not in text, path


def test_database_migrations_run_as_a_job_before_the_new_version_serves(
    production: Objects,
) -> None:
    jobs = production.of("Job")
    for name, module in SERVICES.items():
        deployment = production.one("Deployment", name)
        job = jobs[f"{name}-migrate"]
        [migrate] = pod_spec(job)["containers"]
        [server] = pod_spec(deployment)["containers"]
        assert migrate["command"] == ["python", "-m", f"{module}.migrate"]
        assert migrate["image"] == server["image"]
        [wait] = pod_spec(deployment)["initContainers"]
        assert wait["command"][:4] == ["python", "-m", f"{module}.migrate", "--wait"]
        assert wait["image"] == server["image"]
        assert pod_spec(job)["restartPolicy"] == "Never"


def policies_for(objects: Objects, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        p for p in objects.of("NetworkPolicy").values() if matches(p["spec"]["podSelector"], labels)
    ]


def allowed_peers(policies: list[dict[str, Any]], direction: str) -> set[str]:
    """Names of the platform's pods a set of policies lets in (ingress) or out (egress)."""
    key = "from" if direction == "ingress" else "to"
    names = set()
    for policy in policies:
        for rule in policy["spec"].get(direction, []):
            for peer in rule.get(key, []):
                name = (
                    peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                )
                if name in SERVICES:
                    names.add(name)
    return names


def test_network_policies_admit_outside_traffic_only_to_the_gateway(production: Objects) -> None:
    policies = production.of("NetworkPolicy")
    deny = [
        p
        for p in policies.values()
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, "no default-deny policy"
    for name in SERVICES:
        labels = spec_labels(production.one("Deployment", name))
        mine = [p for p in policies_for(production, labels) if p["spec"]["podSelector"] != {}]
        assert any(p["metadata"]["name"] == name for p in mine), f"no NetworkPolicy for {name}"
        outside = [
            peer
            for p in mine
            for rule in p["spec"].get("ingress", [])
            for peer in rule.get("from", [])
            if "namespaceSelector" in peer or "ipBlock" in peer
        ]
        open_rules = [r for p in mine for r in p["spec"].get("ingress", []) if "from" not in r]
        assert not open_rules, f"{name} admits everyone"
        if name == "gateway":
            assert outside
        else:
            assert not outside, f"{name} admits traffic from outside the platform"
    ingress = production.one("Ingress", "gateway")
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"gateway"}
    assert {p for i in production.of("Ingress").values() for p in [i["metadata"]["name"]]} == {
        "gateway"
    }


# Who calls whom over HTTP: the gateway routes to every service; intake calls the peers it
# pre-fills from on the caller's behalf (gateway setting delegated_audiences).
CALLS = {
    "gateway": {"matters", "intake", "license", "data-exchange", "supervision"},
    "intake": {"matters", "data-exchange", "license"},
}


def test_services_reach_only_the_peers_and_servers_they_use(production: Objects) -> None:
    for name in SERVICES:
        labels = spec_labels(production.one("Deployment", name))
        mine = policies_for(production, labels)
        assert allowed_peers(mine, "egress") == CALLS.get(name, set()), name
        callers = {c for c, callees in CALLS.items() if name in callees}
        assert allowed_peers(mine, "ingress") == callers, name
        # Datastores: PostgreSQL and Kafka for everyone, Redis only for the gateway.
        ports = {
            port["port"]
            for p in mine
            for rule in p["spec"].get("egress", [])
            if any("ipBlock" in peer for peer in rule.get("to", []))
            for port in rule.get("ports", [])
        }
        expected = {5432, 9093} | ({6380} if name == "gateway" else set())
        assert ports == expected, name
        open_egress = [r for p in mine for r in p["spec"].get("egress", []) if "to" not in r]
        assert not open_egress, f"{name} may reach anything"
