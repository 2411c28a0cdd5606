//! Dependency composition on crm-host, with Spin 4's rules: a dependency
//! plugged by `path` or `{ component = ... }` and called; a dependency gets
//! none of its parent's configuration unless inherited (per dependency with
//! `inherit_configuration`, or all with `dependencies_inherit_configuration`);
//! two dependencies from one package, a dependency importing another
//! non-host function, a `{ component }` dependency with its own stores, and
//! the two inherit forms mixed are all refused at start.
//!
//! Guests: `guest-greeter` exports `crm-test:greeter/{greet,farewell}`,
//! `guest-counter` exports `crm-test:counter/count`, `guest-chained` exports
//! `greet` but imports `count`; `guest-greeter-client` imports `greet` and
//! `count`, `guest-pair-client` imports `greet` and `farewell`.

use crm_tests::conformance::*;
use std::sync::OnceLock;

const GREET: &str = "crm-test:greeter/greet@0.1.0";
const FAREWELL: &str = "crm-test:greeter/farewell@0.1.0";
const COUNT: &str = "crm-test:counter/count@0.1.0";

/// `[component.<id>]` running the greeter client with every capability
/// granted to the component itself; `deps` are the dependency table's lines.
fn client(id: &str, extra: &str, deps: &str) -> String {
    format!(
        r#"
[[trigger.http]]
route = "/{id}/..."
component = "{id}"

[component.{id}]
source = "{{wasm:guest_greeter_client}}"
key_value_stores = ["default"]
sqlite_databases = ["default"]
allowed_outbound_hosts = ["http://self"]
{extra}
[component.{id}.variables]
greeting = "{{{{ greeting }}}}"

[component.{id}.dependencies]
{deps}
"#
    )
}

fn greeter_dep(inherit: &str) -> String {
    format!(
        "\"{GREET}\" = {{ path = \"{{wasm:guest_greeter}}\"{inherit} }}\n\"{COUNT}\" = {{ path = \"{{wasm:guest_counter}}\" }}\n"
    )
}

const VARIABLES: &str = "\n[variables]\ngreeting = { default = \"hi-from-parent\" }\n";

fn host() -> &'static Host {
    static HOST: OnceLock<(Host, AppDir)> = OnceLock::new();
    &HOST
        .get_or_init(|| {
            let mut manifest = HEADER.to_string();
            manifest += VARIABLES;
            manifest += &trigger("/health-probe/...", "health-probe");
            manifest += &probe("health-probe", "");
            manifest += &client("plain", "", &greeter_dep(""));
            manifest += &client(
                "some",
                "",
                &greeter_dep(r#", inherit_configuration = ["key_value_stores", "allowed_outbound_hosts"]"#),
            );
            manifest += &client("all", "", &greeter_dep(", inherit_configuration = true"));
            manifest += &client("none", "", &greeter_dep(", inherit_configuration = false"));
            manifest += &client("component-wide", "dependencies_inherit_configuration = true\n", &greeter_dep(""));
            manifest += &client(
                "by-component",
                "",
                &format!("\"{GREET}\" = {{ component = \"greeter-leaf\" }}\n\"{COUNT}\" = {{ path = \"{{wasm:guest_counter}}\" }}\n"),
            );
            manifest += "\n[component.greeter-leaf]\nsource = \"{wasm:guest_greeter}\"\n";
            manifest += r#"
[[trigger.http]]
route = "/pair/..."
component = "pair"

[component.pair]
source = "{wasm:guest_pair_client}"

[component.pair.dependencies]
"crm-test:greeter@0.1.0" = { path = "{wasm:guest_greeter}" }
"#;
            let app = AppDir::new(&manifest);
            let host = start_shared(&app, &[]);
            (host, app)
        })
        .0
}

fn call(component: &str, query: &str) -> String {
    let reply = host().get(&format!("/{component}?{query}"));
    assert_eq!(reply.status, 200, "{component}?{query}: {}", reply.body);
    reply.body
}

fn try_capability(component: &str, what: &str, arg: &str) -> String {
    call(component, &format!("try={what}&arg={}", enc(arg)))
}

#[test]
fn a_path_dependency_is_plugged_and_called() {
    assert_eq!(call("plain", "name=ada"), "hello, ada (from greeter) #42");
}

#[test]
fn a_component_dependency_is_plugged_and_called() {
    assert_eq!(
        call("by-component", "name=bob"),
        "hello, bob (from greeter) #42"
    );
}

#[test]
fn a_package_dependency_satisfies_every_import_from_the_package() {
    assert_eq!(call("pair", ""), "hello, pair (from greeter) / bye, pair");
}

#[test]
fn a_dependency_inherits_nothing_by_default() {
    for component in ["plain", "none", "by-component"] {
        for what in ["kv", "sql", "sql3"] {
            assert_eq!(
                try_capability(component, what, "default"),
                "error:access-denied",
                "{component} {what}"
            );
        }
        let var = try_capability(component, "var", "greeting");
        assert!(var.starts_with("error:"), "{component}: {var}");
        assert!(!var.contains("hi-from-parent"), "{component}: {var}");
        // Spin's deny adapter answers outbound HTTP with this internal error.
        let fetch = try_capability(component, "fetch", "http://self/health-probe");
        assert!(
            fetch.starts_with("error:InternalError"),
            "{component}: {fetch}"
        );
        assert!(
            fetch.contains("wasi:http/outgoing-handler") && fetch.contains("is not permitted"),
            "{component}: {fetch}"
        );
    }
}

