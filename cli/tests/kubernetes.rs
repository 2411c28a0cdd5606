//! deploy/kubernetes/ is what `crm-cli deploy kubernetes` makes of spin.toml
//! and deploy/topology.toml, and every object in it is valid offline: the
//! SpinApps against our schema of SpinKube's SpinApp
//! (tests/kubernetes/spinapp.schema.yaml), the rest against
//! Kubernetes' schemas (tests/kubernetes/validate.py, in the virtual
//! environment `scripts/test` installs from tests/kubernetes/requirements.txt).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("a directory")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn validate(files: &[PathBuf]) -> Output {
    let python = root().join("target/kubernetes-validate/bin/python");
    assert!(
        python.exists(),
        "{} is missing: scripts/test installs tests/kubernetes/requirements.txt there",
        python.display()
    );
    Command::new(python)
        .arg(root().join("tests/kubernetes/validate.py"))
        .args(files)
        .output()
        .expect("run validate.py")
}

#[test]
fn the_committed_manifests_are_what_the_cli_generates() {
    let out = tempfile::tempdir().unwrap();
    let generated = Command::new(env!("CARGO_BIN_EXE_crm-cli"))
        .current_dir(root())
        .args([
            "deploy",
            "kubernetes",
            "--topology",
            "deploy/topology.toml",
            "-o",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let committed = yaml_files(&root().join("deploy/kubernetes"));
    let fresh = yaml_files(out.path());
    let names = |files: &[PathBuf]| -> Vec<String> {
        files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names(&committed), names(&fresh));
    for (committed, fresh) in committed.iter().zip(&fresh) {
        assert_eq!(
            std::fs::read(committed).unwrap(),
            std::fs::read(fresh).unwrap(),
            "{} differs: run `crm-cli deploy kubernetes`",
            committed.display()
        );
    }
}

#[test]
fn every_committed_object_is_valid() {
    let files = yaml_files(&root().join("deploy/kubernetes"));
    let verdict = validate(&files);
    let report = String::from_utf8_lossy(&verdict.stdout);
    assert!(
        verdict.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&verdict.stderr)
    );
    // Each file's objects were checked: the SpinApps, HPAs, Secret, Ingress.
    for kind in ["SpinApp", "HorizontalPodAutoscaler", "Secret", "Ingress"] {
        assert!(
            report.contains(&format!("{kind} ")),
            "no {kind} in {report}"
        );
    }
}

#[test]
fn the_validation_refuses_what_a_cluster_would() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        concat!(
            "apiVersion: core.spinkube.dev/v1alpha1\nkind: SpinApp\nmetadata: {name: x}\n",
            "spec: {executor: e, image: i, components: [], replica: 2}\n---\n",
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\n",
            "spec: {rules: [{http: {paths: [{path: /a, pathType: Prefix, backend: {service: {name: s, port: {number: eighty}}}}]}}]}\n",
        ),
    )
    .unwrap();
    let verdict = validate(&[bad]);
    let report = String::from_utf8_lossy(&verdict.stdout);
    assert!(!verdict.status.success(), "{report}");
    for expected in [
        "should be non-empty",
        "'replica' was unexpected",
        "'eighty' is not of type",
    ] {
        assert!(report.contains(expected), "{expected} not in {report}");
    }
}
