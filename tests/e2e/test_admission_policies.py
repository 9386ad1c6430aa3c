"""Admission policies as upstream evaluates them: a ValidatingAdmissionPolicy with a param (a ConfigMap) bound to one
namespace refuses a deployment with too many replicas (Deny) or warns (Warn), and a MutatingAdmissionPolicy sets a
label (an apply configuration) and an annotation (a JSON patch)."""
import json

from conftest import wait_for


def apply(cluster, obj):
    cluster.kubectl("apply", "-f", "-", input=json.dumps(obj))


def policy_objects(ns, actions):
    policy = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": f"replicalimit-{ns}"},
              "spec": {"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                       "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                                                               "resources": ["deployments"]}]},
                       "validations": [{"expression": "object.spec.replicas <= int(params.data.maxReplicas)"}]}}
    binding = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": f"replicalimit-{ns}"},
               "spec": {"policyName": f"replicalimit-{ns}", "validationActions": actions,
                        "paramRef": {"name": "replica-limit", "namespace": ns, "parameterNotFoundAction": "Deny"},
                        "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}}}
    return policy, binding


def deployment(name, replicas):
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                       "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})


def test_validating_admission_policy_with_a_param_refuses_too_many_replicas(cluster, ns):
    policy, binding = policy_objects(ns, ["Deny"])
    apply(cluster, policy)
    apply(cluster, binding)
    try:
        stored = json.loads(cluster.kubectl("get", "validatingadmissionpolicy", f"replicalimit-{ns}", "-o", "json").stdout)["spec"]
        assert stored["failurePolicy"] == "Fail" and stored["matchConstraints"]["matchPolicy"] == "Equivalent"
        # No param yet: the binding's parameterNotFoundAction Deny refuses.
        r = wait_for("the binding to apply", lambda: (x := cluster.kubectl("create", "-n", ns, "-f", "-", input=deployment("early", 1),
                                                                            check=False)).returncode != 0 and x)
        assert "no params found for policy binding with `Deny` parameterNotFoundAction" in r.stderr
        cluster.kubectl("create", "configmap", "replica-limit", "-n", ns, "--from-literal=maxReplicas=3")
        r = cluster.kubectl("create", "-n", ns, "-f", "-", input=deployment("big", 5), check=False)
        assert r.returncode != 0
        assert (f'deployments.apps "big" is forbidden: ValidatingAdmissionPolicy \'replicalimit-{ns}\' with binding \'replicalimit-{ns}\' '
                "denied request: failed expression: object.spec.replicas <= int(params.data.maxReplicas)") in r.stderr
        cluster.kubectl("create", "-n", ns, "-f", "-", input=deployment("small", 2))
        r = cluster.kubectl("patch", "deployment", "small", "-n", ns, "--type=merge", "-p", '{"spec":{"replicas":4}}', check=False)
        assert r.returncode != 0 and "failed expression" in r.stderr
        # Other namespaces are not bound.
        cluster.kubectl("create", "-n", "default", "-f", "-", input=deployment(f"elsewhere-{ns}", 5))
        cluster.kubectl("delete", "deployment", f"elsewhere-{ns}", "-n", "default")
        # Warn instead of Deny: allowed, with the failure as a warning.
        binding["spec"]["validationActions"] = ["Warn"]
        apply(cluster, binding)
        r = wait_for("the warning", lambda: (x := cluster.kubectl("create", "-n", ns, "-f", "-", input=deployment("warned", 6), check=False))
                     .returncode == 0 and x)
        assert (f"Warning: Validation failed for ValidatingAdmissionPolicy 'replicalimit-{ns}' with binding 'replicalimit-{ns}': "
                "failed expression: object.spec.replicas <= int(params.data.maxReplicas)") in r.stderr
    finally:
        cluster.kubectl("delete", "validatingadmissionpolicybinding", f"replicalimit-{ns}", "--ignore-not-found")
        cluster.kubectl("delete", "validatingadmissionpolicy", f"replicalimit-{ns}", "--ignore-not-found")


def test_mutating_admission_policy_sets_a_label_and_an_annotation(cluster, ns):
    policy = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicy", "metadata": {"name": f"labeller-{ns}"},
              "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                                                               "resources": ["configmaps"]}]},
                       "mutations": [
                           {"patchType": "ApplyConfiguration",
                            "applyConfiguration": {"expression": "Object{metadata: Object.metadata{labels: {'policy': 'applied'}}}"}},
                           {"patchType": "JSONPatch",
                            "jsonPatch": {"expression": "[JSONPatch{op: 'add', path: '/metadata/annotations', value: {'seen-by': 'policy'}}]"}},
                       ]}}
    binding = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicyBinding", "metadata": {"name": f"labeller-{ns}"},
               "spec": {"policyName": f"labeller-{ns}", "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}}}
    apply(cluster, policy)
    apply(cluster, binding)
    try:
        attempt = iter(range(1000))

        def labelled():
            name = f"cm{next(attempt)}"
            cluster.kubectl("create", "configmap", name, "-n", ns, "--from-literal=a=b")
            return json.loads(cluster.kubectl("get", "configmap", name, "-n", ns, "-o", "json").stdout)["metadata"]
        meta = wait_for("the label", lambda: (m := labelled()).get("labels", {}).get("policy") == "applied" and m)
        assert meta["annotations"] == {"seen-by": "policy"}
        # Elsewhere untouched.
        cluster.kubectl("create", "configmap", f"plain-{ns}", "-n", "default")
        assert "labels" not in json.loads(cluster.kubectl("get", "configmap", f"plain-{ns}", "-n", "default", "-o", "json").stdout)["metadata"]
        cluster.kubectl("delete", "configmap", f"plain-{ns}", "-n", "default")
    finally:
        cluster.kubectl("delete", "mutatingadmissionpolicybinding", f"labeller-{ns}", "--ignore-not-found")
        cluster.kubectl("delete", "mutatingadmissionpolicy", f"labeller-{ns}", "--ignore-not-found")


def test_policies_whose_expressions_do_not_compile_are_refused(cluster):
    policy, _ = policy_objects("bad", ["Deny"])
    policy["spec"]["validations"] = [{"expression": "object.spec.replicas <="}]
    r = cluster.kubectl("create", "-f", "-", input=json.dumps(policy), check=False)
    assert r.returncode != 0
    assert 'spec.validations[0].expression: Invalid value: "object.spec.replicas <=": compilation failed: ERROR: <input>:1:24:' in r.stderr
    _, binding = policy_objects("bad", ["Deny", "Warn"])
    r = cluster.kubectl("create", "-f", "-", input=json.dumps(binding), check=False)
    assert "must not contain both Deny and Warn" in r.stderr


def test_a_policy_sees_a_write_in_the_version_its_rules_name(cluster, ns):
    # Written for autoscaling/v2 (metrics); an HPA made through autoscaling/v1 is checked in its v2 form.
    policy = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": f"cpu-{ns}"},
              "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": ["autoscaling"], "apiVersions": ["v2"], "operations": ["CREATE"],
                                                               "resources": ["horizontalpodautoscalers"]}]},
                       "validations": [{"expression": "object.spec.metrics.all(m, m.resource.target.averageUtilization <= 80)",
                                        "messageExpression": "'seen as ' + object.apiVersion + ', made as ' + request.requestKind.version"}]}}
    binding = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": f"cpu-{ns}"},
               "spec": {"policyName": f"cpu-{ns}", "validationActions": ["Deny"],
                        "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}}}
    apply(cluster, policy)
    apply(cluster, binding)

    def hpa(name, percent):
        return json.dumps({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name},
                           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                                    "maxReplicas": 3, "targetCPUUtilizationPercentage": percent}})
    try:
        r = wait_for("the policy to refuse", lambda: (x := cluster.kubectl("create", "-n", ns, "-f", "-", input=hpa("busy", 95),
                                                                            check=False)).returncode != 0 and x)
        assert "denied request: seen as autoscaling/v2, made as v1" in r.stderr
        cluster.kubectl("create", "-n", ns, "-f", "-", input=hpa("calm", 50))
    finally:
        cluster.kubectl("delete", "validatingadmissionpolicybinding", f"cpu-{ns}", "--ignore-not-found")
        cluster.kubectl("delete", "validatingadmissionpolicy", f"cpu-{ns}", "--ignore-not-found")
