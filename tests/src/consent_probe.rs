//! `guest-consent-probe` as a component of the app: another component that
//! imports `crm:consent/decisions`, composed with the `consent-leaf` as
//! the app's components are. Append [`MANIFEST`] to
//! [`app_manifest`](crate::app_manifest).

pub const MANIFEST: &str = r#"
[[trigger.http]]
route = "/probe/..."
component = "consent-probe"

[component.consent-probe]
source = "{wasm:guest_consent_probe}"
sqlite_databases = ["default"]
[component.consent-probe.dependencies]
"crm:consent/decisions@0.1.0" = { path = "{wasm:consent_leaf}", inherit_configuration = ["sqlite_databases"] }
"#;
