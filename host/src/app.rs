//! Turns a manifest into a running [`App`]: resolves variables and stores,
//! composes dependencies, compiles each component once and pre-instantiates
//! it, failing at start with the component's name when anything is missing.
//! Components are prepared side by side, one thread per core, and their
//! compiled code is kept by what it was made from ([`Precompiled`]).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result, bail};
use crm_host_compose::{Dependency as ComposeDependency, InheritConfiguration};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::capabilities::key_value::{
    self, KeyValueGrants, KeyValueStore, RedisKeyValue, SqliteKeyValue,
};
use crate::capabilities::outbound_http::{AllowedHosts, chained_component};
use crate::capabilities::sqlite::{self, SqliteDatabase, SqliteFile, SqliteGrants};
use crate::capabilities::variables::{self, AppVariables, ComponentVariables};
use crate::capabilities::wasi::WasiTemplate;
use crate::engine::Concurrency;
use crate::manifest::{self, Dependency, InheritSetting, LoadedManifest, RouteSpec};
use crate::precompiled::{Inputs, Precompiled};
use crate::routing::Router;
use crate::runtime_config::{KeyValueConfig, RuntimeConfig, SqliteConfig};
use crate::state::HostState;
use crate::trigger_http::{App, Limits, ServedComponent};

/// What `crm-host up` was asked to serve.
pub struct Options {
    pub manifest: LoadedManifest,
    pub state_dir: PathBuf,
    pub cache_dir: PathBuf,
    pub runtime_config: RuntimeConfig,
    pub component_ids: Vec<String>,
    pub variables: HashMap<String, String>,
    pub sqlite_statements: Vec<(String, String)>,
    pub limits: Limits,
}

