//! Variables (`fermyon:spin/variables@2.0.0` and
//! `spin:variables/variables@3.0.0`): app `[variables]`, a component's
//! `variables = { key = "{{ app_var }}" }` templates, and the providers that
//! give app variables their values, in Spin's order: `--variable`, then
//! `SPIN_VARIABLE_<NAME>` from the environment, then the default.
//!
//! 3.0's `get` is a component-model `async func`, so it is only linked on the
//! engine with concurrency support (see [`crate::engine`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use wasmtime::component::{Accessor, HasSelf, Linker};

use crate::engine::Concurrency;
use crate::manifest::AppVariable;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/deps/spin@2.0.0",
        inline: "package crm-host:variables; world host { import fermyon:spin/variables@2.0.0; }",
        imports: { default: async | trappable },
    });
}

/// `spin:variables/variables@3.0.0`.
mod bindings3 {
    wasmtime::component::bindgen!({
        path: "../wit/deps/spin-variables@3.0.0",
        inline: "package crm-host:variables3; world host { import spin:variables/variables@3.0.0; }",
        imports: { default: trappable },
    });
}

use bindings::fermyon::spin::variables::{self as wit, Error};
use bindings3::spin::variables::variables as wit3;

/// Resolved app variable values.
#[derive(Debug)]
pub struct AppVariables(HashMap<String, String>);

impl AppVariables {
    /// Resolves every app variable; a required one without a value fails.
    pub fn resolve(
        declared: &BTreeMap<String, AppVariable>,
        given: &HashMap<String, String>,
    ) -> Result<Self> {
        let mut values = HashMap::new();
        for (name, variable) in declared {
            let from_env =
                std::env::var(format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())).ok();
            let value = given
                .get(name)
                .cloned()
                .or(from_env)
                .or_else(|| variable.default.clone());
            match value {
                Some(v) => {
                    values.insert(name.clone(), v);
                }
                None => bail!(
                    "required variable `{name}` has no value: pass `--variable {name}=...` or set SPIN_VARIABLE_{}",
                    name.to_ascii_uppercase()
                ),
            }
        }
        Ok(Self(values))
    }

    /// Expands `{{ name }}` references in a template.
    pub fn expand(&self, template: &str) -> Result<String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find("}}")
                .with_context(|| format!("unclosed `{{{{` in `{template}`"))?;
            let name = rest[start + 2..start + end].trim();
            let value = self
                .0
                .get(name)
                .with_context(|| format!("`{template}` refers to undefined variable `{name}`"))?;
            out.push_str(value);
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// One component's variables, expanded.
#[derive(Clone, Default)]
pub struct ComponentVariables(Arc<HashMap<String, String>>);

impl ComponentVariables {
    pub fn new(templates: &BTreeMap<String, String>, app: &AppVariables) -> Result<Self> {
        templates
            .iter()
            .map(|(name, template)| Ok((name.clone(), app.expand(template)?)))
            .collect::<Result<_>>()
            .map(|values| Self(Arc::new(values)))
    }
}

impl ComponentVariables {
    /// A component variable's value, as both interface versions answer it.
    fn value(&self, name: String) -> Result<String, Error> {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(Error::InvalidName(name));
        }
        self.0.get(&name).cloned().ok_or(Error::Undefined(name))
    }
}

/// A store's data that holds its component's [`ComponentVariables`].
pub trait VariablesView: Send {
    fn variables(&mut self) -> &mut ComponentVariables;
}

/// Links 2.0, and 3.0 where the engine supports concurrency.
pub fn add_to_linker<T: VariablesView + 'static>(
    linker: &mut Linker<T>,
    concurrency: Concurrency,
) -> Result<()> {
    wit::add_to_linker::<T, HasSelf<ComponentVariables>>(linker, T::variables)?;
    if concurrency == Concurrency::On {
        wit3::add_to_linker::<T, HasSelf<ComponentVariables>>(linker, T::variables)?;
    }
    Ok(())
}

impl wit::Host for ComponentVariables {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(self.value(name))
    }
}

impl wit3::Host for ComponentVariables {}

impl<U> wit3::HostWithStore<U> for HasSelf<ComponentVariables> {
    async fn get(
        accessor: &Accessor<U, Self>,
        name: String,
    ) -> wasmtime::Result<Result<String, wit3::Error>> {
        let answer = accessor.with(|mut access| access.get().value(name));
        Ok(answer.map_err(|e| match e {
            Error::InvalidName(n) => wit3::Error::InvalidName(n),
            Error::Undefined(n) => wit3::Error::Undefined(n),
            Error::Provider(m) => wit3::Error::Provider(m),
            Error::Other(m) => wit3::Error::Other(m),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_and_unknown_names_fail() {
        let mut declared = BTreeMap::new();
        declared.insert(
            "region".to_string(),
            AppVariable {
                default: Some("au".into()),
                required: false,
                secret: false,
                description: None,
            },
        );
        let app = AppVariables::resolve(&declared, &HashMap::new()).unwrap();
        assert_eq!(
            app.expand("https://{{ region }}.example/{{region}}")
                .unwrap(),
            "https://au.example/au"
        );
        assert!(
            app.expand("{{ nope }}")
                .unwrap_err()
                .to_string()
                .contains("nope")
        );
    }

    #[test]
    fn given_values_beat_defaults_and_required_ones_must_be_given() {
        let mut declared = BTreeMap::new();
        declared.insert(
            "token".to_string(),
            AppVariable {
                default: None,
                required: true,
                secret: true,
                description: None,
            },
        );
        assert!(
            AppVariables::resolve(&declared, &HashMap::new())
                .unwrap_err()
                .to_string()
                .contains("token")
        );
        let given = HashMap::from([("token".to_string(), "s3cret".to_string())]);
        assert_eq!(
            AppVariables::resolve(&declared, &given)
                .unwrap()
                .expand("{{token}}")
                .unwrap(),
            "s3cret"
        );
    }
}
