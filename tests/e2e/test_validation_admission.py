"""What a real cluster refuses or fills in, Cubby does too: preconditions, typed decoding, upstream's
validation and immutability rules, and the admission chain (NamespaceLifecycle, LimitRanger, ServiceAccount,
PodSecurity, Priority with preemption, ResourceQuota, storage protection), driven with kubectl 1.37 and the
Python client against a shared cluster on simulated nodes."""
import json
import time

import pytest
from kubernetes import client as k8s, config as k8s_config
from kubernetes.client.rest import ApiException

from conftest import Cluster, namespace_for, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("admission") / "data").start()
    yield c
    c.stop()


@pytest.fixture
def ns(cluster, request):
    yield from namespace_for(cluster, request)


def create(cluster, ns, obj, check=False):
    return cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(obj), check=check)


def pod(name, spec=None, **meta):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, **meta},
            "spec": spec or {"containers": [{"name": "c", "image": "busybox"}]}}


def test_stale_resource_versions_are_conflicts(cluster, ns):
    cluster.kubectl("create", "configmap", "g", "-n", ns, "--from-literal=a=b")
    r = cluster.kubectl("annotate", "cm", "g", "-n", ns, "note=hi", "--resource-version=1", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == ('Error from server (Conflict): Operation cannot be fulfilled on configmaps "g": the object has been '
                                'modified; please apply your changes to the latest version and try again')
    r = cluster.kubectl("patch", "cm", "g", "-n", ns, "--type=merge", "-p", '{"metadata":{"resourceVersion":"1"},"data":{"a":"c"}}', check=False)
    assert "Conflict" in r.stderr and "the object has been modified" in r.stderr
    assert cluster.kubectl("get", "cm", "g", "-n", ns, "-o", "jsonpath={.data.a}").stdout == "b"
    # The current resourceVersion passes, as upstream's.
    rv = cluster.kubectl("get", "cm", "g", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}").stdout
    cluster.kubectl("annotate", "cm", "g", "-n", ns, "note=hi", f"--resource-version={rv}")
    # Deletion preconditions too.
    api = k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=cluster.kubeconfig))
    with pytest.raises(ApiException) as e:
        api.delete_namespaced_config_map("g", ns, body=k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid="nope")))
    assert e.value.status == 409 and "Precondition failed: UID in precondition: nope" in e.value.body


def test_mistyped_values_are_refused_with_the_decoders_words(cluster, ns):
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                  "spec": {"replicas": "notanumber", "selector": {"matchLabels": {"a": "b"}},
                           "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    r = create(cluster, ns, deployment)
    assert r.stderr.strip() == ('Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled '
                                'as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32')
    r = create(cluster, ns, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}, "data": {"a": 1}})
    assert r.stderr.strip().endswith('ConfigMap in version "v1" cannot be handled as a ConfigMap: '
                                     'json: cannot unmarshal number into Go struct field ConfigMap.data of type string')
    r = create(cluster, ns, pod("q", {"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "lots"}}}]}))
    assert r.stderr.strip().endswith("Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression "
                                     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    # A patch that produces a mistyped value: upstream's patcher answers 422 on the field `patch`.
    deployment["spec"]["replicas"] = 1
    create(cluster, ns, deployment, check=True)
    r = cluster.kubectl("patch", "deployment", "d", "-n", ns, "-p", '{"spec":{"replicas":"notanumber"}}', check=False)
    assert r.stderr.strip() == ('The request is invalid: patch: Invalid value: "map[spec:map[replicas:notanumber]]": '
                                'unrecognized type: int32')
    r = cluster.kubectl("patch", "deployment", "d", "-n", ns, "--type=merge", "-p", '{"spec":{"replicas":"x"}}', check=False)
    assert r.stderr.startswith('The request is invalid: patch: Invalid value: "{') and r.stderr.strip().endswith(
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32")


INVALID_CREATES = [
    (pod("p1", {"restartPolicy": "Nope", "containers": [{"name": "c", "image": "i"}]}),
     'The Pod "p1" is invalid: spec.restartPolicy: Unsupported value: "Nope": supported values: "Always", "OnFailure", "Never"'),
    (pod("p2", {"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}]}),
     'The Pod "p2" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'),
    (pod("p3", {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 70000}]}]}),
     'The Pod "p3" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive'),
    ({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c1"},
      "spec": {"schedule": "61 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never",
                                                                                          "containers": [{"name": "c", "image": "i"}]}}}}}},
     'The CronJob "c1" is invalid: spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'),
    ({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c2"},
      "spec": {"schedule": "* * * * *", "timeZone": "Mars/Olympus", "jobTemplate": {"spec": {"template": {"spec": {
          "restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}}}},
     'The CronJob "c2" is invalid: spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'),
    ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"}, "type": "kubernetes.io/tls", "data": {"tls.key": "eA=="}},
     'The Secret "t" is invalid: data[tls.crt]: Required value'),
    ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
      "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 1234}]}},
     'The Service "np" is invalid: spec.ports[0].nodePort: Invalid value: 1234: provided port is not in the valid range. '
     'The range of valid ports is 30000-32767'),
    ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "never"},
      "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                                                                      "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}},
     'The Deployment "never" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'),
]


