//! Composition tests on small components written in component-model WAT.

use super::*;
use std::collections::BTreeSet;

/// A component that imports each of `imports` (an instance with `get: func() -> u32`,
/// called from its core module), exports each of `exports` (an instance whose `get`
/// returns the given number) plus a function `run`, and declares `extra` (WAT
/// import declarations, unused).
fn component(imports: &[&str], exports: &[(&str, u32)], extra: &str) -> Vec<u8> {
    let mut wat = String::from("(component\n");
    wat.push_str(extra);
    for (i, name) in imports.iter().enumerate() {
        wat += &format!(
            "(import \"{name}\" (instance $imp{i} (export \"get\" (func (result u32)))))\n\
             (core func $low{i} (canon lower (func $imp{i} \"get\")))\n"
        );
    }
    wat.push_str("(core module $m\n");
    for i in 0..imports.len() {
        wat += &format!("(import \"imports\" \"i{i}\" (func $i{i} (result i32)))\n");
    }
    let mut body = String::from("i32.const 0\n");
    for i in 0..imports.len() {
        body += &format!("call $i{i}\ni32.add\n");
    }
    wat += &format!("(func (export \"run\") (result i32) {body})\n");
    for (i, (_, value)) in exports.iter().enumerate() {
        wat += &format!("(func (export \"e{i}\") (result i32) i32.const {value})\n");
    }
    wat.push_str(")\n(core instance $imports\n");
    for i in 0..imports.len() {
        wat += &format!("(export \"i{i}\" (func $low{i}))\n");
    }
    wat.push_str(")\n(core instance $i (instantiate $m (with \"imports\" (instance $imports))))\n");
    wat.push_str("(func $run (result u32) (canon lift (core func $i \"run\")))\n");
    wat.push_str("(export \"run\" (func $run))\n");
    for (i, (name, _)) in exports.iter().enumerate() {
        wat += &format!(
            "(func $e{i} (result u32) (canon lift (core func $i \"e{i}\")))\n\
             (instance $inst{i} (export \"get\" (func $e{i})))\n\
             (export \"{name}\" (instance $inst{i}))\n"
        );
    }
    wat.push_str(")\n");
    wat::parse_str(&wat).unwrap_or_else(|e| panic!("bad fixture: {e}\n{wat}"))
}

/// Validates `bytes` with the proposals wasmtime 48 enables by default
/// (component model async included, nothing beyond it).
fn validate_for_wasmtime(bytes: &[u8]) {
    use wasmparser::{Validator, WasmFeatures};
    let features = WasmFeatures::WASM3
        | WasmFeatures::GC_TYPES
        | WasmFeatures::COMPONENT_MODEL
        | WasmFeatures::CM_ASYNC;
    Validator::new_with_features(features)
        .validate_all(bytes)
        .unwrap_or_else(|e| panic!("not accepted by wasmtime's default features: {e}"));
}

/// Imports and exports of a component (validated first).
fn world(bytes: &[u8]) -> (BTreeSet<String>, BTreeSet<String>) {
    validate_for_wasmtime(bytes);
    let mut graph = CompositionGraph::new();
    let package = Package::from_bytes("test", None, bytes, graph.types_mut()).unwrap();
    let world = &graph.types()[package.ty()];
    (
        world.imports.keys().cloned().collect(),
        world.exports.keys().cloned().collect(),
    )
}

fn imports(bytes: &[u8]) -> BTreeSet<String> {
    world(bytes).0
}

fn dep(name: &str, source: Vec<u8>) -> Dependency {
    Dependency {
        name: name.into(),
        export: None,
        source,
        inherit: InheritConfiguration::None,
    }
}

const GREET: &str = "crm:test-a/greet@0.1.0";
const WAVE: &str = "crm:test-a/wave@0.1.0";
const AUDIT: &str = "crm:test-b/audit@0.1.0";
const OTHER: &str = "crm:test-u/other@0.1.0";

/// `fermyon:spin/variables@2.0.0` as a spin-sdk guest imports it.
const VARIABLES_2: &str = r#"
(import "fermyon:spin/variables@2.0.0" (instance
  (type $err (variant (case "invalid-name" string) (case "undefined" string)
                      (case "provider" string) (case "other" string)))
  (export "error" (type $e (eq $err)))
  (type $res (result string (error $e)))
  (export "get" (func (param "name" string) (result $res)))))
