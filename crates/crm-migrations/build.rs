//! Lists `migrations/NNNN_name.sql` into `MIGRATIONS`, so a new migration is
//! a new file and nothing else: each as its statements, compacted.

use std::fmt::Write;
use std::path::Path;

#[path = "src/statements.rs"]
mod statements;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(i64, String)> = std::fs::read_dir(&dir)
        .expect("migrations/ is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            let version = name
                .split('_')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name}.sql must start with its number, e.g. 0002_"));
            println!("cargo:rerun-if-changed={}", path.display());
            (version, name)
        })
        .collect();
    files.sort();
    for pair in files.windows(2) {
        assert!(
            pair[0].0 != pair[1].0,
            "two migrations share number {}",
            pair[0].0
        );
    }
    let mut out = String::from("&[\n");
    for (version, name) in &files {
        let sql = std::fs::read_to_string(dir.join(format!("{name}.sql"))).expect("readable");
        let statements: Vec<String> = statements::split_statements(&sql)
            .into_iter()
            .map(statements::compact)
            .collect();
        writeln!(
            out,
            "    Migration {{ version: {version}, name: {name:?}, statements: &{statements:?} }},"
        )
        .unwrap();
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("migrations.rs");
    std::fs::write(target, out).expect("write migrations.rs");
}
