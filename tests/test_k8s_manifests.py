"""deploy/k8s runs every service the code has, and Kubernetes would accept every object in it.

The manifests are generated (``make deploy-files``) from ``shared/k8s_manifests.py``; these tests
keep the committed files equal to the generated ones, validate each object against the
Kubernetes API schemas (kubernetes-validate, offline, strict: an unknown field is an error),
and check what the schemas cannot: probes, resources, and secrets only by reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from shared import config, k8s_manifests

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"

# The oldest Kubernetes the manifests claim (autoscaling/v2 and policy/v1 are GA in it) and the
# newest the validator knows.
VERSIONS = ("1.27.0", kubernetes_validate.utils.latest_version())

PROCESS_VARIABLES = {"PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS"}


def secret_variables() -> set[str]:
    names = set()
    for v in config.VARIABLES:
        if v.secret and v.name.startswith("<SERVICE>_"):
            names |= {s.upper() + v.name.removeprefix("<SERVICE>") for s in config.SERVICES}
        elif v.secret:
            names.add(v.name)
    return names | {"BROKER_URL"} | {f"{s.upper()}_DATABASE_URL" for s in config.SERVICES}


def load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def committed_files() -> list[str]:
    return sorted(str(p.relative_to(K8S)) for p in K8S.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    """Every Kubernetes object the deployment applies (the example Secret is not applied)."""
    found = []
    for name in committed_files():
        if name.endswith("kustomization.yaml") or name == "secret.example.yaml":
            continue
        found += load(K8S / name)
    return found


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def containers(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each workload's one container, by workload name."""
    found = {}
    for o in objects:
        if o["kind"] in ("Deployment", "Job"):
            (only,) = o["spec"]["template"]["spec"]["containers"]
            found[o["metadata"]["name"]] = only
    return found


def secret_refs(container: dict[str, Any]) -> set[str]:
    return {
        e["valueFrom"]["secretKeyRef"]["key"]
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


# --- generated, and valid ----------------------------------------------------------------------


def test_the_committed_manifests_are_what_the_code_generates():
    generated = k8s_manifests.render_all()
    assert committed_files() == sorted(generated), "run `make deploy-files`"
    for name, text in generated.items():
        assert (K8S / name).read_text() == text, f"deploy/k8s/{name} is out of date"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_valid_for_kubernetes(version):
    checked = 0
    for name in committed_files():
        if name.endswith("kustomization.yaml"):
            continue
        for doc in load(K8S / name):
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{name} {doc['kind']}/{doc['metadata']['name']}: {exc.message}")
            checked += 1
    assert checked >= 4 * len(config.SERVICES)


def test_an_invalid_object_is_refused_by_the_validator():
    """The validation above can fail: a misspelt field is an error in strict mode."""
    deployment = k8s_manifests.web_deployment("identity")
    kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)


def test_the_kustomizations_list_the_files_they_apply():
    apps = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(apps["resources"]) == sorted(
        ["config.yaml", *(f"{s}.yaml" for s in config.SERVICES)]
    )
    assert "secret.example.yaml" not in apps["resources"]
    migrate = yaml.safe_load((K8S / "migrate" / "kustomization.yaml").read_text())
    assert migrate["resources"] == ["job.yaml"]
    assert apps["images"] == migrate["images"]
    for resource in apps["resources"]:
        assert (K8S / resource).exists()


# --- every service runs ------------------------------------------------------------------------