"#;

/// `spin:variables/variables@3.0.0` (an async function).
const VARIABLES_3: &str = r#"
(import "spin:variables/variables@3.0.0" (instance
  (type $err (variant (case "invalid-name" string) (case "undefined" string)
                      (case "provider" string) (case "other" string)))
  (export "error" (type $e (eq $err)))
  (type $res (result string (error $e)))
  (export "get" (func async (param "name" string) (result $res)))))
"#;

const ENVIRONMENT: &str = r#"
(import "wasi:cli/environment@0.2.6" (instance
  (export "get-environment" (func (result (list (tuple string string)))))
  (export "get-arguments" (func (result (list string))))
  (export "initial-cwd" (func (result (option string))))))
"#;

/// An older WASI minor-compatible version: the adapter's 0.2.6 export plugs it.
const ENVIRONMENT_0_2_3: &str = r#"
(import "wasi:cli/environment@0.2.3" (instance
  (export "get-arguments" (func (result (list string))))))
"#;

#[test]
fn deny_adapter_exports_exactly_the_capability_table() {
    let (adapter_imports, adapter_exports) = world(DENY_ADAPTER);
    let table: BTreeSet<String> = CAPABILITY_SETS
        .iter()
        .flat_map(|(_, interfaces)| interfaces.iter().map(|i| i.to_string()))
        .collect();
    assert_eq!(
        adapter_exports, table,
        "deny_adapter.wasm and CAPABILITY_SETS disagree; rebuild the adapter (deny-adapter/README.md)"
    );
    // It needs no Spin capability itself, only WASI: the resource types its
    // exports mention, and what the Rust standard library links in (stdio,
    // exit, and `wasi:cli/environment`, read for `RUST_BACKTRACE`; the
    // dependency still gets the adapter's empty environment).
    for import in &adapter_imports {
        assert!(import.starts_with("wasi:"), "adapter imports {import}");
        assert!(
            !table.contains(import) || import == "wasi:cli/environment@0.2.6",
            "adapter imports {import}"
        );
    }
    assert!(
        DENY_ADAPTER.len() < 256 * 1024,
        "deny adapter grew to {} bytes",
        DENY_ADAPTER.len()
    );
}

#[test]
fn capability_set_names_are_spins() {
    let names: Vec<&str> = CAPABILITY_SETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "ai_models",
            "allowed_outbound_hosts",
            "environment",
            "files",
            "key_value_stores",
            "sqlite_databases",
            "variables"
        ]
    );
}

#[test]
fn no_dependencies_returns_the_component_unchanged() {
    let parent = component(&[GREET], &[], "");
    assert_eq!(compose(&parent, &[]).unwrap(), parent);
}

#[test]
fn interface_dependency_satisfies_its_import_only() {
    let parent = component(&[GREET, OTHER], &[("crm:test-p/api@0.1.0", 1)], "");
    let leaf = component(&[], &[(GREET, 7)], "");
    let composed = compose(&parent, &[dep(GREET, leaf.clone())]).unwrap();
    // Deterministic, so a compiled-code cache keyed on the bytes hits.
    assert_eq!(compose(&parent, &[dep(GREET, leaf)]).unwrap(), composed);
    let (imports, exports) = world(&composed);
    assert!(!imports.contains(GREET), "{imports:?}");
    // An import no dependency satisfies stays for the host.
    assert!(imports.contains(OTHER), "{imports:?}");
    assert_eq!(exports, world(&parent).1);
}

#[test]
fn dependency_name_without_version_or_interface_matches_all_of_the_package() {
    let parent = component(&[GREET, WAVE, OTHER], &[], "");
    let leaf = component(&[], &[(GREET, 1), (WAVE, 2)], "");
    for name in ["crm:test-a", "crm:test-a@0.1.0"] {
        let composed = compose(&parent, &[dep(name, leaf.clone())]).unwrap();
        assert_eq!(
            imports(&composed),
            BTreeSet::from([OTHER.to_string()]),
            "{name}"
        );
    }
    // An interface without version matches that interface at any version.
    let composed = compose(&parent, &[dep("crm:test-a/wave", leaf.clone())]).unwrap();
    assert_eq!(
        imports(&composed),
        BTreeSet::from([GREET.to_string(), OTHER.to_string()])
    );
}

