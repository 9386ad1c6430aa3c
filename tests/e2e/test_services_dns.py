"""Services and cluster DNS on real pods, driven as a newcomer would with kubectl, busybox's wget and
nslookup inside pods, and dig and urllib on the host: cluster IPs balance over ready pods, node ports
and load balancers answer from the host, a service without endpoints refuses at once, names resolve
as the Kubernetes DNS specification says, and the proxy's rules go with the cluster.

Names outside the cluster are forwarded to a resolver of the test's own on loopback (the profile's
--resolv-conf), so no lookup leaves the machine; every address reached is on the cluster's bridge."""
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from realpods import BUSYBOX, eventually, fetch, make_profile, run_to_completion
from conftest import namespace_for

pytestmark = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="real pods need Linux and root")

# A web server that answers with its pod's name, ready while /signals/unready-NAME is absent.
WEB = ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]


class FakeUpstream:
    """The host's resolver, as far as the cluster DNS knows: answers A for NAME.example.test with
    192.0.2.7, NXDOMAIN for anything else, and counts what it was asked."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 53))
        self.asked = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            qid, _, qd = struct.unpack(">HHH", data[:6])
            labels, i = [], 12
            while data[i]:
                labels.append(data[i + 1:i + 1 + data[i]].decode())
                i += 1 + data[i]
            question = data[12:i + 5]
            qtype = struct.unpack(">H", data[i + 1:i + 3])[0]
            name = ".".join(labels).lower()
            self.asked.append(name)
            if name.endswith("example.test") and qtype == 1:
                answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.7")
                reply = struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + answer
            else:
                rcode = 0 if name.endswith("example.test") else 3
                reply = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, 0, 0, 0) + question
            self.sock.sendto(reply, peer)

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory, images):
    home = tmp_path_factory.mktemp("home")
    upstream = FakeUpstream("127.0.0.53" if not port_taken("127.0.0.53") else "127.0.0.54")
    resolv = home / "resolv.conf"
    resolv.write_text(f"nameserver {upstream.sock.getsockname()[0]}\n")
    p = None
    try:
        p = make_profile(home, images, "svc", resolv_conf=resolv)
        p.upstream = upstream
        yield p
    finally:
        if p is not None:
            p.cubby("delete", check=False)
        upstream.close()


def port_taken(address):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((address, 53))
            return False
        except OSError:
            return True


@pytest.fixture
def ns(node, request):
    yield from namespace_for(node, request)


@pytest.fixture
def other(node, request):
    """A second namespace of the test's own."""
    yield from namespace_for(node, request, prefix="o")


def apply(node, *objects):
    node.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def deployment(name, ns, replicas=1, labels=None, probe=None, volumes=None):
    labels = labels or {"app": name}
    container = {"name": "web", "image": BUSYBOX, "command": WEB, "ports": [{"name": "http", "containerPort": 8080}]}
    if probe:
        container["readinessProbe"] = probe
    spec = {"terminationGracePeriodSeconds": 1, "containers": [container]}
    if volumes:
        spec["volumes"], container["volumeMounts"] = volumes
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def service(name, ns, selector=None, **spec):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": selector or {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}], **spec}}


def ready_pods(node, ns, selector):
    pods = node.get("pods", "-n", ns, "-l", selector)["items"]
    return [p for p in pods if p["metadata"].get("deletionTimestamp") is None
            and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))]


def cluster_ip(node, ns, name):
    return node.get("service", name, "-n", ns)["spec"]["clusterIP"]


def dns_ip(node):
    """The kube-dns Service's address: 10.96.0.10 for the machine's first cluster."""
    return cluster_ip(node, "kube-system", "kube-dns")


def dig(node, *args):
    r = subprocess.run(["dig", f"@{dns_ip(node)}", "+time=2", "+tries=1", *args], capture_output=True, text=True, timeout=30)
    return r.stdout


def answers(out):
    """The answer section of dig's output, as (name, type, data) rows."""
    rows, inside = [], False
    for line in out.splitlines():
        if line.startswith(";; ANSWER SECTION"):
            inside = True
        elif inside and not line.strip():
            break
        elif inside:
            parts = line.split()
            rows.append((parts[0], parts[3], " ".join(parts[4:])))
    return rows


def addresses(nslookup):
    """The addresses busybox's nslookup found (not the server's own line)."""
    return sorted(m for m in re.findall(r"^Address: (\d+\.\d+\.\d+\.\d+)$", nslookup, re.M))


