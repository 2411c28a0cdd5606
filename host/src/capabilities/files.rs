//! A component's `files` and `exclude_files`, laid out as `spin up` does by
//! default: every matched file is copied into a directory of this run's own,
//! which the guest sees read-only as `/`. Copying (rather than mounting the
//! sources) is what lets glob patterns, single files and `exclude_files` work,
//! and keeps a guest from seeing anything the manifest did not name.
//!
//! The rules are Spin's (`spin-loader`'s `local.rs`): a string entry is a path
//! (a file, or a directory taken whole) or a glob pattern, placed at the same
//! relative path under `/`; `{ source, destination }` places a file or a
//! directory's tree at `destination`; `exclude_files` globs are matched against
//! paths relative to the manifest's directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::manifest::FileMount;

/// The files one component sees, copied under a directory removed on drop.
pub struct ComponentFiles {
    root: TempDir,
}

impl ComponentFiles {
    /// Copies what `files` names (less `exclude_files`) out of `app_root`.
    pub fn copy(app_root: &Path, files: &[FileMount], exclude_files: &[String]) -> Result<Self> {
        let app_root = app_root
            .canonicalize()
            .with_context(|| format!("application directory {}", app_root.display()))?;
        let root = tempfile::Builder::new()
            .prefix("crm-host-files-")
            .tempdir()
            .context("creating the directory for the component's files")?;
        let copier = Copier {
            app_root: &app_root,
            dest_root: root.path(),
            exclude: exclude_files
                .iter()
                .map(|p| {
                    glob::Pattern::new(p)
                        .with_context(|| format!("exclude_files: invalid glob pattern `{p}`"))
                })
                .collect::<Result<_>>()?,
        };
        for mount in files {
            match mount {
                FileMount::Pattern(pattern) => copier.pattern_or_path(pattern)?,
                FileMount::Placement {
                    source,
                    destination,
                } => copier.placement(source, destination)?,
            }
        }
        Ok(Self { root })
    }

    /// The directory to preopen as the guest's `/`.
    pub fn root(&self) -> &Path {
        self.root.path()
    }
}

struct Copier<'a> {
    app_root: &'a Path,
    dest_root: &'a Path,
    exclude: Vec<glob::Pattern>,
}

impl Copier<'_> {
    /// `files = ["dir", "file.txt", "static/**/*.css"]`.
    fn pattern_or_path(&self, entry: &str) -> Result<()> {
        if entry == ".." || entry.ends_with("/..") || entry == "." || entry.ends_with("/.") {
            bail!(
                "files: `{entry}` may not end in `.` or `..`; to include a directory use `{{ source = \"dir\", destination = \"/dir\" }}` or a pattern ending in `**/*`"
            );
        }
        let path = self.app_root.join(entry);
        if path.is_dir() {
            self.glob(&path.join("**/*"), self.app_root, self.dest_root)
        } else if path.exists() {
            self.file(&path, &self.dest_root.join(entry))
        } else if glob::Pattern::escape(entry) != entry {
            self.glob(&path, self.app_root, self.dest_root)
        } else {
            bail!("files: `{entry}` does not exist and is not a glob pattern")
        }
    }

    /// `files = [{ source = "assets", destination = "/static" }]`.
    fn placement(&self, source: &str, destination: &str) -> Result<()> {
        let src = self.app_root.join(source);
        let dest = self.dest_root.join(destination.trim_start_matches('/'));
        let meta = std::fs::metadata(&src)
            .with_context(|| format!("files: source `{source}` (beside the manifest)"))?;
        if meta.is_dir() {
            self.glob(&src.join("**/*"), &src, &dest)
        } else {
            self.file(&src, &dest)
        }
    }

    /// Copies every file `pattern` matches to `dest` plus its path below `prefix`.
    fn glob(&self, pattern: &Path, prefix: &Path, dest: &Path) -> Result<()> {
        let pattern = pattern
            .to_str()
            .with_context(|| format!("files: non-UTF-8 pattern {}", pattern.display()))?;
        std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
        for matched in glob::glob(pattern)
            .with_context(|| format!("files: invalid glob pattern `{pattern}`"))?
        {
            let src = matched?;
            if !src.is_file() {
                continue;
            }
            let Ok(relative_to_app) = src.strip_prefix(self.app_root) else {
                bail!("files: `{pattern}` reaches outside the application directory");
            };
            if self.exclude.iter().any(|p| p.matches_path(relative_to_app)) {
                continue;
            }
            self.file(&src, &dest.join(src.strip_prefix(prefix)?))?;
        }
        Ok(())
    }

    fn file(&self, src: &Path, dest: &Path) -> Result<()> {
        // Both ends stay inside their roots: `..` in an entry cannot reach out.
        let src = src.canonicalize()?;
        if !src.starts_with(self.app_root) {
            bail!(
                "files: `{}` is outside the application directory",
                src.display()
            );
        }
        let dest = normalise(dest);
        if !dest.starts_with(self.dest_root) || dest == self.dest_root {
            bail!("files: destination `{}` is not a file path", dest.display());
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::copy(&src, &dest)
            .with_context(|| format!("copying {} to {}", src.display(), dest.display()))?;
        Ok(())
    }
}

