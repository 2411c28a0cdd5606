//! Variables on crm-host (`fermyon:spin/variables@2.0.0`): app `[variables]`
//! with defaults, `--variable` (also `@file`), `SPIN_VARIABLE_*`, their order,
//! templates in component variables, required and secret variables; and
//! `spin:variables/variables@3.0.0` through its own guest (`spin-sdk` 5.2 has
//! no binding for it).

use crm_tests::conformance::*;

const VARIABLES: &str = r#"
[variables]
plain = { default = "dflt" }
from_cli = { default = "cli-default" }
from_file = { default = "file-default" }
from_env = { default = "env-default" }
cli_beats_env = { default = "x" }
secret_token = { required = true, secret = true }
unused_by_component = { default = "hidden" }
"#;

fn manifest() -> String {
    let mut manifest = HEADER.to_string();
    manifest += VARIABLES;
    manifest += &trigger("/...", "vars");
    manifest += &probe(
        "vars",
        r#"[component.vars.variables]
plain = "{{ plain }}"
combo = "a-{{ plain }}-b-{{from_cli}}"
literal = "just text"
from_cli = "{{ from_cli }}"
from_file = "{{ from_file }}"
from_env = "{{ from_env }}"
cli_beats_env = "{{ cli_beats_env }}"
token = "{{ secret_token }}"
"#,
    );
    manifest
}

fn var(host: &Host, name: &str) -> Value {
    let reply = host.get(&format!("/?op=var&name={name}"));
    assert_eq!(reply.status, 200, "{name}: {}", reply.body);
    reply.json()
}

#[test]
fn values_come_from_flags_then_environment_then_defaults() {
    let app = AppDir::new(&manifest());
    app.write("vars.txt", "# a comment\nfrom_file=from-the-file\n\n");
    let file = format!("@{}", app.path().join("vars.txt").display());
    let host = start_env(
        &app,
        &[
            "--variable",
            "from_cli=from-the-flag",
            "--variable",
            &file,
            "--variable",
            "cli_beats_env=flag",
            "--variable",
            "secret_token=s3cr3t-t0ken",
        ],
        &[
            ("SPIN_VARIABLE_FROM_ENV", "from-the-env"),
            ("SPIN_VARIABLE_CLI_BEATS_ENV", "env"),
        ],
    );
    assert_eq!(var(&host, "plain"), json!({"ok": "dflt"}));
    assert_eq!(var(&host, "combo"), json!({"ok": "a-dflt-b-from-the-flag"}));
    assert_eq!(var(&host, "literal"), json!({"ok": "just text"}));
    assert_eq!(var(&host, "from_cli"), json!({"ok": "from-the-flag"}));
    assert_eq!(var(&host, "from_file"), json!({"ok": "from-the-file"}));
    assert_eq!(var(&host, "from_env"), json!({"ok": "from-the-env"}));
    assert_eq!(var(&host, "cli_beats_env"), json!({"ok": "flag"}));
    assert_eq!(var(&host, "token"), json!({"ok": "s3cr3t-t0ken"}));
    // Only component variables are visible, not app variables by themselves.
    let hidden = var(&host, "unused_by_component");
    assert!(
        hidden["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("undefined")),
        "{hidden}"
    );
    let missing = var(&host, "nope");
    assert!(
        missing["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("undefined")),
        "{missing}"
    );
    let invalid = var(&host, "Not-Valid");
    assert!(
        invalid["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("invalid-name")),
        "{invalid}"
    );
    // A secret's value is never printed by the host.
    let output = [host.stdout.lines(), host.stderr.lines()]
        .concat()
        .join("\n");
    assert!(!output.contains("s3cr3t-t0ken"), "secret leaked:\n{output}");
}

#[test]
fn the_environment_fills_a_required_variable() {
    let app = AppDir::new(&manifest());
    let host = start_env(&app, &[], &[("SPIN_VARIABLE_SECRET_TOKEN", "env-token")]);
    assert_eq!(var(&host, "token"), json!({"ok": "env-token"}));
    assert_eq!(var(&host, "from_cli"), json!({"ok": "cli-default"}));
}

#[test]
fn a_missing_required_variable_fails_the_start() {
    let app = AppDir::new(&manifest());
    let failure = start_failure(&app, &[]);
    assert_refused(&failure, &["secret_token"]);
}

#[test]
fn a_template_naming_an_undeclared_variable_fails_the_start() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "vars");
    manifest += &probe(
        "vars",
        "[component.vars.variables]\nx = \"{{ not_declared }}\"\n",
    );
    let app = AppDir::new(&manifest);
    assert_refused(&start_failure(&app, &[]), &["not_declared"]);
}

#[test]
fn a_variable_with_both_default_and_required_is_refused() {
    let mut manifest = HEADER.to_string();
    manifest += "\n[variables]\nboth = { default = \"x\", required = true }\n";
    manifest += &trigger("/...", "vars");
    manifest += &probe("vars", "");
    let app = AppDir::new(&manifest);
    assert_refused(&start_failure(&app, &[]), &["both"]);
}

#[test]
fn a_bad_variable_flag_is_refused() {
    let app = AppDir::new(&manifest());
    assert_refused(
        &start_failure(&app, &["--variable", "no-equals-sign"]),
        &["no-equals-sign"],
    );
}

#[test]
fn variables_3_0_answers_like_2_0() {
    // `spin:variables/variables@3.0.0`, through `guest-vars3` (its `get` is a
    // component-model `async func`, called with `wit_bindgen::block_on`).
    let mut manifest = HEADER.to_string();
    manifest += "\n[variables]\nregion = { default = \"eu-west\" }\n";
    manifest += &trigger("/...", "vars3");
    manifest += "\n[component.vars3]\nsource = \"{wasm:guest_vars3}\"\n[component.vars3.variables]\nregion = \"{{ region }}\"\n";
    let app = AppDir::new(&manifest);
    let host = start(&app, &["--variable", "region=ap-south"]);
    assert_eq!(host.get("/?name=region").body, "ok:ap-south");
    assert_eq!(host.get("/?name=nope").body, "error:undefined");
    assert_eq!(host.get("/?name=Bad-Name").body, "error:invalid-name");
}
