//! Bad manifests and bad start-up input make `crm-host up` exit non-zero with
//! a message naming the culprit; `crm-host build` runs every component's
//! build command and stops at the first failure.

use crm_tests::conformance::*;

/// A valid one-component app with `component` spliced into the component
/// table and `top` appended at the end.
fn app_with(component_extra: &str, top: &str) -> AppDir {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "comp");
    manifest += &probe("comp", component_extra);
    manifest += top;
    AppDir::new(&manifest)
}

fn refused_with(app: &AppDir, needles: &[&str]) {
    assert_refused(&start_failure(app, &[]), needles);
}

#[test]
fn the_baseline_manifest_starts() {
    // Guards the cases below: each differs from this one in one way only.
    let app = app_with("", "");
    let host = start(&app, &[]);
    assert_eq!(host.get("/").status, 200);
}

#[test]
fn a_directory_given_to_from_finds_its_spin_toml() {
    let app = app_with("", "");
    let dir = app.path().to_str().unwrap().to_string();
    let all = cache_args(&[]);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let host = Host::start(std::path::Path::new(&dir), &all, &[]);
    assert_eq!(host.get("/").status, 200);
}

#[test]
fn an_unknown_component_field_is_refused() {
    refused_with(&app_with("sourcee = \"x.wasm\"", ""), &["sourcee"]);
}

#[test]
fn an_unknown_top_level_field_is_refused() {
    refused_with(
        &app_with("", "\n[unexpected_table]\nx = 1\n"),
        &["unexpected_table"],
    );
}

#[test]
fn an_unknown_application_field_is_refused() {
    let manifest = HEADER.replace("[application]\n", "[application]\nnmae = \"typo\"\n")
        + &trigger("/...", "comp")
        + &probe("comp", "");
    refused_with(&AppDir::new(&manifest), &["nmae"]);
}

#[test]
fn a_missing_source_file_is_refused() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "comp");
    manifest += "\n[component.comp]\nsource = \"target/does-not-exist.wasm\"\n";
    refused_with(&AppDir::new(&manifest), &["does-not-exist.wasm"]);
}

#[test]
fn a_source_that_is_not_a_component_is_refused() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "comp");
    manifest += "\n[component.comp]\nsource = \"garbage.wasm\"\n";
    let app = AppDir::new(&manifest);
    app.write("garbage.wasm", "this is not wasm");
    refused_with(&app, &["comp"]);
}

#[test]
fn a_trigger_naming_an_unknown_component_is_refused() {
    let app = app_with("", &trigger("/other", "ghost-component"));
    refused_with(&app, &["ghost-component"]);
}

#[test]
fn a_bad_route_is_refused() {
    for route in ["/a/.../b", "/x/....", "/a//b"] {
        let mut manifest = HEADER.to_string();
        manifest += &trigger(route, "comp");
        manifest += &probe("comp", "");
        refused_with(&AppDir::new(&manifest), &[route]);
    }
}

#[test]
fn a_route_without_leading_slash_is_made_absolute_like_spin() {
    // Spin accepts `route = "plain"` and serves it at `/plain`.
    let mut manifest = HEADER.to_string();
    manifest += &trigger("plain", "comp");
    manifest += &probe("comp", "");
    let app = AppDir::new(&manifest);
    let host = start(&app, &[]);
    let reply = host.get("/plain");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["headers"]["spin-matched-route"], "/plain");
    let banner = host.stdout.lines().join("\n");
    assert!(
        banner.contains(&format!("comp: {}/plain", host.base)),
        "{banner}"
    );
}

#[test]
fn a_trigger_without_route_is_refused() {
    let mut manifest = HEADER.to_string();
    manifest += "\n[[trigger.http]]\ncomponent = \"comp\"\n";
    manifest += &probe("comp", "");
    refused_with(&AppDir::new(&manifest), &["route"]);
}

#[test]
fn a_bad_outbound_host_is_refused() {
    for host in [
        "example.com",
        "http://exa*mple.com",
        "http://example.com/path",
        "http://example.com:99999",
    ] {
        let app = app_with(&format!("allowed_outbound_hosts = [\"{host}\"]"), "");
        refused_with(&app, &["comp", host]);
    }
}

#[test]
fn manifest_version_1_is_refused() {
    let manifest = r#"spin_manifest_version = "1"
name = "old"
version = "0.1.0"
trigger = { type = "http", base = "/" }

[[component]]
id = "comp"
source = "x.wasm"
[component.trigger]
route = "/..."
"#;
    refused_with(&AppDir::new(manifest), &["version"]);
    let legacy = manifest.replace("spin_manifest_version = \"1\"", "spin_version = \"1\"");
    refused_with(&AppDir::new(&legacy), &["version"]);
}

