"""Validates Kubernetes manifests offline, strictly (an unknown field is an error,
as the API server's strict field validation makes it), with jsonschema:
SpinApps against spin-operator's CRD schema (core.spinkube.dev_spinapps.yaml
beside this file), every other object against Kubernetes' own JSON schemas
as the pinned kubernetes-validate package ships them.

Usage: validate.py FILE.yaml...; exits 1 naming each invalid object."""

import copy
import pathlib
import sys

import jsonschema
import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.34.0"
CRD = pathlib.Path(__file__).with_name("core.spinkube.dev_spinapps.yaml")


def strict(schema):
    """The schema with additionalProperties: false wherever it lists
    properties and neither allows more nor preserves unknown fields."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def spinapp_schema():
    crd = next(d for d in yaml.safe_load_all(CRD.read_text()) if d)
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    return strict(version["schema"]["openAPIV3Schema"])


def main(paths):
    spinapp = jsonschema.Draft7Validator(spinapp_schema())
    failures = 0
    for path in paths:
        for doc in yaml.safe_load_all(pathlib.Path(path).read_text()):
            name = f"{path}: {doc.get('kind')} {doc.get('metadata', {}).get('name')}"
            if doc.get("apiVersion") == "core.spinkube.dev/v1alpha1" and doc.get("kind") == "SpinApp":
                errors = [e.message for e in spinapp.iter_errors(doc)]
                # spin-operator's webhook: replicas are the autoscaler's.
                if doc["spec"].get("enableAutoscaling") and "replicas" in doc["spec"]:
                    errors.append("replicas cannot be set with enableAutoscaling")
            else:
                try:
                    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
                    errors = []
                except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as e:
                    errors = [str(getattr(e, "message", e))]
            for error in errors:
                print(f"{name}: {error}")
                failures += 1
            if not errors:
                print(f"{name}: valid")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
