"""Validates Kubernetes manifests offline, strictly (an unknown field is an error,
as the API server's strict field validation makes it), with jsonschema:
SpinApps against our own schema of SpinKube's SpinApp (spinapp.schema.yaml
beside this file, written from SpinKube's API reference), every other object
against Kubernetes' own JSON schemas as the pinned kubernetes-validate
package ships them.

Usage: validate.py FILE.yaml...; exits 1 naming each invalid object."""

import pathlib
import sys

import jsonschema
import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.34.0"
SPINAPP_SCHEMA = pathlib.Path(__file__).with_name("spinapp.schema.yaml")


def spinapp_schema():
    return yaml.safe_load(SPINAPP_SCHEMA.read_text())


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
