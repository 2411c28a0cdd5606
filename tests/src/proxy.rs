//! A real nginx (Debian's `nginx-light`, installed by `scripts/test`) on a
//! free loopback port in front of `crm-host` processes, configured by
//! `crm-cli deploy proxy --standalone` from the app's `spin.toml`, never by
//! hand. Runs in the foreground as one process (`master_process off`), so it
//! dies with the thread that started it; its prefix (configuration, error
//! log, temporary files) is a temporary directory.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::auth::cli;
use crate::{Host, die_with_spawning_thread, workspace};

pub struct Proxy {
    pub host: Host,
    pub dir: tempfile::TempDir,
}

impl Proxy {
    /// nginx routing the app's `spin.toml` over `groups`, each a
    /// `crm-cli deploy proxy --group` argument (`NAME=IDS@ADDRS`).
    pub fn start(groups: &[String]) -> Self {
        let dir = tempfile::tempdir().expect("nginx prefix");
        std::fs::create_dir(dir.path().join("tmp")).expect("nginx tmp/");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let config = dir.path().join("nginx.conf");
        let manifest = workspace().join("spin.toml");
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["deploy", "proxy", "--standalone", "--listen", &listen];
        let (manifest, config_arg) = (manifest.display().to_string(), config.display().to_string());
        args.extend(["-f", &manifest, "-o", &config_arg]);
        for group in groups {
            args.extend(["--group", group]);
        }
        let generated = cli(&args);
        assert!(
            generated.status.success(),
            "crm-cli deploy proxy: {}",
            String::from_utf8_lossy(&generated.stderr)
        );
        let bin = std::env::var("CRM_NGINX").unwrap_or_else(|_| "nginx".into());
        let prefix = format!("{}/", dir.path().display());
        let mut command = Command::new(&bin);
        command
            .args(["-p", &prefix, "-c", &config_arg, "-e"])
            .arg(dir.path().join("error.log"))
            .args(["-g", "daemon off; master_process off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_spawning_thread(&mut command);
        let child = command.spawn().unwrap_or_else(|e| {
            panic!("cannot start `{bin}` ({e}): scripts/test installs Debian's nginx-light")
        });
        let host = Host::adopt(child, format!("http://{listen}"));
        let proxy = Self { host, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen: {}",
                proxy.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        proxy
    }

    /// What nginx logged (warnings and errors).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}