def test_pods_reach_services_by_name_and_cluster_ip_and_resolve_the_cluster(node, ns, other):
    apply(node, deployment("web", ns), service("web", ns), deployment("web", other), service("web", other),
          deployment("db", ns, replicas=2), service("db", ns, clusterIP="None"),
          {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "alias", "namespace": ns},
           "spec": {"type": "ExternalName", "externalName": f"web.{other}.svc.cluster.local"}})
    eventually(lambda: len(ready_pods(node, ns, "app=web")) == 1 and len(ready_pods(node, other, "app=web")) == 1
               and len(ready_pods(node, ns, "app=db")) == 2, what="ready pods")
    web, theirs = ready_pods(node, ns, "app=web")[0]["metadata"]["name"], ready_pods(node, other, "app=web")[0]["metadata"]["name"]
    db_ips = sorted(p["status"]["podIP"] for p in ready_pods(node, ns, "app=db"))
    ip = cluster_ip(node, ns, "web")

    script = "; ".join([
        "wget -qO- http://web", f"wget -qO- http://web.{other}.svc.cluster.local", f"wget -qO- http://{ip}",
        "echo ==", "ping -c 1 -W 1 kubernetes.default", "nslookup kubernetes.default.svc.cluster.local", "echo ==", "nslookup db", "echo ==",
        f"nslookup -type=SRV _http._tcp.web.{ns}.svc.cluster.local", "echo ==", "nslookup alias", "echo ==",
        f"nslookup nothing-here.{ns}.svc.cluster.local", "echo ==", "nslookup www.example.test"])
    out = run_to_completion(node, ns, "client", script)
    pages, kube, db, srv, alias, missing, external = out.split("==\n")
    assert pages.split() == [web, theirs, web], out
    # busybox's nslookup does not search for dotted names (nor does it on any cluster); its libc,
    # which ping uses, does, as the pod's resolv.conf says.
    kubernetes = cluster_ip(node, "default", "kubernetes")
    assert f"PING kubernetes.default ({kubernetes})" in kube and addresses(kube) == [kubernetes], out
    assert addresses(db) == db_ips, out
    assert f"_http._tcp.web.{ns}.svc.cluster.local\tservice = 0 100 80 web.{ns}.svc.cluster.local" in srv, out
    assert f"alias.{ns}.svc.cluster.local\tcanonical name = web.{other}.svc.cluster.local" in alias, out
    assert "NXDOMAIN" in missing, out
    assert addresses(external) == ["192.0.2.7"] and "www.example.test" in node.upstream.asked, out


def test_dig_from_the_host_over_udp_and_tcp(node, ns):
    apply(node, deployment("web", ns), service("web", ns), deployment("db", ns, replicas=2), service("db", ns, clusterIP="None"))
    eventually(lambda: len(ready_pods(node, ns, "app=db")) == 2 and ready_pods(node, ns, "app=web"), what="ready pods")
    ip = cluster_ip(node, ns, "web")
    db_ips = sorted(p["status"]["podIP"] for p in ready_pods(node, ns, "app=db"))
    name = f"web.{ns}.svc.cluster.local."
    for transport in ("+notcp", "+tcp"):
        assert answers(dig(node, transport, name)) == [(name, "A", ip)]
    assert sorted(a[2] for a in answers(dig(node, "+tcp", f"db.{ns}.svc.cluster.local"))) == db_ips
    assert answers(dig(node, "SRV", f"_http._tcp.{name}")) == [(f"_http._tcp.{name}", "SRV", f"0 100 80 {name}")]
    assert answers(dig(node, "-x", ip)) == [(".".join(reversed(ip.split("."))) + ".in-addr.arpa.", "PTR", name)]
    kubernetes = cluster_ip(node, "default", "kubernetes")
    assert answers(dig(node, "kubernetes.default.svc.cluster.local")) == [("kubernetes.default.svc.cluster.local.", "A", kubernetes)]
    assert answers(dig(node, "10-244-0-9.default.pod.cluster.local")) == [("10-244-0-9.default.pod.cluster.local.", "A", "10.244.0.9")]
    assert "status: NXDOMAIN" in dig(node, f"nope.{ns}.svc.cluster.local")
    nodata = dig(node, "AAAA", name)
    assert "status: NOERROR" in nodata and not answers(nodata) and "SOA" in nodata
    svc = node.get("service", "kube-dns", "-n", "kube-system")
    assert svc["spec"]["clusterIP"].endswith(".0.10")
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    assert "coredns_dns_requests_total" in fetch(f"http://{dns_ip(node)}:9153/metrics")