#[test]
fn inherit_configuration_lists_grant_just_those_parts() {
    assert_eq!(try_capability("some", "kv", "default"), "ok");
    assert_eq!(
        try_capability("some", "fetch", "http://self/health-probe"),
        "ok:200"
    );
    assert_eq!(
        try_capability("some", "sql", "default"),
        "error:access-denied"
    );
    assert_eq!(
        try_capability("some", "sql3", "default"),
        "error:access-denied"
    );
    let var = try_capability("some", "var", "greeting");
    assert!(var.starts_with("error:"), "{var}");
}

#[test]
fn inheriting_everything_grants_everything() {
    for component in ["all", "component-wide"] {
        assert_eq!(
            try_capability(component, "kv", "default"),
            "ok",
            "{component}"
        );
        assert_eq!(
            try_capability(component, "sql", "default"),
            "ok",
            "{component}"
        );
        assert_eq!(
            try_capability(component, "sql3", "default"),
            "ok",
            "{component}"
        );
        assert_eq!(
            try_capability(component, "var", "greeting"),
            "ok:hi-from-parent",
            "{component}"
        );
        assert_eq!(
            try_capability(component, "fetch", "http://self/health-probe"),
            "ok:200",
            "{component}"
        );
        // Inheriting does not widen the parent's own grants.
        assert_eq!(
            try_capability(component, "kv", "other"),
            "error:access-denied",
            "{component}"
        );
    }
}

fn refused(manifest: String, needles: &[&str]) {
    let app = AppDir::new(&manifest);
    assert_refused(&start_failure(&app, &[]), needles);
}

#[test]
fn two_dependencies_from_one_package_are_refused() {
    let mut manifest = HEADER.to_string();
    manifest += r#"
[[trigger.http]]
route = "/..."
component = "pair"

[component.pair]
source = "{wasm:guest_pair_client}"

[component.pair.dependencies]
"#;
    manifest += &format!(
        "\"{GREET}\" = {{ path = \"{{wasm:guest_greeter}}\" }}\n\"{FAREWELL}\" = {{ path = \"{{wasm:guest_greeter}}\" }}\n"
    );
    refused(manifest, &["crm-test:greeter"]);
}

#[test]
fn a_dependency_importing_another_non_host_function_is_refused() {
    let mut manifest = HEADER.to_string();
    manifest += VARIABLES;
    // The counter is there as the client's own dependency, but Spin does not
    // wire it into the chained dependency's import.
    manifest += &client(
        "chained",
        "",
        &format!(
            "\"{GREET}\" = {{ path = \"{{wasm:guest_chained}}\" }}\n\"{COUNT}\" = {{ path = \"{{wasm:guest_counter}}\" }}\n"
        ),
    );
    refused(manifest, &["crm-test:counter/count"]);
}

#[test]
fn an_unsatisfied_import_is_refused() {
    let mut manifest = HEADER.to_string();
    manifest += VARIABLES;
    manifest += &client(
        "lonely",
        "",
        &format!("\"{COUNT}\" = {{ path = \"{{wasm:guest_counter}}\" }}\n"),
    );
    refused(manifest, &["crm-test:greeter/greet"]);
}

#[test]
fn a_component_dependency_with_its_own_stores_is_refused() {
    let mut manifest = HEADER.to_string();
    manifest += VARIABLES;
    manifest += &client(
        "by-component",
        "",
        &format!(
            "\"{GREET}\" = {{ component = \"greeter-leaf\" }}\n\"{COUNT}\" = {{ path = \"{{wasm:guest_counter}}\" }}\n"
        ),
    );
    manifest += "\n[component.greeter-leaf]\nsource = \"{wasm:guest_greeter}\"\nkey_value_stores = [\"default\"]\n";
    refused(manifest, &["greeter-leaf"]);
}

#[test]
fn mixing_the_two_inherit_forms_is_refused() {
    let mut manifest = HEADER.to_string();
    manifest += VARIABLES;
    manifest += &client(
        "mixed",
        "dependencies_inherit_configuration = true\n",
        &greeter_dep(", inherit_configuration = [\"key_value_stores\"]"),
    );
    refused(manifest, &["mixed", "inherit_configuration"]);
}

#[test]
fn a_dependency_matching_no_import_is_refused() {
    let mut manifest = HEADER.to_string();
    manifest += VARIABLES;
    let deps =
        greeter_dep("") + "\"crm-test:nothing/here@0.1.0\" = { path = \"{wasm:guest_counter}\" }\n";
    manifest += &client("extra-dep", "", &deps);
    refused(manifest, &["crm-test:nothing/here"]);
}

#[test]
fn a_dependency_on_a_missing_component_is_refused() {
    let mut manifest = HEADER.to_string();
    manifest += VARIABLES;
    manifest += &client(
        "dangling",
        "",
        &format!(
            "\"{GREET}\" = {{ component = \"no-such-leaf\" }}\n\"{COUNT}\" = {{ path = \"{{wasm:guest_counter}}\" }}\n"
        ),
    );
    refused(manifest, &["no-such-leaf"]);
}