def test_label_selectors_are_validated(cluster, ns):
    """Upstream's ValidateLabelSelector on a ClusterRole's aggregationRule and a workload's selector (upstream then
    adds an `invalid label selector` error of its own, printed with Go's struct syntax, not compared here)."""
    r = create(cluster, ns, {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "aggregated"},
                             "aggregationRule": {"clusterRoleSelectors": [{"matchExpressions": [{"key": "tier", "operator": "Near"}]}]}})
    assert r.returncode == 1 and r.stderr.startswith('The ClusterRole "aggregated" is invalid: ')
    assert 'aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator' in r.stderr
    r = create(cluster, ns, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "selective"},
                             "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "In"}]},
                                      "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
    assert r.returncode == 1
    assert ("spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
            in r.stderr)


@pytest.mark.parametrize("obj,message", INVALID_CREATES, ids=[o["metadata"]["name"] for o, _ in INVALID_CREATES])
def test_invalid_creates_are_422_naming_the_field(cluster, ns, obj, message):
    r = create(cluster, ns, obj)
    assert r.returncode == 1
    assert r.stderr.strip() == message


def test_immutable_fields_are_refused_in_upstreams_words(cluster, ns):
    k = lambda *a, **kw: cluster.kubectl(*a, "-n", ns, **kw)
    create(cluster, ns, pod("p"), check=True)
    r = k("patch", "pod", "p", "-p", '{"spec":{"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":80}]}]}}', check=False)
    assert r.stderr.startswith('The Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than '
                               '`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,'
                               '`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` '
                               '(allow it to be set to 1 if it was previously negative)\n')
    k("set", "image", "pod/p", "c=busybox:1.36")  # the image may change

    k("create", "job", "j", "--image=busybox")
    r = k("patch", "job", "j", "--type=json", "-p", '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"x"}]', check=False)
    assert r.stderr.startswith('The Job "j" is invalid: spec.template: Invalid value: {') and r.stderr.strip().endswith(": field is immutable")

    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"},
           "spec": {"serviceName": "a", "selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    create(cluster, ns, sts, check=True)
    expected = ('The StatefulSet "s" is invalid: spec: Forbidden: updates to statefulset spec for fields other than \'replicas\', '
                "'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
                "'minReadySeconds' are forbidden")
    assert k("patch", "sts", "s", "-p", '{"spec":{"serviceName":"b"}}', check=False).stderr.strip() == expected
    assert k("patch", "sts", "s", "-p", '{"spec":{"podManagementPolicy":"Parallel"}}', check=False).stderr.strip() == expected

    k("create", "service", "clusterip", "svc", "--tcp=80:80")
    ip = k("get", "svc", "svc", "-o", "jsonpath={.spec.clusterIP}").stdout
    assert k("patch", "svc", "svc", "-p", '{"spec":{"clusterIP":"10.96.0.50"}}', check=False).stderr.strip() == (
        'The Service "svc" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.50"]: may not change once set')
    assert k("get", "svc", "svc", "-o", "jsonpath={.spec.clusterIP} {.spec.clusterIPs[0]}").stdout == f"{ip} {ip}"

    create(cluster, ns, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "im"}, "immutable": True, "data": {"a": "b"}}, check=True)
    assert k("patch", "cm", "im", "-p", '{"data":{"a":"c"}}', check=False).stderr.strip() == (
        'The ConfigMap "im" is invalid: data: Forbidden: field is immutable when `immutable` is set')
    k("create", "secret", "generic", "sec", "--from-literal=a=b")
    r = k("patch", "secret", "sec", "-p", '{"type":"kubernetes.io/basic-auth"}', check=False)
    assert r.stderr.strip().splitlines() == ['The Secret "sec" is invalid: ',
                                             '* type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
                                             '* data[username]: Required value', '* data[password]: Required value']

    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Mi"}}}}
    create(cluster, ns, claim, check=True)
    for change in ('{"spec":{"accessModes":["ReadWriteMany"]}}', '{"spec":{"storageClassName":"other"}}'):
        r = k("patch", "pvc", "c", "-p", change, check=False)
        assert r.stderr.startswith('The PersistentVolumeClaim "c" is invalid: spec: Forbidden: spec is immutable after creation except '
                                   'resources.requests and volumeAttributesClassName for bound claims\n'), r.stderr


