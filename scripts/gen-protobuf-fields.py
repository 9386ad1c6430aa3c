#!/usr/bin/env python3
"""Regenerates Sources/APIMachinery/Protobuf/ProtobufFieldTable.swift: the field numbers of the
Kubernetes protobuf messages, so the API server can read the protobuf bodies typed clients
(kubectl create namespace|deployment|..., client-go) send.

Field numbers never change upstream, so the table is taken from the gzipped FileDescriptorProtos
that older Go binaries (here Debian's kubectl 1.20) still carry, then completed by hand with the
fields added since (scripts/protobuf-fields-since-1.20.txt). Run once by a developer, not in CI:

    apt-get download kubernetes-client && dpkg-deb -x kubernetes-client_*.deb /tmp/kc
    pip install protobuf
    python3 scripts/gen-protobuf-fields.py /tmp/kc/usr/bin/kubectl > Sources/APIMachinery/Protobuf/ProtobufFieldTable.swift
"""
import os
import re
import sys
import zlib

from google.protobuf import descriptor_pb2

# Packages we serve (or will), as proto package -> our short name. Groups that were still beta
# in 1.20 are taken from their beta package: the messages moved to v1 with the same numbers.
PACKAGES = {
    "k8s.io.api.core.v1": "core.v1",
    "k8s.io.api.apps.v1": "apps.v1",
    "k8s.io.api.batch.v1": "batch.v1",
    "k8s.io.api.batch.v1beta1": "batch.v1",            # CronJob, JobTemplateSpec
    "k8s.io.api.rbac.v1": "rbac.v1",
    "k8s.io.api.coordination.v1": "coordination.v1",
    "k8s.io.api.discovery.v1beta1": "discovery.v1",
    "k8s.io.api.events.v1": "events.v1",
    "k8s.io.api.storage.v1": "storage.v1",
    "k8s.io.api.authentication.v1": "authentication.v1",
    "k8s.io.api.authorization.v1": "authorization.v1",
    "k8s.io.api.autoscaling.v1": "autoscaling.v1",
    "k8s.io.api.autoscaling.v2beta2": "autoscaling.v2",  # v2 went GA (1.23) with v2beta2's messages
    "k8s.io.api.networking.v1": "networking.v1",
    "k8s.io.api.policy.v1beta1": "policy.v1",          # Eviction, PodDisruptionBudget
    "k8s.io.api.scheduling.v1": "scheduling.v1",
    "k8s.io.apimachinery.pkg.apis.meta.v1": "meta.v1",
    "k8s.io.apimachinery.pkg.api.resource": "resource",
    "k8s.io.apimachinery.pkg.util.intstr": "intstr",
    "k8s.io.apimachinery.pkg.runtime": "runtime",
    "k8s.io.apimachinery.pkg.runtime.schema": "schema",
}
# Only these messages come from a beta package (the rest of it is not served at v1).
FROM_BETA = {
    "batch.v1": {"CronJob", "CronJobList", "CronJobSpec", "CronJobStatus", "JobTemplateSpec"},
    "policy.v1": {"Eviction", "PodDisruptionBudget", "PodDisruptionBudgetList",
                  "PodDisruptionBudgetSpec", "PodDisruptionBudgetStatus"},
}
# Go structs embedded with `json:",inline"`: their fields appear in the parent's JSON. So is every
# LocalObjectReference held as a field named localObjectReference.
INLINE = {
    ("core.v1.Volume", "volumeSource"), ("core.v1.PersistentVolumeSpec", "persistentVolumeSource"),
    ("core.v1.Probe", "handler"), ("core.v1.EphemeralContainer", "ephemeralContainerCommon"),
    ("networking.v1.IngressRule", "ingressRuleValue"),
}
# gogoproto.nullable = false (extension 65001, varint 0) in a field's options: a Go value, not a
# pointer. Go always sends value scalars, zero or not, and omits zeros from JSON (omitempty).
NOT_NULLABLE = b"\xc8\xde\x1f\x00"
SCALARS = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 8: "bool", 9: "string",
           12: "bytes", 13: "uint32"}


def descriptors(binary):
    data = open(binary, "rb").read()
    seen = {}
    for m in re.finditer(b"\x1f\x8b\x08", data):
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[m.start():m.start() + 4_000_000])
            fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
        except Exception:
            continue
        if fd.package in PACKAGES and fd.package not in seen:
            seen[fd.package] = fd
    return seen


def short(type_name):
    pkg, _, msg = type_name.lstrip(".").rpartition(".")
    if pkg in PACKAGES:
        return PACKAGES[pkg] + "." + msg
    # A nested map entry: pkg is "<package>.<Message>".
    return short("." + pkg) + "." + msg


def main():
    files = descriptors(sys.argv[1])
    messages = {}
    maps = {}
    for pkg, fd in files.items():
        ours = PACKAGES[pkg]
        beta_only = FROM_BETA.get(ours) if pkg.endswith("beta1") else None
        for m in fd.message_type:
            if beta_only is not None and m.name not in beta_only:
                continue
            name = ours + "." + m.name
            for nested in m.nested_type:
                if nested.options.map_entry:
                    k, v = nested.field
                    maps[name + "." + nested.name] = (k, v)
            messages[name] = m
    out = []
    for name in sorted(messages):
        out.append(name)
        for f in messages[name].field:
            if f.type == 11:
                target = short(f.type_name)
                if target in maps:
                    k, v = maps[target]
                    value = short(v.type_name) if v.type == 11 else SCALARS[v.type]
                    kind = "map<%s,%s>" % (SCALARS[k.type], value)
                else:
                    kind = ("[]" if f.label == 3 else "") + target
            else:
                kind = ("[]" if f.label == 3 else "") + SCALARS[f.type]
                if f.label != 3 and NOT_NULLABLE not in f.options.SerializeToString():
                    kind += "?"  # a Go pointer: sent only when set, and then even when zero
            inline = (name, f.name) in INLINE or f.name == "localObjectReference"
            flag = " inline" if inline else ""
            out.append("  %d %s %s%s" % (f.number, f.name, kind, flag))
    table = "\n".join(out)
    supplement = os.path.join(os.path.dirname(__file__), "protobuf-fields-since-1.20.txt")
    extra = open(supplement).read().rstrip("\n") if os.path.exists(supplement) else ""
    print("""// Generated by scripts/gen-protobuf-fields.py; do not edit by hand.
// The Kubernetes protobuf messages we read, one per line, then its fields indented:
// number, JSON name, type ("[]" repeated, map<K,V>, another message, or a scalar, with "?" when
// the Go field is a pointer: zero is then a value the client chose, not an unset field; "inline" for
// Go structs embedded in the parent's JSON). Parsed once, on the first protobuf request.

extension ProtobufFields {
    static let table = \"\"\"
%s
%s
\"\"\"
}""" % (table, extra))


main()