def test_traffic_spreads_over_ready_pods_leaves_unready_ones_and_sticks_with_affinity(node, ns, tmp_path):
    signals = tmp_path / "signals"
    signals.mkdir()
    # An exec probe is a runc exec; on a busy machine one can outlast the default 1 s timeout, and
    # every pod failing at once would leave the service without endpoints (refused, as upstream).
    probe = {"exec": {"command": ["sh", "-c", "test ! -e /signals/unready-$(hostname)"]}, "periodSeconds": 1, "failureThreshold": 1,
             "timeoutSeconds": 10}
    volumes = ([{"name": "signals", "hostPath": {"path": str(signals)}}], [{"name": "signals", "mountPath": "/signals"}])
    apply(node, deployment("web", ns, probe=probe, volumes=volumes), service("web", ns),
          service("sticky", ns, selector={"app": "web"}, sessionAffinity="ClientIP"))
    eventually(lambda: len(ready_pods(node, ns, "app=web")) == 1, what="one ready pod")
    ip, sticky = cluster_ip(node, ns, "web"), cluster_ip(node, ns, "sticky")
    assert len({fetch(f"http://{ip}/") for _ in range(5)}) == 1

    node.kubectl("scale", "deployment/web", "-n", ns, "--replicas=3")
    three = eventually(lambda: r if len(r := ready_pods(node, ns, "app=web")) == 3 else None, what="three ready pods")
    names = {p["metadata"]["name"] for p in three}
    seen = eventually(lambda: (s := {fetch(f"http://{ip}/").strip() for _ in range(60)}) == names and s, timeout=10,
                      what="answers from all three pods")
    assert seen == names
    assert len({fetch(f"http://{sticky}/") for _ in range(30)}) == 1

    leaving = sorted(names)[0]
    (signals / f"unready-{leaving}").write_text("")
    marked = time.monotonic()
    last = marked
    while time.monotonic() - marked < 6:
        if fetch(f"http://{ip}/").strip() == leaving:
            last = time.monotonic()
        time.sleep(0.02)
    # The probe runs every second; the endpoint leaves the proxy's rules within 2 s of failing it.
    assert last - marked < 3, f"{leaving} still answered {last - marked:.1f}s after turning unready"
    assert {fetch(f"http://{ip}/").strip() for _ in range(30)} == names - {leaving}


def test_node_ports_load_balancers_and_cubby_service(node, ns):
    apply(node, deployment("web", ns), service("web", ns, type="NodePort"), service("lb", ns, selector={"app": "web"}, type="LoadBalancer"),
          service("local", ns, selector={"app": "web"}, type="NodePort", externalTrafficPolicy="Local", internalTrafficPolicy="Local"))
    eventually(lambda: ready_pods(node, ns, "app=web"), what="a ready pod")
    pod = ready_pods(node, ns, "app=web")[0]["metadata"]["name"] + "\n"
    node_port = node.get("service", "web", "-n", ns)["spec"]["ports"][0]["nodePort"]
    node_ip = node.cubby("ip").stdout.strip()
    assert node_ip == [a["address"] for a in node.get("node", node.name)["status"]["addresses"] if a["type"] == "InternalIP"][0]
    for host in (node_ip, "127.0.0.1"):
        assert fetch(f"http://{host}:{node_port}/") == pod
    urls = node.cubby("service", "web", "-n", ns, "--url").stdout.split()
    assert urls == [f"http://{node_ip}:{node_port}"] and fetch(urls[0]) == pod
    table = node.cubby("service", "web", "-n", ns).stdout
    assert re.search(r"^\|\s+NAMESPACE\s+\|\s+NAME\s+\|\s+TARGET PORT\s+\|\s+URL\s+\|$", table, re.M), table
    assert re.search(rf"^\| {ns} +\| web +\| http +\| {re.escape(urls[0])} +\|$", table, re.M), table
    # Local traffic policies keep to this node's endpoints, which is where the one pod runs.
    local = node.get("service", "local", "-n", ns)
    assert fetch(f"http://{node_ip}:{local['spec']['ports'][0]['nodePort']}/") == pod
    assert fetch(f"http://{local['spec']['clusterIP']}/") == pod
    refused = node.cubby("service", "nothing", "-n", ns, check=False)
    assert refused.returncode != 0 and f"Service 'nothing' was not found in '{ns}' namespace." in refused.stderr
    assert node.cubby("service", "kubernetes", check=False).returncode != 0

    ingress = eventually(lambda: node.get("service", "lb", "-n", ns)["status"]["loadBalancer"]["ingress"][0]["ip"], what="an ingress address")
    assert fetch(f"http://{ingress}/") == pod
    row = node.kubectl("get", "service", "lb", "-n", ns).stdout.splitlines()[1].split()
    assert row[1] == "LoadBalancer" and row[3] == ingress