@pytest.mark.parametrize("service", config.SERVICES)
def test_every_service_has_a_web_deployment_service_and_autoscaler(objects, service):
    name = f"{service}-web"
    deployment = by_kind(objects, "Deployment")[name]
    web = containers(objects)[name]
    assert web["command"] == [
        "gunicorn",
        "-c",
        "deploy/gunicorn.conf.py",
        f"services.{service}.app:app",
    ]
    (port,) = web["ports"]
    assert {"name": "PORT", "value": str(port["containerPort"])} in web["env"]
    assert web["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert web["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}

    svc = by_kind(objects, "Service")[name]
    assert svc["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert svc["spec"]["ports"][0]["targetPort"] == port["name"]

    hpa = by_kind(objects, "HorizontalPodAutoscaler")[name]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"


@pytest.mark.parametrize("service", config.SERVICES)
def test_every_service_with_a_worker_has_a_worker_deployment(objects, service):
    has_worker = (ROOT / "services" / service / "worker.py").exists()
    worker = containers(objects).get(f"{service}-worker")
    if not has_worker:
        assert worker is None
        return
    assert worker["command"] == ["python", "-m", f"services.{service}.worker"]
    assert by_kind(objects, "Deployment")[f"{service}-worker"]["spec"]["replicas"] >= 2


def test_every_pod_is_annotated_for_scraping_on_the_port_that_serves_its_metrics(objects):
    for name, deployment in by_kind(objects, "Deployment").items():
        template = deployment["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", name
        [container] = template["spec"]["containers"]
        ports = {p["containerPort"] for p in container["ports"]}
        assert int(annotations["prometheus.io/port"]) in ports, name
        if name.endswith("-worker"):
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert int(env["METRICS_PORT"]) == int(annotations["prometheus.io/port"]), name
            assert env["METRICS_HOST"] == "0.0.0.0", name
            assert container["livenessProbe"]["httpGet"]["port"] == "metrics", name


def test_the_migration_job_migrates_every_database(objects):
    job = by_kind(objects, "Job")["preceptor-migrate"]
    migrate = containers(objects)["preceptor-migrate"]
    assert migrate["command"] == ["python", "-m", "shared.cli", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    with_data = {s for s in config.SERVICES if (ROOT / "services" / s / "migrations").exists()}
    assert {k for k in secret_refs(migrate) if k.endswith("_DATABASE_URL")} == {
        f"{s.upper()}_DATABASE_URL" for s in with_data
    }
    assert "ADMIN_PASSWORD" in secret_refs(migrate)


def test_every_container_requests_and_limits_cpu_and_memory(objects):
    for name, c in containers(objects).items():
        for bound in ("requests", "limits"):
            assert set(c["resources"][bound]) == {"cpu", "memory"}, f"{name} {bound}"


def test_every_pod_runs_as_the_images_unprivileged_user(objects):
    for o in objects:
        if o["kind"] in ("Deployment", "Job"):
            pod = o["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True
            (c,) = pod["containers"]
            assert c["securityContext"]["allowPrivilegeEscalation"] is False


# --- settings and secrets --------------------------------------------------------------------


def test_secrets_reach_containers_only_by_reference(objects):
    secrets = secret_variables()
    config_map = by_kind(objects, "ConfigMap")[k8s_manifests.CONFIG_MAP]
    assert not set(config_map["data"]) & secrets
    assert not by_kind(objects, "Secret"), "no Secret object is applied from the repository"
    for name, c in containers(objects).items():
        for e in c["env"]:
            if e["name"] in secrets:
                assert e["valueFrom"]["secretKeyRef"]["name"] == k8s_manifests.SECRET, name
                assert e["valueFrom"]["secretKeyRef"]["key"] == e["name"]
                assert "value" not in e
        assert c["envFrom"] == [{"configMapRef": {"name": k8s_manifests.CONFIG_MAP}}]


def test_the_example_secret_holds_placeholders_for_every_key_referenced(objects):
    (example,) = load(K8S / "secret.example.yaml")
    assert example["metadata"]["name"] == k8s_manifests.SECRET
    assert all("REPLACE_ME" in v for v in example["stringData"].values())
    referenced = set().union(*(secret_refs(c) for c in containers(objects).values()))
    assert referenced <= set(example["stringData"])


def test_containers_set_only_variables_the_suite_reads(objects):
    suite = config.variable_names() | PROCESS_VARIABLES
    config_map = by_kind(objects, "ConfigMap")[k8s_manifests.CONFIG_MAP]
    assert set(config_map["data"]) <= suite
    for name, c in containers(objects).items():
        assert {e["name"] for e in c["env"]} <= suite, name


def test_each_service_gets_only_its_own_database_and_only_payments_the_stripe_keys(objects):
    for name, c in containers(objects).items():
        if name == "preceptor-migrate":
            continue
        service = name.rsplit("-", 1)[0]
        refs = secret_refs(c)
        assert {k for k in refs if k.endswith("_DATABASE_URL")} <= {
            f"{service.upper()}_DATABASE_URL"
        }, name
        stripe = {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}
        assert refs & stripe == (stripe if service == "payments" else set()), name


def test_every_secret_the_code_would_otherwise_generate_is_given_to_some_container(objects):
    """A secret missing from the environment is generated into the pod's own VAR_DIR: each
    replica would then sign with a different one, so production must set every one."""
    generated = {
        v.name for v in config.VARIABLES if v.secret and v.default.startswith("(generated")
    }
    referenced = set().union(*(secret_refs(c) for c in containers(objects).values()))
    assert generated <= referenced


def test_service_urls_name_services_that_exist(objects):
    services = by_kind(objects, "Service")
    data = by_kind(objects, "ConfigMap")[k8s_manifests.CONFIG_MAP]["data"]
    for service in config.SERVICES:
        url = urlsplit(data[f"{service.upper()}_URL"])
        assert url.hostname in services
        assert url.port == services[url.hostname]["spec"]["ports"][0]["port"]


def test_the_bus_settings_are_left_at_the_defaults_the_rabbitmq_definitions_declare(objects):
    data = by_kind(objects, "ConfigMap")[k8s_manifests.CONFIG_MAP]["data"]
    assert not {k for k in data if k.startswith("BUS_")}
    for c in containers(objects).values():
        assert not {e["name"] for e in c["env"] if e["name"].startswith("BUS_")}
