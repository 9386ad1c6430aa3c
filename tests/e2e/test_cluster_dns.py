"""The cluster DNS of a cluster on simulated nodes: no pod can ask it, but the host can, on 127.0.0.1
(`--dns-port`), and the records are those a real cluster serves for the same objects."""
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import Cluster, free_port

pytestmark = pytest.mark.skipif(shutil.which("dig") is None, reason="dig (dnsutils) is not installed")


@pytest.fixture(scope="module")
def dns_cluster():
    with tempfile.TemporaryDirectory(prefix="cubby-e2e-dns-") as d:
        port = free_port()
        c = Cluster(Path(d) / "data", extra=("--dns-port", str(port))).start()
        c.dns_port = port
        yield c
        c.stop()


def dig(c, *args):
    return subprocess.run(["dig", "@127.0.0.1", "-p", str(c.dns_port), "+time=2", "+tries=1", "+short", *args],
                          capture_output=True, text=True, timeout=30).stdout.split()


def test_simulated_pods_have_their_records(dns_cluster):
    c = dns_cluster
    c.kubectl("create", "deployment", "web", "--image=nginx", "--replicas=2")
    c.kubectl("expose", "deployment", "web", "--port=80", "--name=web")
    c.kubectl("create", "service", "clusterip", "peers", "--clusterip=None", "--tcp=80:80")
    c.kubectl("patch", "service", "peers", "-p", json.dumps({"spec": {"selector": {"app": "web"}}}))
    c.kubectl("wait", "--for=condition=Available", "deployment/web", "--timeout=60s")
    ip = c.kubectl("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}").stdout
    pod_ips = sorted(c.kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}").stdout.split())
    assert dig(c, "web.default.svc.cluster.local") == [ip]
    assert sorted(dig(c, "peers.default.svc.cluster.local")) == pod_ips
    assert dig(c, "kubernetes.default.svc.cluster.local") == ["10.96.0.1"]
    assert dig(c, "kube-dns.kube-system.svc.cluster.local") == ["10.96.0.10"]
    assert dig(c, "-x", ip) == ["web.default.svc.cluster.local."]
    svc = json.loads(c.kubectl("get", "service", "kube-dns", "-n", "kube-system", "-o", "json").stdout)
    assert svc["spec"]["clusterIP"] == "10.96.0.10" and svc["metadata"]["labels"]["k8s-app"] == "kube-dns"


def test_load_balancers_get_an_ingress_address(dns_cluster):
    c = dns_cluster
    c.kubectl("create", "service", "loadbalancer", "lb", "--tcp=80:8080")
    c.kubectl("wait", "--for=jsonpath={.status.loadBalancer.ingress[0].ip}", "service/lb", "--timeout=30s")
    svc = json.loads(c.kubectl("get", "service", "lb", "-o", "json").stdout)
    assert svc["status"]["loadBalancer"]["ingress"] == [{"ip": svc["spec"]["clusterIP"], "ipMode": "VIP"}]
    c.kubectl("patch", "service", "lb", "-p", json.dumps({"spec": {"type": "ClusterIP"}}))
    deadline = time.monotonic() + 30
    while json.loads(c.kubectl("get", "service", "lb", "-o", "json").stdout)["status"]["loadBalancer"]:
        assert time.monotonic() < deadline, "the ingress outlived the LoadBalancer type"
        time.sleep(0.1)


def test_stateful_set_pods_are_named_under_their_headless_service(dns_cluster):
    c = dns_cluster
    c.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
         "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"name": "pg", "port": 5432}]}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
         "spec": {"serviceName": "db", "replicas": 2, "selector": {"matchLabels": {"app": "db"}},
                  "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres"}]}}}}]}))
    c.kubectl("rollout", "status", "statefulset/db", "--timeout=60s")
    for i in range(2):
        ip = c.kubectl("get", "pod", f"db-{i}", "-o", "jsonpath={.status.podIP}").stdout
        assert dig(c, f"db-{i}.db.default.svc.cluster.local") == [ip]
    srv = dig(c, "SRV", "_pg._tcp.db.default.svc.cluster.local")
    assert sorted(srv[3::4]) == ["db-0.db.default.svc.cluster.local.", "db-1.db.default.svc.cluster.local."]