def test_a_pod_reaches_itself_through_its_own_service(node, ns):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "self", "namespace": ns, "labels": {"app": "self"}},
           "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1, "containers": [{
               "name": "main", "image": BUSYBOX, "ports": [{"name": "http", "containerPort": 8080}],
               "command": ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && httpd -p 8080 -h /www && "
                                       "until wget -qO- http://myself > /dev/termination-log; do usleep 100000; done"]}]}}
    # (Not a service named "self": the pod's /etc/hosts names its own hostname.)
    apply(node, service("myself", ns, selector={"app": "self"}), pod)
    node.wait("--for=jsonpath={.status.phase}=Succeeded", "pod/self", "-n", ns)
    assert node.get("pod", "self", "-n", ns)["status"]["containerStatuses"][0]["state"]["terminated"]["message"] == "self\n"


def test_a_service_without_endpoints_refuses_at_once(node, ns):
    apply(node, service("empty", ns, selector={"app": "nobody"}))
    ip = cluster_ip(node, ns, "empty")

    def refused():
        started = time.monotonic()
        try:
            socket.create_connection((ip, 80), timeout=5).close()
        except ConnectionRefusedError:
            return time.monotonic() - started
        except OSError:
            return None
        return None
    elapsed = eventually(refused, timeout=10, what="a refused connection")
    assert elapsed < 0.5
    out = run_to_completion(node, ns, "client", "time wget -qO- http://empty; echo rc=$?")
    assert "Connection refused" in out and "rc=1" in out


def reachable(url):
    try:
        return fetch(url)
    except OSError:
        return None


def leftover_rules(name):
    """The cluster's nftables table, and any iptables rule naming it (CNI's masquerade)."""
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout.splitlines()
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout.splitlines()
    return [t for t in tables if t.endswith(name)] + [r for r in rules if name in r]


def test_rules_are_repaired_and_gone_after_stop_and_delete(node, ns, tmp_path, images):
    apply(node, deployment("web", ns), service("web", ns))
    eventually(lambda: ready_pods(node, ns, "app=web"), what="a ready pod")
    ip = cluster_ip(node, ns, "web")
    table = f"cubby-{node.name}"
    # Someone flushes the cluster's table: a full resync puts the rules back.
    subprocess.run(["nft", "flush", "table", "ip", table], check=True)
    eventually(lambda: reachable(f"http://{ip}/"), timeout=45, what="the service answering again after a flush")
    # Or deletes it: the next change finds it missing and writes it whole.
    subprocess.run(["nft", "delete", "table", "ip", table], check=True)
    apply(node, service("other", ns, selector={"app": "web"}))
    eventually(lambda: reachable(f"http://{ip}/"), timeout=10, what="the service answering again after the table went")

    # A profile of the test's own, beside a host table that must outlive it.
    subprocess.run(["nft", "-f", "-"], check=True, text=True,
                   input="table ip host-own {\n chain c {\n  type filter hook input priority 0; policy accept;\n  tcp dport 9 counter\n }\n}\n")
    try:
        p = make_profile(tmp_path / "home", images, "rules")
        try:
            assert leftover_rules(f"cubby-{p.name}")
            p.cubby("stop")
            assert not leftover_rules(f"cubby-{p.name}")
            p.cubby("start")
            assert leftover_rules(f"cubby-{p.name}")
        finally:
            p.cubby("delete", check=False)
        assert not leftover_rules(f"cubby-{p.name}")
        assert "tcp dport 9 counter" in subprocess.run(["nft", "list", "table", "ip", "host-own"], capture_output=True, text=True).stdout
    finally:
        subprocess.run(["nft", "delete", "table", "ip", "host-own"], check=False)
