#!/usr/bin/env python3
"""Writes Sources/Resources/Generated/: upstream's OpenAPI definitions of the Kubernetes 1.37 API,
one Swift file per API group, from the schema PyPI's kubernetes-validate 1.37.0 publishes.

Run by hand when the API version changes; the output is committed (like the protobuf field table):

    python3 scripts/generate-schemas.py

kubernetes-validate ships the definitions as JSON Schema (`$defs`, nullable types, IntOrString and
Quantity as `oneOf`). They are turned back into upstream's OpenAPI v2 form, which is what Cubby's
schemas are written in: one type per schema, references by definition name, upstream's
`x-kubernetes-*` extensions kept. Only GA versions and what they reference are written: the
alpha and beta definitions describe resources Cubby does not serve."""
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path

VERSION = "1.37.0"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Sources" / "Resources" / "Generated"
DEFINITIONS = f"kubernetes_validate/kubernetes-json-schema/v{VERSION}-local/_definitions.json"
# Defaults upstream's OpenAPI carries (`+default=` in its Go types) that kubernetes-validate leaves
# out. Server-side apply needs them: a list-map key field an item leaves out takes its default, so
# an applied container port without a protocol is the live TCP one, not a second port.
DEFAULTS = {("io.k8s.api.core.v1.ContainerPort", "protocol"): "TCP", ("io.k8s.api.core.v1.ServicePort", "protocol"): "TCP"}


def download():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", f"kubernetes-validate=={VERSION}", "-d", tmp],
                       check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            return json.loads(z.read(DEFINITIONS))["$defs"]


def group_of(name):
    """The API group a definition belongs to, named as the Swift file is: core, apps, meta, ..."""
    parts = name.split(".")
    if name.startswith("io.k8s.api."):
        return parts[3]
    if name.startswith("io.k8s.apimachinery."):
        return "meta"
    if name.startswith("io.k8s.apiextensions-apiserver."):
        return "apiextensions"
    if name.startswith("io.k8s.kube-aggregator."):
        return "apiregistration"
    raise SystemExit(f"no group for {name}")


def is_ga(name):
    """GA definitions: a version segment like v1 or v2 (not v1beta1, v1alpha3), or API machinery."""
    if group_of(name) == "meta":
        return True
    return any(re.fullmatch(r"v\d+", p) for p in name.split(".")[:-1])


def convert(schema, name=None):
    """One JSON Schema node back to OpenAPI v2 as upstream serves it."""
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        out = {"$ref": schema["$ref"].removeprefix("#/$defs/")}
        if "description" in schema:
            out["description"] = schema["description"]
        return out
    if name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
        return {"description": schema.get("description", ""), "format": "int-or-string", "type": "string", "x-kubernetes-int-or-string": True}
    if name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
        return {"description": schema.get("description", ""), "type": "string"}
    if "oneOf" in schema:
        raise SystemExit(f"unexpected oneOf in {name}: {schema}")
    out = {}
    for key, value in schema.items():
        if key == "type":
            types = [t for t in (value if isinstance(value, list) else [value]) if t != "null"]
            if len(types) == 1:
                out["type"] = types[0]
            elif types:
                raise SystemExit(f"several types in {name}: {types}")
        elif key == "properties":
            props = {k: convert(v) for k, v in value.items()}
            # The converter pins apiVersion and kind with an enum; upstream's schema does not.
            for k in ("apiVersion", "kind"):
                if k in props and "enum" in props[k] and len(props[k]["enum"]) == 1:
                    del props[k]["enum"]
            out["properties"] = props
        elif key in ("items", "additionalProperties"):
            out[key] = convert(value)
        else:
            out[key] = value
    return out


def closure(defs, roots):
    """The definitions reachable from `roots` through references."""
    seen, queue = set(), list(roots)
    while queue:
        name = queue.pop()
        if name in seen:
            continue
        seen.add(name)
        queue += re.findall(r'"\$ref": "#/\$defs/([^"]+)"', json.dumps(defs[name]))
    return seen


def swift_file(group, definitions):
    # One definition a line, each its own literal: a change to the API shows as a change to that
    # line, and a definition's text is only read (and paged in) when it is first looked up. The
    # names come first, apart from the texts: reading every name at start then touches only them.
    names, texts = [], []
    for name, schema in definitions:
        text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
        if '"##' in text or "\\##" in text:
            raise SystemExit(f"{name} holds the raw string's delimiter; use a longer one")
        names.append(f"            {json.dumps(name)},")
        texts.append(f'            ##"{text}"##,')
    identifier = re.sub(r"[^A-Za-z0-9]", "_", group)
    return (f"// Generated by scripts/generate-schemas.py from kubernetes-validate {VERSION} "
            "(upstream's OpenAPI definitions); do not edit.\n\n"
            "extension UpstreamSchemas {\n"
            f"    static let {identifier} = Group(\n        names: [\n" + "\n".join(names) + "\n        ],\n"
            "        texts: [\n" + "\n".join(texts) + "\n        ])\n}\n")


def main():
    defs = download()
    wanted = closure(defs, [n for n in defs if is_ga(n)])
    by_group = defaultdict(list)
    for name in sorted(wanted):
        schema = convert(defs[name], name)
        for (owner, field), value in DEFAULTS.items():
            if owner == name:
                schema["properties"][field]["default"] = value
        by_group[group_of(name)].append((name, schema))
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("UpstreamSchemas+*.swift"):
        old.unlink()
    for group, definitions in sorted(by_group.items()):
        (OUT / f"UpstreamSchemas+{group}.swift").write_text(swift_file(group, definitions))
    groups = ", ".join(f"{re.sub(r'[^A-Za-z0-9]', '_', g)}" for g in sorted(by_group))
    (OUT / "UpstreamSchemas+groups.swift").write_text(
        f"// Generated by scripts/generate-schemas.py from kubernetes-validate {VERSION}; do not edit.\n\n"
        f"extension UpstreamSchemas {{\n    static let groups: [Group] = [{groups}]\n}}\n")
    print(f"{len(wanted)} definitions of {len(defs)} in {len(by_group)} groups written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