def test_resource_quota_refuses_and_counts(cluster, ns):
    k = lambda *a, **kw: cluster.kubectl(*a, "-n", ns, **kw)
    k("create", "quota", "q2", "--hard=pods=1,requests.cpu=1")
    r = create(cluster, ns, pod("nocpu"))
    assert r.stderr.strip() == 'Error from server (Forbidden): error when creating "STDIN": pods "nocpu" is forbidden: failed quota: q2: must specify requests.cpu for: c'
    with_cpu = lambda name: pod(name, {"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "500m"}}}]})
    create(cluster, ns, with_cpu("p1"), check=True)
    r = create(cluster, ns, with_cpu("p2"))
    assert r.stderr.strip() == ('Error from server (Forbidden): error when creating "STDIN": pods "p2" is forbidden: exceeded quota: q2, '
                                'requested: pods=1, used: pods=1, limited: pods=1')
    described = k("describe", "quota", "q2").stdout
    assert [l.split() for l in described.splitlines()[-2:]] == [["pods", "1", "1"], ["requests.cpu", "500m", "1"]]
    assert k("get", "quota", "q2").stdout.splitlines()[1].split()[2:] == ["pods:", "1/1,", "requests.cpu:", "500m/1"]
    # Deleting the pod gives its share back (the quota controller recounts).
    k("delete", "pod", "p1", "--grace-period=0", "--force")
    wait_for("usage given back", lambda: k("get", "quota", "q2", "-o", "jsonpath={.status.used.pods}").stdout == "0")
    create(cluster, ns, with_cpu("p3"), check=True)


def test_limit_range_fills_defaults_and_refuses_over_max(cluster, ns):
    k = lambda *a, **kw: cluster.kubectl(*a, "-n", ns, **kw)
    create(cluster, ns, {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"},
                         "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "128Mi"},
                                              "defaultRequest": {"cpu": "100m"}, "max": {"cpu": "1"}}]}}, check=True)
    assert json.loads(k("get", "limitrange", "lr", "-o", "json").stdout)["spec"]["limits"][0]["defaultRequest"] == {"cpu": "100m", "memory": "128Mi"}
    create(cluster, ns, pod("d"), check=True)
    made = json.loads(k("get", "pod", "d", "-o", "json").stdout)
    assert made["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c")
    assert made["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "500m", "memory": "128Mi"},
                                                           "requests": {"cpu": "100m", "memory": "128Mi"}}
    r = create(cluster, ns, pod("big", {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": "2"}}}]}))
    assert r.stderr.strip().endswith('pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2')


def test_service_accounts(cluster, ns):
    k = lambda *a, **kw: cluster.kubectl(*a, "-n", ns, **kw)
    create(cluster, ns, pod("p"), check=True)
    made = json.loads(k("get", "pod", "p", "-o", "json").stdout)
    assert made["spec"]["serviceAccountName"] == "default"
    volume = next(v for v in made["spec"]["volumes"] if v["name"].startswith("kube-api-access-"))
    assert [list(s)[0] for s in volume["projected"]["sources"]] == ["serviceAccountToken", "configMap", "downwardAPI"]
    assert made["spec"]["containers"][0]["volumeMounts"] == [
        {"name": volume["name"], "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
    r = create(cluster, ns, pod("ghost", {"serviceAccountName": "ghost", "containers": [{"name": "c", "image": "i"}]}))
    assert r.stderr.strip().endswith(f'pods "ghost" is forbidden: error looking up service account {ns}/ghost: serviceaccount "ghost" not found')
    # An account that opts out of the token mount is respected.
    create(cluster, ns, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "quiet"}, "automountServiceAccountToken": False}, check=True)
    create(cluster, ns, pod("q", {"serviceAccountName": "quiet", "containers": [{"name": "c", "image": "i"}]}), check=True)
    assert "volumes" not in json.loads(k("get", "pod", "q", "-o", "json").stdout)["spec"]


def test_pod_security_enforce_and_warn(cluster, ns):
    k = lambda *a, **kw: cluster.kubectl(*a, "-n", ns, **kw)
    k("label", "ns", ns, "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted")
    r = create(cluster, ns, pod("bad", {"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": True}}]}))
    assert r.stderr.strip().endswith(
        'pods "bad" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set '
        'securityContext.privileged=true), allowPrivilegeEscalation != false (container "c" must set '
        'securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set '
        'securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set '
        'securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type '
        'to "RuntimeDefault" or "Localhost")')
    good = {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "image": "i", "securityContext": {"allowPrivilegeEscalation": False,
                                                                             "capabilities": {"drop": ["ALL"]}}}]}
    assert create(cluster, ns, pod("good", good)).returncode == 0
    # A workload is not refused, but warned about.
    k("label", "ns", ns, "--overwrite", "pod-security.kubernetes.io/enforce=privileged", "pod-security.kubernetes.io/warn=baseline")
    r = k("create", "deployment", "hostnet", "--image=i", "--dry-run=client", "-o", "json")
    d = json.loads(r.stdout)
    d["spec"]["template"]["spec"]["hostNetwork"] = True
    r = create(cluster, ns, d)
    assert r.returncode == 0
    assert 'Warning: would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)' in r.stderr