#[test]
fn plain_dependency_name_matches_plain_import() {
    let parent = component(&["greeter"], &[], "");
    let leaf = component(&[], &[("greeter", 3)], "");
    let composed = compose(&parent, &[dep("greeter", leaf)]).unwrap();
    assert!(imports(&composed).is_empty());
}

#[test]
fn dependency_matching_no_import_is_an_error() {
    let parent = component(&[GREET], &[], "");
    let leaf = component(&[], &[(GREET, 7)], "");
    for name in [
        "crm:test-a@0.2.0",
        "crm:test-a/greet@0.1.1",
        "crm:test-z/greet@0.1.0",
    ] {
        let err = compose(&parent, &[dep(name, leaf.clone())]).unwrap_err();
        assert!(
            matches!(&err, ComposeError::UnmatchedName { dependency } if dependency == name),
            "{err}"
        );
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn two_dependencies_from_one_package_are_refused() {
    let parent = component(&[GREET, WAVE], &[], "");
    let greet = component(&[], &[(GREET, 1)], "");
    let wave = component(&[], &[(WAVE, 2)], "");
    let err = compose(&parent, &[dep(GREET, greet), dep(WAVE, wave)]).unwrap_err();
    match &err {
        ComposeError::PackageAlreadyRegistered {
            dependency,
            package,
        } => {
            assert_eq!(dependency, WAVE);
            assert_eq!(package, "crm:test-a");
        }
        other => panic!("unexpected error: {other}"),
    }
    assert!(
        err.to_string()
            .contains("package `crm:test-a` has already been registered"),
        "{err}"
    );
}

#[test]
fn dependency_imports_are_not_satisfied_from_other_dependencies() {
    // The parent imports greet and audit; the greet leaf itself imports audit.
    let parent = component(&[GREET, AUDIT], &[], "");
    let greet = component(&[AUDIT], &[(GREET, 1)], "");
    let audit = component(&[], &[(AUDIT, 2)], "");
    let composed = compose(&parent, &[dep(GREET, greet), dep(AUDIT, audit)]).unwrap();
    // The parent's audit import is wired, but the greet leaf's is left for the
    // host (which then refuses to start the component, as Spin does).
    assert_eq!(imports(&composed), BTreeSet::from([AUDIT.to_string()]));
}

#[test]
fn export_names_the_dependency_export_to_use() {
    let parent = component(&[GREET], &[], "");
    let leaf = component(&[], &[("crm:test-x/hello@0.1.0", 5)], "");
    let mut d = dep(GREET, leaf.clone());
    d.export = Some("crm:test-x/hello@0.1.0".into());
    let composed = compose(&parent, &[d]).unwrap();
    assert!(imports(&composed).is_empty());

    // Without `export`, the import's own name is looked for.
    let err = compose(&parent, &[dep(GREET, leaf.clone())]).unwrap_err();
    assert!(
        matches!(&err, ComposeError::MissingExport { dependency, export, .. }
            if dependency == GREET && export == GREET),
        "{err}"
    );
    let mut d = dep(GREET, leaf);
    d.export = Some("crm:test-x/nope@0.1.0".into());
    let err = compose(&parent, &[d]).unwrap_err();
    assert!(err.to_string().contains("crm:test-x/nope@0.1.0"), "{err}");
}

#[test]
fn export_of_the_wrong_type_is_refused() {
    let parent = component(&[GREET], &[], "");
    // Exports the name, but its instance has `run`, not `get`.
    let wat = format!(
        r#"(component
            (core module $m (func (export "f") (result i32) i32.const 1))
            (core instance $i (instantiate $m))
            (func $f (result u32) (canon lift (core func $i "f")))
            (instance $x (export "run" (func $f)))
            (export "{GREET}" (instance $x)))"#
    );
    let leaf = wat::parse_str(&wat).unwrap();
    let err = compose(&parent, &[dep(GREET, leaf)]).unwrap_err();
    assert!(
        matches!(&err, ComposeError::IncompatibleExport { dependency, .. } if dependency == GREET),
        "{err}"
    );
}

#[test]
fn bad_names_and_sources_are_reported_with_the_dependency_name() {
    let parent = component(&[GREET], &[], "");
    let leaf = component(&[], &[(GREET, 1)], "");
    for name in [
        "crm:Test/greet",
        "crm/greet",
        "crm:test-a/greet@x",
        "Not_kebab",
        "",
    ] {
        let err = compose(&parent, &[dep(name, leaf.clone())]).unwrap_err();
        assert!(
            matches!(err, ComposeError::InvalidName { .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(&format!("`{name}`")), "{err}");
    }
    let err = compose(&parent, &[dep(GREET, b"\0asm\x01\0\0\0".to_vec())]).unwrap_err();
    assert!(
        matches!(&err, ComposeError::InvalidDependency { dependency, .. } if dependency == GREET),
        "{err}"
    );
    assert!(
        err.to_string().contains("not a WebAssembly component"),
        "{err}"
    );
    let core_module = wat::parse_str("(module)").unwrap();
    let err = compose(&core_module, &[dep(GREET, leaf.clone())]).unwrap_err();
    assert!(
        matches!(err, ComposeError::InvalidComponent { .. }),
        "{err}"
    );
    let err = compose(b"not wasm", &[dep(GREET, leaf)]).unwrap_err();
    assert!(
        matches!(err, ComposeError::InvalidComponent { .. }),
        "{err}"
    );
    // A component that does not parse.
    let mut broken = component(&[], &[(GREET, 1)], "");
    broken.truncate(broken.len() / 2);
    let err = compose(&parent, &[dep(GREET, broken)]).unwrap_err();
    assert!(
        matches!(&err, ComposeError::InvalidDependency { dependency, .. } if dependency == GREET),
        "{err}"
    );
}

/// Composes a parent importing GREET with a leaf exporting it that also
/// imports `extra`, with the given inheritance; returns the result's imports.
fn compose_leaf_importing(extra: &str, inherit: InheritConfiguration) -> BTreeSet<String> {
    let parent = component(&[GREET], &[], "");
    let leaf = component(&[], &[(GREET, 1)], extra);
    let mut d = dep(GREET, leaf);
    d.inherit = inherit;
    let composed = compose(&parent, &[d]).unwrap();
    let imports = imports(&composed);
    assert!(!imports.contains(GREET));
    imports
}

#[test]
fn capabilities_not_inherited_are_plugged_with_the_deny_adapter() {
    let extra = format!("{VARIABLES_2}{VARIABLES_3}{ENVIRONMENT}");
    let vars2 = "fermyon:spin/variables@2.0.0";
    let vars3 = "spin:variables/variables@3.0.0";
    let env = "wasi:cli/environment@0.2.6";

    let none = compose_leaf_importing(&extra, InheritConfiguration::None);
    // (`env` stays imported: the adapter itself imports it, see above.)
    for denied in [vars2, vars3] {
        assert!(!none.contains(denied), "{denied} left in {none:?}");
    }
    // Only WASI plumbing the adapter itself needs is left.
    assert!(none.iter().all(|i| i.starts_with("wasi:")), "{none:?}");

    let vars = compose_leaf_importing(
        &extra,
        InheritConfiguration::Some(vec!["variables".into(), "no-such-set".into()]),
    );
    assert!(vars.contains(vars2) && vars.contains(vars3), "{vars:?}");

    let all = compose_leaf_importing(&extra, InheritConfiguration::All);
    for inherited in [vars2, vars3, env] {
        assert!(all.contains(inherited), "{inherited} missing from {all:?}");
    }
}

#[test]
fn inheriting_everything_leaves_the_dependency_untouched() {
    let leaf = component(&[], &[(GREET, 1)], VARIABLES_2);
    assert_eq!(
        apply_deny_adapter(&leaf, &InheritConfiguration::All).unwrap(),
        leaf
    );
    // Nothing to deny: unchanged too.
    let plain = component(&[AUDIT], &[(GREET, 1)], "");
    assert_eq!(
        apply_deny_adapter(&plain, &InheritConfiguration::None).unwrap(),
        plain
    );
}

#[test]
fn deny_adapter_plugs_semver_compatible_imports() {
    let none = compose_leaf_importing(ENVIRONMENT_0_2_3, InheritConfiguration::None);
    assert!(!none.contains("wasi:cli/environment@0.2.3"), "{none:?}");
    let env = compose_leaf_importing(
        ENVIRONMENT_0_2_3,
        InheritConfiguration::Some(vec!["environment".into()]),
    );
    assert!(env.contains("wasi:cli/environment@0.2.3"), "{env:?}");
}

#[test]
fn dependency_names_parse_like_spins() {
    use DependencyName as N;
    let v = |s: &str| Some(Version::parse(s).unwrap());
    assert_eq!(N::parse("foo-bar"), Ok(N::Plain("foo-bar".into())));
    assert_eq!(
        N::parse("foo:bar/baz@0.1.0"),
        Ok(N::Package {
            package: "foo:bar".into(),
            interface: Some("baz".into()),
            version: v("0.1.0")
        })
    );
    for (dep, import) in [
        ("foo:bar/baz@0.1.0", "foo:bar/baz@0.1.0"),
        ("foo:bar/baz", "foo:bar/baz@0.1.0"),
        ("foo:bar/baz", "foo:bar/baz"),
        ("foo:bar", "foo:bar/baz@0.1.0"),
        ("foo:bar", "foo:bar/baz"),
        ("foo:bar@0.1.0", "foo:bar/baz@0.1.0"),
        ("foo-bar", "foo-bar"),
    ] {
        assert!(N::parse(dep).unwrap().matches(import), "{dep} ~ {import}");
    }
    for (dep, import) in [
        ("foo:bar/baz@0.1.0", "foo:bar/baz"),
        ("foo:bar/baz", "foo:bar/bub"),
        ("foo:bar/baz", "foo:bar/bub@0.1.0"),
        ("foo:bar", "foo:bub/bib"),
        ("foo:bar@0.1.0", "foo:bar/baz"),
        ("foo:bar/baz", "foo:bar/baz-bub"),
        ("foo:bar/baz", "foo-bar"),
        ("foo:bar@0.1.0", "foo:bar/baz@0.1.1"),
    ] {
        assert!(!N::parse(dep).unwrap().matches(import), "{dep} !~ {import}");
    }
}

#[test]
fn deny_plan_follows_inherit_configuration() {
    let leaf = component(
        &[],
        &[(GREET, 1)],
        &format!("{VARIABLES_2}{VARIABLES_3}{ENVIRONMENT}"),
    );
    let plugged = |inherit| -> BTreeSet<String> {
        plan_deny_adapter(&leaf, &inherit)
            .unwrap()
            .plugs
            .into_iter()
            .map(|(export, import)| {
                assert_eq!(export, import);
                import
            })
            .collect()
    };
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    let vars2 = "fermyon:spin/variables@2.0.0";
    let vars3 = "spin:variables/variables@3.0.0";
    let env = "wasi:cli/environment@0.2.6";
    assert_eq!(
        plugged(InheritConfiguration::None),
        set(&[vars2, vars3, env])
    );
    assert_eq!(
        plugged(InheritConfiguration::Some(vec![])),
        set(&[vars2, vars3, env])
    );
    assert_eq!(
        plugged(InheritConfiguration::Some(vec!["environment".into()])),
        set(&[vars2, vars3])
    );
    assert_eq!(
        plugged(InheritConfiguration::Some(vec![
            "variables".into(),
            "key_value_stores".into()
        ])),
        set(&[env])
    );
    assert_eq!(plugged(InheritConfiguration::All), set(&[]));

    // A capability import of an incompatible type is left to the host.
    let odd = component(
        &[],
        &[(GREET, 1)],
        r#"(import "fermyon:spin/variables@2.0.0" (instance (export "get" (func (result u32)))))"#,
    );
    assert!(
        plan_deny_adapter(&odd, &InheritConfiguration::None)
            .unwrap()
            .plugs
            .is_empty()
    );
}
