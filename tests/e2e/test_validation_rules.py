"""CRD validation rules (x-kubernetes-validations, CEL) as upstream enforces them: on create and update, with the
rule's message or messageExpression, fieldPath and reason, transition rules against oldSelf on updates only, and a
CRD whose rule does not compile refused when it is written."""
import json

import pytest

from conftest import wait_for

GROUP = "rules.cubby.test"


def crd(plural, kind, spec_schema, root_rules=()):
    root = {"type": "object", "properties": {"spec": spec_schema}}
    if root_rules:
        root["x-kubernetes-validations"] = list(root_rules)
    return json.dumps({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {"group": GROUP, "scope": "Namespaced", "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": kind + "List"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": root}}]}})


GIZMO = {"type": "object",
         "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}, "replicas": {"type": "integer",
                        "x-kubernetes-validations": [{"rule": "self >= oldSelf", "message": "replicas may not decrease"}]},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "ratio": {"type": "number"}},
         "x-kubernetes-validations": [
             {"rule": "self.min <= self.max"},
             {"rule": "!has(self.tags) || self.tags.all(t, t.size() <= 5)", "messageExpression": "'tags must be at most 5 characters: ' + self.tags.join(', ')"},
             {"rule": "!has(self.ratio) || self.ratio < 1.0", "message": "ratio must be below 1", "fieldPath": ".ratio", "reason": "FieldValueForbidden"},
         ]}


@pytest.fixture(scope="module")
def gizmos(cluster):
    cluster.kubectl("apply", "-f", "-", input=crd("gizmos", "Gizmo", GIZMO, root_rules=[
        {"rule": "self.metadata.name.startsWith('g')", "message": "names start with g"}]))
    cluster.kubectl("wait", "--for=condition=Established", f"crd/gizmos.{GROUP}", "--timeout=30s")
    wait_for("gizmos served", lambda: cluster.kubectl("get", "gizmos", check=False).returncode == 0)
    yield
    cluster.kubectl("delete", "crd", f"gizmos.{GROUP}")


def gizmo(name, **spec):
    return json.dumps({"apiVersion": f"{GROUP}/v1", "kind": "Gizmo", "metadata": {"name": name}, "spec": spec})


def test_a_rule_refuses_what_it_does_not_hold_for_with_upstreams_message(cluster, ns, gizmos):
    r = cluster.kubectl("create", "-n", ns, "-f", "-", input=gizmo("g1", min=9, max=2), check=False)
    assert r.returncode != 0
    assert r.stderr.strip() == ('The Gizmo "g1" is invalid: spec: Invalid value: "object": failed rule: self.min <= self.max')
    cluster.kubectl("create", "-n", ns, "-f", "-", input=gizmo("g1", min=2, max=9))
    # On an update too.
    r = cluster.kubectl("patch", "gizmo", "g1", "-n", ns, "--type=merge", "-p", '{"spec":{"min":10}}', check=False)
    assert 'spec: Invalid value: "object": failed rule: self.min <= self.max' in r.stderr


def test_messages_field_paths_reasons_and_root_rules(cluster, ns, gizmos):
    r = cluster.kubectl("create", "-n", ns, "-f", "-", input=gizmo("g2", min=1, max=2, tags=["ok", "toolong"]), check=False)
    assert 'spec: Invalid value: "object": tags must be at most 5 characters: ok, toolong' in r.stderr
    r = cluster.kubectl("create", "-n", ns, "-f", "-", input=gizmo("g2", min=1, max=2, ratio=1.5), check=False)
    assert "spec.ratio: Forbidden: ratio must be below 1" in r.stderr
    r = cluster.kubectl("create", "-n", ns, "-f", "-", input=gizmo("x2", min=1, max=2), check=False)
    assert '<nil>: Invalid value: "object": names start with g' in r.stderr
    # Several failures are all reported.
    r = cluster.kubectl("create", "-n", ns, "-f", "-", input=gizmo("x3", min=3, max=2, ratio=2.0), check=False)
    assert "names start with g" in r.stderr and "failed rule: self.min <= self.max" in r.stderr and "ratio must be below 1" in r.stderr


def test_transition_rule_refuses_a_decrease_on_update_only(cluster, ns, gizmos):
    # Created with any value: a transition rule has no old value to compare with.
    cluster.kubectl("create", "-n", ns, "-f", "-", input=gizmo("g3", min=1, max=2, replicas=5))
    r = cluster.kubectl("patch", "gizmo", "g3", "-n", ns, "--type=merge", "-p", '{"spec":{"replicas":3}}', check=False)
    assert r.returncode != 0
    assert 'The Gizmo "g3" is invalid: spec.replicas: Invalid value: "integer": replicas may not decrease' in r.stderr
    cluster.kubectl("patch", "gizmo", "g3", "-n", ns, "--type=merge", "-p", '{"spec":{"replicas":7}}')
    assert json.loads(cluster.kubectl("get", "gizmo", "g3", "-n", ns, "-o", "json").stdout)["spec"]["replicas"] == 7


def test_a_crd_whose_rule_does_not_compile_is_refused(cluster):
    bad = {"type": "object", "properties": {"a": {"type": "integer"}}, "x-kubernetes-validations": [{"rule": "self.a >"}]}
    r = cluster.kubectl("create", "-f", "-", input=crd("broken", "Broken", bad), check=False)
    assert r.returncode != 0
    assert 'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: ' \
           'apiextensions.ValidationRule{Rule:"self.a >"' in r.stderr
    assert "compilation failed: ERROR: <input>:1:9: Syntax error: mismatched input '<EOF>'" in r.stderr
    undeclared = {"type": "object", "x-kubernetes-validations": [{"rule": "other.a == 1"}]}
    r = cluster.kubectl("create", "-f", "-", input=crd("broken", "Broken", undeclared), check=False)
    assert "compilation failed: ERROR: <input>:1:1: undeclared reference to 'other'" in r.stderr


def test_a_rule_that_could_cost_too_much_is_refused_until_the_schema_bounds_it(cluster):
    # Every name against every other: quadratic in a list nothing bounds.
    def names(**bounds):
        items = {"type": "string", **({"maxLength": bounds["maxLength"]} if "maxLength" in bounds else {})}
        return {"type": "object", "properties": {"names": {
            "type": "array", "items": items, **({"maxItems": bounds["maxItems"]} if "maxItems" in bounds else {}),
            "x-kubernetes-validations": [{"rule": "self.all(x, self.exists_one(y, x == y))", "message": "names are unique"}]}}}

    r = cluster.kubectl("create", "-f", "-", input=crd("priceys", "Pricey", names()), check=False)
    assert r.returncode != 0
    rule = "spec.validation.openAPIV3Schema.properties[spec].properties[names].x-kubernetes-validations[0].rule"
    advice = "(try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
    assert f"{rule}: Forbidden: estimated rule cost exceeds budget by factor of more than 100x {advice}" in r.stderr
    assert f"{rule}: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema" in r.stderr
    assert ("spec.validation.openAPIV3Schema: Forbidden: x-kubernetes-validations estimated rule cost total for entire "
            f"OpenAPIv3 schema exceeds budget by factor of more than 100x {advice}") in r.stderr
    assert cluster.kubectl("get", "crd", f"priceys.{GROUP}", check=False).returncode != 0

    # A rule on each item runs once per item: an unbounded list of unbounded strings is too much too.
    per_item = {"type": "object", "properties": {"names": {"type": "array", "items": {
        "type": "string", "x-kubernetes-validations": [{"rule": "self.contains('a string')"}]}}}}
    r = cluster.kubectl("create", "-f", "-", input=crd("priceys", "Pricey", per_item), check=False)
    assert ("properties[names].items.x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by "
            "factor of more than 100x") in r.stderr

    # Bounded as the message advises, the same rule is accepted and runs.
    cluster.kubectl("create", "-f", "-", input=crd("priceys", "Pricey", names(maxItems=50, maxLength=63)))
    try:
        cluster.kubectl("wait", "--for=condition=Established", f"crd/priceys.{GROUP}", "--timeout=30s")
        wait_for("pricey served", lambda: cluster.kubectl("get", "priceys", check=False).returncode == 0)
        obj = json.dumps({"apiVersion": f"{GROUP}/v1", "kind": "Pricey", "metadata": {"name": "p"}, "spec": {"names": ["a", "b", "a"]}})
        r = cluster.kubectl("create", "-n", "default", "-f", "-", input=obj, check=False)
        assert 'spec.names: Invalid value: "array": names are unique' in r.stderr
    finally:
        cluster.kubectl("delete", "crd", f"priceys.{GROUP}")