def test_priority_and_preemption(cluster, ns):
    k = lambda *a, **kw: cluster.kubectl(*a, "-n", ns, **kw)
    assert k("get", "priorityclass", "system-node-critical", "-o", "jsonpath={.value}").stdout == "2000001000"
    k("create", "priorityclass", f"{ns}-high", "--value=1000")
    k("create", "priorityclass", f"{ns}-low", "--value=10")
    r = create(cluster, ns, pod("typo", {"priorityClassName": "nope", "containers": [{"name": "c", "image": "i"}]}))
    assert r.stderr.strip().endswith('pods "typo" is forbidden: no PriorityClass with name nope was found')
    r = create(cluster, ns, pod("own", {"priority": 5, "containers": [{"name": "c", "image": "i"}]}))
    assert r.stderr.strip().endswith('pods "own" is forbidden: the integer value of priority (5) must not be provided in pod spec; '
                                     'priority admission controller computed 0 from the given PriorityClass name')
    # Two low-priority pods fill what the cluster's one node has left (its system pods request some), and a
    # high-priority one evicts one of them.
    node = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"][0]
    def millis(cpu):
        return int(cpu[:-1]) if cpu.endswith("m") else int(float(cpu) * 1000)
    running = [p for p in json.loads(cluster.kubectl("get", "pods", "-A", "-o", "json").stdout)["items"]
               if p["spec"].get("nodeName") == node["metadata"]["name"] and p["status"].get("phase") not in ("Succeeded", "Failed")]
    used = sum(millis(c.get("resources", {}).get("requests", {}).get("cpu", "0")) for p in running for c in p["spec"]["containers"])
    half = f"{(millis(node['status']['allocatable']['cpu']) - used) // 2}m"
    heavy = lambda name, cls: pod(name, {"priorityClassName": cls, "terminationGracePeriodSeconds": 0,
                                         "containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": half}}}]})
    for name in ("low1", "low2"):
        create(cluster, ns, heavy(name, f"{ns}-low"), check=True)
    k("wait", "--for=condition=PodScheduled", "pod/low1", "pod/low2", "--timeout=30s")
    create(cluster, ns, heavy("high", f"{ns}-high"), check=True)
    k("wait", "--for=condition=PodScheduled", "pod/high", "--timeout=30s")
    left = [p["metadata"]["name"] for p in json.loads(k("get", "pods", "-o", "json").stdout)["items"]]
    assert "high" in left and len([n for n in left if n.startswith("low")]) == 1
    events = k("get", "events", "--field-selector", "reason=Preempted", "-o", "jsonpath={.items[*].message}").stdout
    uid = k("get", "pod", "high", "-o", "jsonpath={.metadata.uid}").stdout
    assert events == f"Preempted by pod {uid} on node {node['metadata']['name']}"