#[test]
fn a_missing_manifest_version_is_refused() {
    let manifest = HEADER.replace("spin_manifest_version = 2\n", "")
        + &trigger("/...", "comp")
        + &probe("comp", "");
    refused_with(&AppDir::new(&manifest), &["spin_manifest_version"]);
}

#[test]
fn invalid_toml_is_refused() {
    let manifest = HEADER.to_string() + "\n[component.comp\nsource = \n";
    let app = AppDir::new(&manifest);
    let failure = start_failure(&app, &[]);
    assert_refused(&failure, &["spin.toml"]);
    assert!(
        failure.stderr.to_ascii_lowercase().contains("toml"),
        "{}",
        failure.stderr
    );
}

#[test]
fn an_invalid_component_id_is_refused() {
    let mut manifest = HEADER.to_string();
    manifest += &trigger("/...", "Bad_Id");
    manifest += "\n[component.Bad_Id]\nsource = \"{wasm:guest_probe}\"\n";
    refused_with(&AppDir::new(&manifest), &["Bad_Id"]);
}

#[test]
fn an_unsupported_trigger_type_is_refused() {
    let app = app_with(
        "",
        "\n[[trigger.redis]]\nchannel = \"x\"\ncomponent = \"comp\"\n",
    );
    // Names the offending trigger's content.
    refused_with(&app, &["channel"]);
}

#[test]
fn a_missing_manifest_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here.toml");
    let failure = crm_tests::start_failure(&missing, &[]);
    assert_refused(&failure, &["nothing-here.toml"]);
}

#[test]
fn a_bad_runtime_config_is_refused() {
    let app = app_with("", "");
    app.write(
        "rc.toml",
        "[key_value_store.x]\ntype = \"redis-cluster-of-dreams\"\n",
    );
    let rc = app.path().join("rc.toml");
    assert_refused(
        &start_failure(&app, &["--runtime-config-file", rc.to_str().unwrap()]),
        &["redis-cluster-of-dreams"],
    );
    let missing = app.path().join("no-rc.toml");
    assert_refused(
        &start_failure(&app, &["--runtime-config-file", missing.to_str().unwrap()]),
        &["no-rc.toml"],
    );
}

#[test]
fn an_unusable_listen_address_is_refused() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let app = app_with("", "");
    let failure = crm_tests::start_failure_listen(&app.manifest(), &addr);
    assert_refused(&failure, &[&addr]);
}

fn build_app(commands: &[(&str, &str, Option<&str>)]) -> AppDir {
    let mut manifest = HEADER.to_string();
    for (id, command, workdir) in commands {
        manifest += &trigger(&format!("/{id}"), id);
        manifest += &format!(
            "\n[component.{id}]\nsource = \"{id}.wasm\"\n[component.{id}.build]\ncommand = \"{command}\"\n"
        );
        if let Some(dir) = workdir {
            manifest += &format!("workdir = \"{dir}\"\n");
        }
    }
    AppDir::new(&manifest)
}

fn build(app: &AppDir) -> std::process::Output {
    std::process::Command::new(host_bin())
        .args(["build", "-f"])
        .arg(app.manifest())
        .output()
        .expect("run crm-host build")
}

#[test]
fn build_runs_every_command_in_the_right_directory() {
    let app = build_app(&[
        ("one", "pwd > built-one.txt", None),
        ("two", "pwd > built-two.txt", Some("sub")),
    ]);
    std::fs::create_dir(app.path().join("sub")).unwrap();
    let output = build(&app);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let one = std::fs::read_to_string(app.path().join("built-one.txt"))
        .expect("one built in the manifest dir");
    let one = std::path::Path::new(one.trim()).canonicalize().unwrap();
    assert_eq!(one, app.path().canonicalize().unwrap());
    assert!(
        app.path().join("sub/built-two.txt").is_file(),
        "two built in its workdir"
    );
}

#[test]
fn build_stops_at_the_first_failure() {
    let app = build_app(&[
        ("aaa", "exit 3", None),
        ("zzz", "touch built-zzz.txt", None),
    ]);
    let output = build(&app);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("aaa"), "{stderr}");
    assert!(
        !app.path().join("built-zzz.txt").exists(),
        "the build went on after a failure"
    );
}