/// Resolves `.` and `..` lexically (the destination does not exist yet).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, body) in [
            ("static/a.txt", "a"),
            ("static/b.css", "b"),
            ("static/deep/c.txt", "c"),
            ("static/deep/draft.txt", "draft"),
            ("notes.md", "notes"),
            ("secret.txt", "secret"),
        ] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        dir
    }

    fn listing(files: &ComponentFiles) -> Vec<String> {
        let mut out = Vec::new();
        for entry in glob::glob(&format!("{}/**/*", files.root().display())).unwrap() {
            let entry = entry.unwrap();
            if entry.is_file() {
                out.push(
                    entry
                        .strip_prefix(files.root())
                        .unwrap()
                        .display()
                        .to_string(),
                );
            }
        }
        out.sort();
        out
    }

    fn copy(app: &TempDir, files: &[FileMount], exclude: &[&str]) -> Result<ComponentFiles> {
        let exclude: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
        ComponentFiles::copy(app.path(), files, &exclude)
    }

    fn pattern(p: &str) -> FileMount {
        FileMount::Pattern(p.into())
    }

    #[test]
    fn patterns_paths_and_placements_follow_spin() {
        let app = app();
        let files = copy(
            &app,
            &[
                pattern("static/*.txt"),
                pattern("notes.md"),
                FileMount::Placement {
                    source: "static/deep".into(),
                    destination: "/assets".into(),
                },
                FileMount::Placement {
                    source: "static/b.css".into(),
                    destination: "/styles/site.css".into(),
                },
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            listing(&files),
            [
                "assets/c.txt",
                "assets/draft.txt",
                "notes.md",
                "static/a.txt",
                "styles/site.css"
            ]
        );
    }

    #[test]
    fn a_directory_entry_takes_its_tree_and_exclusions_apply() {
        let app = app();
        let files = copy(
            &app,
            &[pattern("static")],
            &["static/deep/draft*", "**/*.css"],
        )
        .unwrap();
        assert_eq!(listing(&files), ["static/a.txt", "static/deep/c.txt"]);
    }

    #[test]
    fn entries_that_name_nothing_or_leave_the_app_are_refused() {
        let app = app();
        for (entry, needle) in [
            ("missing.txt", "does not exist"),
            ("static/..", "may not end"),
            (".", "may not end"),
            ("../*", "outside the application directory"),
        ] {
            let err = copy(&app, &[pattern(entry)], &[]).err().expect(entry);
            assert!(format!("{err:#}").contains(needle), "{entry}: {err:#}");
        }
        let err = copy(
            &app,
            &[FileMount::Placement {
                source: "secret.txt".into(),
                destination: "/../../escaped.txt".into(),
            }],
            &[],
        )
        .err()
        .expect("escaping destination");
        assert!(format!("{err:#}").contains("not a file path"), "{err:#}");
        let err = copy(&app, &[pattern("*.md")], &["[oops"]).err().unwrap();
        assert!(format!("{err:#}").contains("exclude_files"), "{err:#}");
    }
}