pub fn load(options: Options) -> Result<Arc<App>> {
    let LoadedManifest { manifest, dir, .. } = &options.manifest;
    for id in &options.component_ids {
        if !manifest.component.contains_key(id) {
            bail!("--component-id `{id}`: the manifest has no such component");
        }
    }
    let some_left_out = !options.component_ids.is_empty()
        && manifest
            .component
            .keys()
            .any(|c| !options.component_ids.contains(c));
    let selected = |id: &str| {
        options.component_ids.is_empty() || options.component_ids.iter().any(|c| c == id)
    };

    let app_variables = AppVariables::resolve(&manifest.variables, &options.variables)?;
    let compiler = Compiler::new(&options)?;
    let mut stores = Stores::new(&options);
    for (label, statement) in &options.sqlite_statements {
        stores
            .sqlite_file(label)?
            .connect_raw()?
            .execute_batch(statement)
            .with_context(|| format!("--sqlite statement on database `{label}`"))?;
    }

    let mut routes = Vec::new();
    for trigger in manifest.trigger.get("http").into_iter().flatten() {
        if let RouteSpec::Path(route) = &trigger.route
            && selected(&trigger.component)
        {
            routes.push((route.as_str(), trigger.component.as_str()));
        }
    }
    let router = Router::new(routes)?;

    let triggered: Vec<&str> = manifest
        .trigger
        .get("http")
        .into_iter()
        .flatten()
        .map(|t| t.component.as_str())
        .filter(|id| selected(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let prepared = prepare_in_parallel(&compiler, dir, manifest, &triggered);
    let mut components = HashMap::new();
    for (id, pre) in triggered.into_iter().zip(prepared) {
        let component = &manifest.component[id];
        let served = (|| -> Result<ServedComponent> {
            let pre = pre?;
            let allowed = component
                .allowed_outbound_hosts
                .iter()
                .map(|h| app_variables.expand(h))
                .collect::<Result<Vec<_>>>()?;
            if some_left_out {
                refuse_chaining_to_unselected(&allowed, &selected)?;
            }
            Ok(ServedComponent {
                pre,
                wasi: WasiTemplate::new(
                    id,
                    &component.environment,
                    &component.files,
                    &component.exclude_files,
                    dir,
                )?,
                key_value: stores.key_value_grants(&component.key_value_stores)?,
                sqlite: stores.sqlite_grants(&component.sqlite_databases)?,
                variables: ComponentVariables::new(&component.variables, &app_variables)?,
                allowed_hosts: Arc::new(AllowedHosts::parse(allowed.iter().map(String::as_str))?),
            })
        })()
        .with_context(|| format!("component `{id}`"))?;
        components.insert(id.to_string(), served);
    }
    compiler.start_epoch_ticker();
    Ok(Arc::new(App {
        name: manifest.application.name.clone(),
        app_version: manifest.application.version.clone(),
        router,
        components,
        limits: options.limits,
        key_value_stores: stores.key_value.into_values().collect(),
        databases: stores.sqlite.into_values().collect(),
    }))
}

/// As on Spin, a selected component may not chain to one left out by
/// `--component-id`, nor to any component through `*.spin.internal`.
fn refuse_chaining_to_unselected(
    allowed: &[String],
    selected: &dyn Fn(&str) -> bool,
) -> Result<()> {
    for pattern in allowed {
        match chained_component(pattern) {
            Some("*") => bail!(
                "`{pattern}` may chain to any component, but --component-id leaves some out; list the selected components' `<id>.spin.internal` hosts instead"
            ),
            Some(target) if !selected(target) => {
                bail!("`{pattern}` chains to component `{target}`, which --component-id leaves out")
            }
            _ => {}
        }
    }
    Ok(())
}

/// Prepares each of `ids` (composing and compiling, or loading the
/// compiled code: most of a start) on as many threads as there are cores;
/// the results in the order of `ids`.
fn prepare_in_parallel(
    compiler: &Compiler,
    dir: &Path,
    manifest: &manifest::Manifest,
    ids: &[&str],
) -> Vec<Result<ProxyPre<HostState>>> {
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(ids.len());
    let mut done: Vec<(usize, Result<ProxyPre<HostState>>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&id) = ids.get(i) else {
                            return done;
                        };
                        let prepared = component_inputs(dir, &manifest.component[id], manifest)
                            .and_then(|inputs| compiler.prepare(id, &inputs));
                        done.push((i, prepared));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a thread preparing components panicked"))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, prepared)| prepared).collect()
}

/// Compiles components, each on the engine it needs (see [`crate::engine`]).
struct Compiler<'a> {
    options: &'a Options,
    plain: (Engine, Linker<HostState>),
    /// Made for the first component that needs it.
    concurrent: OnceLock<(Engine, Linker<HostState>)>,
    making_concurrent: Mutex<()>,
    precompiled: Precompiled,
}

impl<'a> Compiler<'a> {
    fn new(options: &'a Options) -> Result<Self> {
        Ok(Self {
            options,
            plain: Self::engine(options, Concurrency::Off)?,
            concurrent: OnceLock::new(),
            making_concurrent: Mutex::new(()),
            precompiled: Precompiled::new(&options.cache_dir),
        })
    }

    fn engine(options: &Options, concurrency: Concurrency) -> Result<(Engine, Linker<HostState>)> {
        let engine = crate::engine::new_engine(
            &options.cache_dir,
            options.limits.max_memory_bytes,
            concurrency,
        )?;
        let linker = host_linker(&engine, concurrency)?;
        Ok((engine, linker))
    }

    fn engine_for(&self, concurrency: Concurrency) -> Result<&(Engine, Linker<HostState>)> {
        if concurrency == Concurrency::Off {
            return Ok(&self.plain);
        }
        if let Some(made) = self.concurrent.get() {
            return Ok(made);
        }
        let _one_at_a_time = self.making_concurrent.lock().expect("engine lock poisoned");
        if let Some(made) = self.concurrent.get() {
            return Ok(made);
        }
        let made = Self::engine(self.options, Concurrency::On)?;
        Ok(self.concurrent.get_or_init(|| made))
    }

    /// Composes, compiles and pre-instantiates one component, or loads
    /// what an earlier start compiled from the same inputs.
    fn prepare(&self, id: &str, inputs: &Inputs) -> Result<ProxyPre<HostState>> {
        let key = self.precompiled.key(inputs);
        for concurrency in [Concurrency::Off, Concurrency::On] {
            if self.precompiled.has(&key, concurrency) {
                let (engine, linker) = self.engine_for(concurrency)?;
                if let Some(component) = self.precompiled.load(&key, concurrency, engine) {
                    return Self::pre(linker, &component);
                }
            }
        }
        let bytes = crm_host_compose::compose(&inputs.source, &inputs.dependencies)
            .with_context(|| format!("composing the dependencies of `{id}`"))?;
        let (component, concurrency, pre) = self.compile(&bytes)?;
        self.precompiled.store(&key, concurrency, &component);
        Ok(pre)
    }

    fn compile(&self, bytes: &[u8]) -> Result<(Component, Concurrency, ProxyPre<HostState>)> {
        if let Ok((component, pre)) = Self::compile_on(&self.plain, bytes) {
            return Ok((component, Concurrency::Off, pre));
        }
        // Refused, perhaps for its async built-ins or an import only the
        // engine with concurrency support links (an `async func`): that
        // engine accepts all the other one does and more, so its verdict is
        // the one to report.
        let (component, pre) = Self::compile_on(self.engine_for(Concurrency::On)?, bytes)?;
        Ok((component, Concurrency::On, pre))
    }

    fn compile_on(
        (engine, linker): &(Engine, Linker<HostState>),
        bytes: &[u8],
    ) -> Result<(Component, ProxyPre<HostState>)> {
        let compiled = Component::new(engine, bytes).map_err(anyhow::Error::from)?;
        let pre = Self::pre(linker, &compiled)?;
        Ok((compiled, pre))
    }

    fn pre(linker: &Linker<HostState>, component: &Component) -> Result<ProxyPre<HostState>> {
        let instance_pre = linker
            .instantiate_pre(component)
            .map_err(anyhow::Error::from)
            .context("it imports something neither the host nor its dependencies provide")?;
        ProxyPre::new(instance_pre)
            .map_err(anyhow::Error::from)
            .context("it is not an HTTP component (no wasi:http/incoming-handler export)")
    }

    fn start_epoch_ticker(&self) {
        let mut engines = vec![&self.plain.0];
        engines.extend(self.concurrent.get().map(|(engine, _)| engine));
        crate::engine::start_epoch_ticker(&engines);
    }
}

fn host_linker(engine: &Engine, concurrency: Concurrency) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    key_value::add_to_linker(&mut linker)?;
    sqlite::add_to_linker(&mut linker)?;
    variables::add_to_linker(&mut linker, concurrency)?;
    Ok(linker)
}