def test_namespaces_and_storage_protection(cluster, ns):
    for name in ("kube-public", "kube-system", "default"):
        r = cluster.kubectl("delete", "ns", name, check=False)
        assert r.stderr.strip() == f'Error from server (Forbidden): namespaces "{name}" is forbidden: this namespace may not be deleted'
    r = create(cluster, "no-such-namespace", pod("p"))
    assert r.stderr.strip().endswith('namespaces "no-such-namespace" not found')
    # A bundle with its namespace is deleted as a whole: the namespace shows Terminating meanwhile.
    bundle = "\n---\n".join(json.dumps(o) for o in [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{ns}-bundle"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": f"{ns}-bundle"}, "data": {"a": "b"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": f"{ns}-bundle"},
         "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                                                                         "spec": {"containers": [{"name": "c", "image": "i"}]}}}}])
    cluster.kubectl("apply", "-f", "-", input=bundle)
    r = cluster.kubectl("delete", "-f", "-", "--wait=false", input=bundle, check=False)
    assert r.returncode == 0, r.stderr
    assert cluster.kubectl("get", "ns", f"{ns}-bundle", "-o", "jsonpath={.status.phase}").stdout == "Terminating"
    wait_for("the namespace gone", lambda: cluster.kubectl("get", "ns", f"{ns}-bundle", check=False).returncode != 0, timeout=60)
    # Waiting for it all to go, as kubectl does by default, also ends well.
    cluster.kubectl("apply", "-f", "-", input=bundle)
    r = cluster.kubectl("delete", "-f", "-", input=bundle, check=False)
    assert r.returncode == 0, r.stderr
    k = lambda *a, **kw: cluster.kubectl(*a, "-n", ns, **kw)
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Mi"}}}}
    create(cluster, ns, claim, check=True)
    made = json.loads(k("get", "pvc", "data", "-o", "json").stdout)
    assert made["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"] and made["spec"]["storageClassName"] == "standard"
    user = pod("user", {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}],
                        "containers": [{"name": "c", "image": "i", "volumeMounts": [{"name": "d", "mountPath": "/d"}]}]})
    create(cluster, ns, user, check=True)
    k("wait", "--for=jsonpath={.status.phase}=Running", "pod/user", "--timeout=30s")
    k("delete", "pvc", "data", "--wait=false")
    time.sleep(1)
    assert k("get", "pvc", "data", "-o", "jsonpath={.status.phase}").stdout == "Bound"
    assert k("get", "pvc", "data").stdout.splitlines()[1].split()[1] == "Terminating"
    k("delete", "pod", "user", "--grace-period=0", "--force")
    wait_for("the claim gone", lambda: k("get", "pvc", "data", check=False).returncode != 0)


def test_describe_service_and_ingress_work(cluster, ns):
    k = lambda *a, **kw: cluster.kubectl(*a, "-n", ns, **kw)
    k("create", "deployment", "web", "--image=i", "--port=80")
    k("expose", "deployment", "web", "--port=80")
    k("wait", "--for=condition=Available", "deployment/web", "--timeout=30s")
    wait_for("the service's endpoints", lambda: ":80" in k("describe", "svc", "web").stdout)
    described = k("describe", "svc", "web").stdout
    fields = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in described.splitlines() if ":" in line}
    assert fields["TargetPort"] == "80/TCP" and fields["Endpoints"].endswith(":80")
    k("create", "ingress", "web", "--rule=example.com/*=web:80")
    assert "example.com" in k("describe", "ingress", "web").stdout
    kubernetes = json.loads(cluster.kubectl("get", "endpointslice", "kubernetes", "-n", "default", "-o", "json").stdout)
    assert kubernetes["ports"] == [{"name": "https", "port": cluster.port, "protocol": "TCP"}]


