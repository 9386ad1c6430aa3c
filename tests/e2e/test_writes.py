"""Writes as kubectl makes them: client- and server-side apply, every patch type, set, edit, diff, prune."""
import json
import os
import stat

from test_kubectl import CRD, GADGET, lines

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: site, labels: {app: site}}
spec:
  replicas: 1
  selector: {matchLabels: {app: site}}
  template:
    metadata: {labels: {app: site}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
      - name: sidecar
        image: busybox:1.36
        command: [sleep, "3600"]
"""


def rv(k, ns, what):
    return k("get", what, "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}").stdout


def test_client_side_apply_merges_and_removes_what_left_the_manifest(cluster, ns):
    k = cluster.kubectl
    assert k("apply", "-n", ns, "-f", "-", input=APP).stdout.strip() == "deployment.apps/site created"
    changed = APP.replace("nginx:1.27", "nginx:1.28").replace("ports: [{containerPort: 80}]", "ports: [{containerPort: 80}]\n        env: [{name: MODE, value: fast}]")
    assert k("apply", "-n", ns, "-f", "-", input=changed).stdout.strip() == "deployment.apps/site configured"
    containers = json.loads(k("get", "deploy", "site", "-n", ns, "-o", "json").stdout)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web", "sidecar"]
    assert containers[0]["image"] == "nginx:1.28" and containers[0]["env"] == [{"name": "MODE", "value": "fast"}]
    assert containers[1]["command"] == ["sleep", "3600"]

    without_env = changed.replace("\n        env: [{name: MODE, value: fast}]", "")
    k("apply", "-n", ns, "-f", "-", input=without_env)
    web = json.loads(k("get", "deploy", "site", "-n", ns, "-o", "json").stdout)["spec"]["template"]["spec"]["containers"][0]
    assert "env" not in web and web["image"] == "nginx:1.28"

    # The controllers' status writes change the resourceVersion too: take it once they are done.
    k("rollout", "status", "-n", ns, "deploy/site", "--timeout=60s")
    before = rv(k, ns, "deploy/site")
    assert k("apply", "-n", ns, "-f", "-", input=without_env).stdout.strip() == "deployment.apps/site unchanged"
    assert rv(k, ns, "deploy/site") == before


def test_every_patch_type_on_a_deployment_and_a_custom_resource(cluster, ns):
    k = cluster.kubectl
    k("apply", "-n", ns, "-f", "-", input=APP)
    k("patch", "deploy", "site", "-n", ns, "--type", "json", "-p", '[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/replicas","value":2}]')
    k("patch", "deploy", "site", "-n", ns, "--type", "merge", "-p", '{"metadata":{"labels":{"tier":"front"}}}')
    k("patch", "deploy", "site", "-n", ns, "--type", "strategic", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.29"}]}}}}')
    dep = json.loads(k("get", "deploy", "site", "-n", ns, "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 2 and dep["metadata"]["labels"]["tier"] == "front"
    assert [(c["name"], c["image"]) for c in dep["spec"]["template"]["spec"]["containers"]] == [("web", "nginx:1.29"), ("sidecar", "busybox:1.36")]
    failed = k("patch", "deploy", "site", "-n", ns, "--type", "json", "-p", '[{"op":"test","path":"/spec/replicas","value":7}]', check=False)
    assert failed.returncode != 0 and "test" in failed.stderr

    k("apply", "-f", "-", input=CRD)
    k("wait", "--for", "condition=established", "crd/gadgets.example.com", "--timeout=20s")
    k("apply", "-n", ns, "-f", "-", input=GADGET)
    k("patch", "gadget", "g1", "-n", ns, "--type", "json", "-p", '[{"op":"replace","path":"/spec/size","value":4}]')
    k("patch", "gadget", "g1", "-n", ns, "--type", "merge", "-p", '{"spec":{"size":5}}')
    assert k("get", "gadget", "g1", "-n", ns, "-o", "jsonpath={.spec.size}").stdout == "5"
    refused = k("patch", "gadget", "g1", "-n", ns, "--type", "strategic", "-p", '{"spec":{"size":6}}', check=False)
    assert refused.returncode != 0
    # kubectl wraps the server's 415 Status in its own words.
    assert refused.stderr.strip() == ("error: application/strategic-merge-patch+json is not supported by example.com/v1, Kind=Gadget: "
                                      "the body of the request was in an unknown format - accepted media types include: "
                                      "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")


def test_set_label_and_annotate_with_removal(cluster, ns):
    k = cluster.kubectl
    k("apply", "-n", ns, "-f", "-", input=APP)
    assert k("set", "image", "deploy/site", "-n", ns, "web=nginx:1.30").stdout.strip() == "deployment.apps/site image updated"
    assert k("set", "env", "deploy/site", "-n", ns, "-c", "web", "LEVEL=3").stdout.strip() == "deployment.apps/site env updated"
    web = json.loads(k("get", "deploy", "site", "-n", ns, "-o", "json").stdout)["spec"]["template"]["spec"]["containers"][0]
    assert web["image"] == "nginx:1.30" and web["env"] == [{"name": "LEVEL", "value": "3"}]
    k("set", "env", "deploy/site", "-n", ns, "-c", "web", "LEVEL-")
    web = json.loads(k("get", "deploy", "site", "-n", ns, "-o", "json").stdout)["spec"]["template"]["spec"]["containers"][0]
    assert "env" not in web
    k("label", "deploy", "site", "-n", ns, "tier=a")
    k("annotate", "deploy", "site", "-n", ns, "note=x")
    assert k("label", "deploy", "site", "-n", ns, "tier-").stdout.strip() == "deployment.apps/site unlabeled"
    assert k("annotate", "deploy", "site", "-n", ns, "note-").stdout.strip() == "deployment.apps/site annotated"
    meta = json.loads(k("get", "deploy", "site", "-n", ns, "-o", "json").stdout)["metadata"]
    assert "tier" not in meta["labels"] and "note" not in meta.get("annotations", {})


def test_edit_through_an_editor(cluster, ns, tmp_path):
    k = cluster.kubectl
    k("apply", "-n", ns, "-f", "-", input=APP)
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/replicas: 1/replicas: 3/' \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, KUBE_EDITOR=str(editor))
    import subprocess
    out = subprocess.run(["kubectl", "edit", "deploy", "site", "-n", ns], env=dict(env, KUBECONFIG=cluster.kubeconfig),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "deployment.apps/site edited"
    assert k("get", "deploy", "site", "-n", ns, "-o", "jsonpath={.spec.replicas}").stdout == "3"


def test_diff_shows_the_pending_change_until_applied(cluster, ns):
    k = cluster.kubectl
    k("apply", "-n", ns, "-f", "-", input=APP)
    changed = APP.replace("nginx:1.27", "nginx:1.28")
    pending = k("diff", "-n", ns, "-f", "-", input=changed, check=False)
    assert pending.returncode == 1
    changes = [l for l in pending.stdout.splitlines() if l[:1] in "+-" and not l.startswith(("+++", "---"))]
    assert [l.split("image: ")[-1] for l in changes if "image:" in l] == ["nginx:1.27", "nginx:1.28"]
    k("apply", "-n", ns, "-f", "-", input=changed)
    done = k("diff", "-n", ns, "-f", "-", input=changed, check=False)
    assert done.returncode == 0 and done.stdout == ""


def test_apply_prune_removes_what_left_the_set(cluster, ns):
    k = cluster.kubectl
    two = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: p{i}, labels: {{set: pruned}}}}\n" for i in range(2))
    k("apply", "-n", ns, "-l", "set=pruned", "-f", "-", input=two)
    one = two.split("---")[1]
    out = k("apply", "-n", ns, "--prune", "-l", "set=pruned", "-f", "-", input=one).stdout
    assert "configmap/p1 pruned" in out
    assert lines(k("get", "cm", "-n", ns, "-l", "set=pruned", "-o", "name").stdout) == [["configmap/p0"]]


SSA = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: ssa, labels: {app: ssa}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ssa}}
  template:
    metadata: {labels: {app: ssa}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
"""


def test_server_side_apply_owns_fields_and_refuses_conflicts(cluster, ns):
    k = cluster.kubectl
    assert k("apply", "--server-side", "-n", ns, "-f", "-", input=SSA).stdout.strip() == "deployment.apps/ssa serverside-applied"
    k("rollout", "status", "-n", ns, "deploy/ssa", "--timeout=60s")
    rv = k("get", "deploy", "ssa", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}").stdout
    k("apply", "--server-side", "-n", ns, "-f", "-", input=SSA)
    assert k("get", "deploy", "ssa", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}").stdout == rv, "re-applying changes nothing"

    theirs = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ssa}\nspec: {replicas: 5}\n"
    refused = k("apply", "--server-side", "--field-manager=scaler", "-n", ns, "-f", "-", input=theirs, check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith('error: Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas')
    k("apply", "--server-side", "--field-manager=scaler", "--force-conflicts", "-n", ns, "-f", "-", input=theirs)
    dep = json.loads(k("get", "deploy", "ssa", "-n", ns, "-o", "json", "--show-managed-fields").stdout)
    assert dep["spec"]["replicas"] == 5
    owners = {e["manager"]: e for e in dep["metadata"]["managedFields"]}
    assert owners["scaler"]["operation"] == "Apply" and owners["scaler"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owners["kubectl"]["fieldsV1"]["f:spec"], "forcing took the field over"

    # A field the applier stops applying, and no one else owns, is removed; merged lists keep the rest.
    k("apply", "--server-side", "-n", ns, "-f", "-", input=SSA.replace(', {name: B, value: "2"}', "").replace("  replicas: 2\n", ""))
    dep = json.loads(k("get", "deploy", "ssa", "-n", ns, "-o", "json").stdout)
    assert dep["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    assert dep["spec"]["replicas"] == 5 and dep["metadata"]["labels"] == {"app": "ssa"}


def test_field_validation_on_custom_resources(cluster, ns):
    k = cluster.kubectl
    k("apply", "-f", "-", input=CRD)
    k("wait", "--for", "condition=established", "crd/gadgets.example.com", "--timeout=20s")
    typo = GADGET.replace("size: 3", "size: 3, colour: red")
    strict = k("create", "-n", ns, "-f", "-", input=typo, check=False)
    assert strict.returncode == 1
    assert strict.stderr.strip() == ('Error from server (BadRequest): error when creating "STDIN": Gadget in version "v1" '
                                     'cannot be handled as a Gadget: strict decoding error: unknown field "spec.colour"')
    warned = k("create", "--validate=warn", "-n", ns, "-f", "-", input=typo)
    assert warned.stderr.strip() == 'Warning: unknown field "spec.colour"'
    assert json.loads(k("get", "gadget", "g1", "-n", ns, "-o", "json").stdout)["spec"] == {"size": 3}, "unknown fields are pruned"
    ignored = k("apply", "--validate=false", "-n", ns, "-f", "-", input=typo.replace("size: 3", "size: 4"))
    assert "unknown field" not in ignored.stderr
    assert json.loads(k("get", "gadget", "g1", "-n", ns, "-o", "json").stdout)["spec"] == {"size": 4}


ROUTES_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: routes.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: routes, singular: route, kind: Route}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              owner: {type: string}
              backends:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    weight: {type: integer}
"""


def test_server_side_apply_on_a_custom_resource_honours_list_map_keys(cluster, ns):
    k = cluster.kubectl
    k("apply", "-f", "-", input=ROUTES_CRD)
    k("wait", "--for", "condition=established", "crd/routes.example.com", "--timeout=20s")
    route = "apiVersion: example.com/v1\nkind: Route\nmetadata: {name: r}\nspec:\n  backends: [%s]\n"
    k("apply", "--server-side", "--field-manager=team-a", "-n", ns, "-f", "-", input=route % "{name: a, weight: 1}")
    k("apply", "--server-side", "--field-manager=team-b", "-n", ns, "-f", "-", input=route % "{name: b, weight: 2}")
    backends = lambda: json.loads(k("get", "route", "r", "-n", ns, "-o", "json").stdout)["spec"]["backends"]
    assert backends() == [{"name": "a", "weight": 1}, {"name": "b", "weight": 2}], "items merge by their key"
    clash = k("apply", "--server-side", "--field-manager=team-b", "-n", ns, "-f", "-", input=route % "{name: a, weight: 5}", check=False)
    assert 'conflict with "team-a" using example.com/v1: .spec.backends[name="a"].weight' in clash.stderr
    k("apply", "--server-side", "--field-manager=team-a", "-n", ns, "-f", "-", input="apiVersion: example.com/v1\nkind: Route\nmetadata: {name: r}\nspec: {owner: a}\n")
    assert backends() == [{"name": "b", "weight": 2}], "an item its manager stopped applying is removed"