/// The component's Wasm and its dependencies', to be plugged in.
fn component_inputs(
    dir: &Path,
    component: &manifest::Component,
    manifest: &manifest::Manifest,
) -> Result<Inputs> {
    let source = read_wasm(dir, &component.source)?;
    let mut dependencies = Vec::new();
    for (name, dependency) in &component.dependencies {
        let (path, export, inherit) = match dependency {
            Dependency::Path {
                path,
                export,
                inherit_configuration,
            } => (path, export, inherit_configuration),
            Dependency::Component {
                component: other,
                export,
                inherit_configuration,
            } => (
                &manifest.component[other].source,
                export,
                inherit_configuration,
            ),
            Dependency::Registry { .. } | Dependency::Url { .. } => {
                unreachable!("refused by manifest validation")
            }
        };
        let inherit = match inherit {
            _ if component.dependencies_inherit_configuration == Some(true) => {
                InheritConfiguration::All
            }
            None | Some(InheritSetting::All(false)) => InheritConfiguration::None,
            Some(InheritSetting::All(true)) => InheritConfiguration::All,
            Some(InheritSetting::Some(sets)) => InheritConfiguration::Some(sets.clone()),
        };
        dependencies.push(ComposeDependency {
            name: name.clone(),
            export: export.clone(),
            source: read_wasm(dir, path).with_context(|| format!("dependency `{name}`"))?,
            inherit,
        });
    }
    Ok(Inputs {
        source,
        dependencies,
    })
}

fn read_wasm(dir: &Path, source: &str) -> Result<Vec<u8>> {
    let path = dir.join(source);
    std::fs::read(&path).with_context(|| {
        format!(
            "cannot read Wasm file {} (build the app first: `crm-host build`)",
            path.display()
        )
    })
}

/// Opens each labelled store once and shares it among the components granted it.
struct Stores<'a> {
    options: &'a Options,
    key_value: HashMap<String, Arc<dyn KeyValueStore>>,
    sqlite: HashMap<String, Arc<SqliteFile>>,
}

impl<'a> Stores<'a> {
    fn new(options: &'a Options) -> Self {
        Self {
            options,
            key_value: HashMap::new(),
            sqlite: HashMap::new(),
        }
    }

    fn key_value_grants(&mut self, labels: &[String]) -> Result<KeyValueGrants> {
        let mut grants = HashMap::new();
        for label in labels {
            if !self.key_value.contains_key(label) {
                let file = match self.options.runtime_config.key_value_store.get(label) {
                    Some(KeyValueConfig::Redis { url }) => Err(url),
                    Some(KeyValueConfig::Spin { path }) => Ok(Some(path)),
                    None => Ok(None),
                };
                let store: Arc<dyn KeyValueStore> = match file {
                    Err(url) => Arc::new(RedisKeyValue::open(url)?),
                    Ok(path) => {
                        let path = RuntimeConfig::file_for(
                            path,
                            label,
                            &self.options.state_dir,
                            "sqlite_key_value.db",
                        )
                        .with_context(|| format!("key_value_stores: label `{label}`"))?;
                        Arc::new(SqliteKeyValue::open(&path, label)?)
                    }
                };
                self.key_value.insert(label.clone(), store);
            }
            grants.insert(label.clone(), Arc::clone(&self.key_value[label]));
        }
        Ok(KeyValueGrants::new(grants))
    }

    fn sqlite_file(&mut self, label: &str) -> Result<Arc<SqliteFile>> {
        if !self.sqlite.contains_key(label) {
            let path = RuntimeConfig::file_for(
                self.options
                    .runtime_config
                    .sqlite_database
                    .get(label)
                    .map(|SqliteConfig::Spin { path }| path),
                label,
                &self.options.state_dir,
                "sqlite_db.db",
            )
            .with_context(|| format!("sqlite_databases: label `{label}`"))?;
            self.sqlite
                .insert(label.to_string(), SqliteFile::open(&path)?);
        }
        Ok(Arc::clone(&self.sqlite[label]))
    }

    fn sqlite_grants(&mut self, labels: &[String]) -> Result<SqliteGrants> {
        let mut grants: HashMap<String, Arc<dyn SqliteDatabase>> = HashMap::new();
        for label in labels {
            grants.insert(label.clone(), self.sqlite_file(label)?);
        }
        Ok(SqliteGrants::new(grants))
    }
}