def test_what_real_clusters_fill_in(cluster, ns):
    k = lambda *a, **kw: cluster.kubectl(*a, "-n", ns, **kw)
    # A service-account token Secret made by hand is filled by the tokens controller, and its token works.
    k("create", "sa", "robot")
    create(cluster, ns, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "robot-token",
                         "annotations": {"kubernetes.io/service-account.name": "robot"}},
                         "type": "kubernetes.io/service-account-token"}, check=True)
    secret = wait_for("the token", lambda: (s := json.loads(k("get", "secret", "robot-token", "-o", "json").stdout))["data"].get("token") and s)
    assert set(secret["data"]) == {"token", "ca.crt", "namespace"}
    assert secret["metadata"]["annotations"]["kubernetes.io/service-account.uid"] == k("get", "sa", "robot", "-o", "jsonpath={.metadata.uid}").stdout
    import base64
    token = base64.b64decode(secret["data"]["token"]).decode()
    whoami = cluster.kubectl("auth", "whoami", "--token", token, "-o", "jsonpath={.status.userInfo.username}", check=False)
    assert whoami.stdout == f"system:serviceaccount:{ns}:robot", whoami.stderr

    # The scale subresource says the workload's selector.
    k("create", "deployment", "web", "--image=i", "--replicas=2")
    scale = json.loads(k("get", "--raw", f"/apis/apps/v1/namespaces/{ns}/deployments/web/scale").stdout)
    assert scale["status"]["selector"] == "app=web"

    # Services and network policies get upstream's defaults.
    k("create", "service", "nodeport", "np", "--tcp=80:80")
    svc = json.loads(k("get", "svc", "np", "-o", "json").stdout)
    assert svc["spec"]["externalTrafficPolicy"] == "Cluster" and svc["spec"]["ports"][0]["nodePort"] >= 30000
    k("patch", "svc", "np", "-p", '{"spec":{"type":"ClusterIP"}}')
    assert "nodePort" not in json.loads(k("get", "svc", "np", "-o", "json").stdout)["spec"]["ports"][0]
    k("create", "service", "externalname", "ext", "--external-name=example.com")
    assert "ipFamilies" not in json.loads(k("get", "svc", "ext", "-o", "json").stdout)["spec"]
    create(cluster, ns, {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "np"},
                         "spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}}, check=True)
    policy = json.loads(k("get", "netpol", "np", "-o", "json").stdout)["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"] and policy["egress"][0]["ports"][0]["protocol"] == "TCP"

    # Tables and field selectors as upstream's.
    k("create", "rolebinding", "rb", "--clusterrole=view", "--user=jane", f"--serviceaccount={ns}:robot")
    assert k("get", "rolebinding", "rb", "-o", "wide").stdout.splitlines()[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    events = k("get", "events", "-o", "wide").stdout.splitlines()[0].split()
    assert events[:4] == ["LAST", "SEEN", "TYPE", "REASON"] and events[-1] == "NAME"
    assert k("get", "events").stdout.splitlines()[0].split()[:2] == ["LAST", "SEEN"]
    assert cluster.kubectl("get", "ns", "--field-selector", "status.phase=Active", "-o", "name").returncode == 0
    assert "np" in k("get", "svc", "--field-selector", "spec.type=ClusterIP", "-o", "name").stdout
    readyz = cluster.kubectl("get", "--raw", "/readyz?verbose").stdout
    assert readyz.startswith("[+]ping ok\n") and readyz.endswith("readyz check passed\n")
    livez = cluster.kubectl("get", "--raw", "/livez?verbose").stdout
    assert livez.startswith("[+]ping ok\n") and livez.endswith("livez check passed\n")

    # A change-cause follows the Deployment to its newest ReplicaSet, so rollout history lists it.
    k("annotate", "deployment", "web", "kubernetes.io/change-cause=first image")
    k("set", "image", "deployment/web", "i=j")
    k("annotate", "deployment", "web", "--overwrite", "kubernetes.io/change-cause=second image")
    history = lambda: [line.split(None, 1) for line in k("rollout", "history", "deployment/web").stdout.strip().splitlines()[2:]]
    wait_for("both causes in the history", lambda: history() == [["1", "first image"], ["2", "second image"]])


def test_events_through_both_apis(cluster, ns):
    api = k8s_config.new_client_from_config(config_file=cluster.kubeconfig)
    events_v1, core = k8s.EventsV1Api(api), k8s.CoreV1Api(api)
    cluster.kubectl("create", "configmap", "cfg", "-n", ns)
    regarding = {"apiVersion": "v1", "kind": "ConfigMap", "name": "cfg", "namespace": ns}
    now = "2026-12-01T10:00:00.000000Z"
    # A watch through events.k8s.io sees what is written through core/v1, in its own words.
    stream = events_v1.list_namespaced_event(ns, watch=True, timeout_seconds=20, _preload_content=False)
    # Written through events.k8s.io/v1, as client-go's newer recorder writes: kubectl get events
    # (core/v1) shows it, with the fields under their core names.
    events_v1.create_namespaced_event(ns, {
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "cfg.1"}, "eventTime": now,
        "reportingController": "example.com/operator", "reportingInstance": "operator-0", "action": "Reconcile",
        "reason": "Synced", "note": "configuration synced", "type": "Normal", "regarding": regarding})
    seen = json.loads(stream.readline())
    assert seen["type"] == "ADDED" and seen["object"]["note"] == "configuration synced"
    assert seen["object"]["apiVersion"] == "events.k8s.io/v1" and "message" not in seen["object"]
    stream.release_conn()
    legacy = core.read_namespaced_event("cfg.1", ns)
    assert (legacy.message, legacy.involved_object.name, legacy.reporting_component) == ("configuration synced", "cfg", "example.com/operator")
    rows = cluster.kubectl("get", "events", "-n", ns, "-o", "wide").stdout.splitlines()
    assert "configmap/cfg" in rows[1] and "configuration synced" in rows[1] and "example.com/operator, operator-0" in rows[1]
    # Written through core/v1 (as the cluster's own controllers do): events.k8s.io/v1 lists it, and
    # upstream's field selectors of that group find it.
    cluster.kubectl("create", "deployment", "web", "-n", ns, "--image=i")
    # (kubectl, not the Python client: its model of this group insists on an eventTime, which
    # events from core/v1 writers have not, on a real cluster as here.)
    listed = lambda: json.loads(cluster.kubectl("get", "events.events.k8s.io", "-n", ns, "--field-selector", "regarding.name=web",
                                                "-o", "json").stdout)["items"]
    found = wait_for("the deployment's event", listed)
    assert found[0]["regarding"]["kind"] == "Deployment" and found[0]["reason"] == "ScalingReplicaSet"
    assert found[0]["note"].startswith("Scaled up replica set web-") and found[0]["deprecatedCount"] == 1
    assert cluster.kubectl("get", "events.events.k8s.io", "-n", ns, "--field-selector", "reportingController=example.com/operator",
                           "-o", "name").stdout.split() == ["event.events.k8s.io/cfg.1"]
    # The newer API's rules: eventTime and the reporter are required, and an event is a record.
    r = create(cluster, ns, {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "bad"},
                             "reason": "R", "type": "Fatal", "regarding": regarding})
    assert r.returncode == 1 and r.stderr.strip() == (
        'The Event "bad" is invalid: \n* eventTime: Required value\n* type: Invalid value: "": has invalid value: Fatal')
    with pytest.raises(ApiException) as e:
        events_v1.patch_namespaced_event("cfg.1", ns, {"note": "rewritten"})
    assert e.value.status == 422 and 'message: Invalid value: "rewritten": field is immutable' in json.loads(e.value.body)["message"]
    events_v1.patch_namespaced_event("cfg.1", ns, {"series": {"count": 2, "lastObservedTime": now}})
    assert core.read_namespaced_event("cfg.1", ns).series.count == 2
    events_v1.delete_namespaced_event("cfg.1", ns)
    with pytest.raises(ApiException) as e:
        core.read_namespaced_event("cfg.1", ns)
    assert e.value.status == 404
