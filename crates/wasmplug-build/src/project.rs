//! A plugin project on disk: its manifest, language, WIT and world.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wasmplug::{JsEngine, Language, MANIFEST_FILE, Manifest};

use crate::error::{BuildError, Result};
use crate::lang;
use crate::world_check::{Wit, check_world};

/// The world a project implements when its manifest names none.
pub const DEFAULT_WORLD: &str = "wasmplug:plugin/plugin@0.1.0";

/// A plugin project: a folder with a `plugin.toml`, WIT and sources.
#[derive(Debug, Clone)]
pub struct Project {
    dir: PathBuf,
    manifest: Manifest,
    language: Language,
    wit_dir: PathBuf,
}

/// A component that [`Project::build`] wrote and checked, and the manifest
/// it wrote beside it: together, what a host loads.
#[derive(Debug, Clone)]
pub struct Built {
    pub path: PathBuf,
    /// The `plugin.toml` beside the component.
    pub manifest: PathBuf,
    pub size: u64,
    pub duration: Duration,
    /// What the author should fix before shipping, such as a permission's
    /// reason still a placeholder.
    pub warnings: Vec<String>,
}

impl Project {
    /// Reads the project in `dir`; its language comes from the manifest's
    /// `[build] language` or, failing that, from its files.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let dir = std::path::absolute(dir).map_err(|e| BuildError::io(dir, e))?;
        let manifest_path = dir.join(MANIFEST_FILE);
        if !manifest_path.is_file() {
            return Err(BuildError::NotAProject {
                dir,
                reason: format!(
                    "it has no {MANIFEST_FILE}; `wasmplug new --lang LANG NAME` makes a project"
                ),
            });
        }
        let manifest = Manifest::from_file(&manifest_path)?;
        let language = match manifest.build.language {
            Some(language) => language,
            None => detect_language(&dir)?,
        };
        let wit_dir = dir.join(manifest.build.wit.as_deref().unwrap_or(Path::new("wit")));
        Ok(Project {
            dir,
            manifest,
            language,
            wit_dir,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn name(&self) -> &str {
        &self.manifest.plugin.name
    }

    pub fn language(&self) -> Language {
        self.language
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The folder of WIT files that defines the world.
    pub fn wit_dir(&self) -> &Path {
        &self.wit_dir
    }

    /// The world the plugin implements, e.g. `wasmplug:plugin/plugin@0.1.0`.
    pub fn world(&self) -> &str {
        self.manifest
            .plugin
            .world
            .as_deref()
            .unwrap_or(DEFAULT_WORLD)
    }

    /// The JavaScript engine to embed; ignored by other languages.
    pub fn js_engine(&self) -> JsEngine {
        self.manifest.build.engine.unwrap_or_default()
    }

    /// Embeds `engine` instead of the one the manifest names.
    pub fn set_js_engine(&mut self, engine: JsEngine) {
        self.manifest.build.engine = Some(engine);
    }

    /// Where the component goes when no output is given: `NAME.wasm` in the
    /// project, beside the `plugin.toml` a host reads with it.
    pub fn default_output(&self) -> PathBuf {
        self.dir.join(format!("{}.wasm", self.name()))
    }

    /// Builds the component with the language's toolchain, checks it
    /// against the world, and writes it with the project's `plugin.toml`
    /// beside it: into the folder `output` when it is one (or ends with
    /// `/`), as `NAME.wasm`; else as the file `output`, the manifest in its
    /// folder. Either way that folder is the unit a host loads.
    pub fn build(&self, output: &Path) -> Result<Built> {
        let started = Instant::now();
        let ends_with_separator = output
            .as_os_str()
            .to_string_lossy()
            .ends_with(std::path::MAIN_SEPARATOR);
        let component = if output.is_dir() || ends_with_separator {
            output.join(format!("{}.wasm", self.name()))
        } else {
            output.to_path_buf()
        };
        let manifest = component
            .parent()
            .unwrap_or(Path::new("."))
            .join(MANIFEST_FILE);
        self.check_manifest_target(&manifest)?;
        let wit = Wit::load(&self.wit_dir, Some(self.world()))?;
        let bytes = lang::build(self, &wit)?;
        check_world(&bytes, &wit)?;
        write_atomically(&component, &bytes)?;
        if !same_file(&manifest, &self.dir.join(MANIFEST_FILE)) {
            let text = std::fs::read(self.dir.join(MANIFEST_FILE))
                .map_err(|e| BuildError::io(self.dir.join(MANIFEST_FILE), e))?;
            write_atomically(&manifest, &text)?;
        }
        Ok(Built {
            path: component,
            manifest,
            size: bytes.len() as u64,
            duration: started.elapsed(),
            warnings: self.placeholders(),
        })
    }

    /// Refuses to write over the manifest of another plugin.
    fn check_manifest_target(&self, target: &Path) -> Result<()> {
        if !target.is_file() || same_file(target, &self.dir.join(MANIFEST_FILE)) {
            return Ok(());
        }
        match Manifest::from_file(target) {
            Ok(other) if other.plugin.name == self.name() => Ok(()),
            Ok(other) => Err(BuildError::ManifestClash {
                path: target.to_path_buf(),
                other: other.plugin.name,
            }),
            // A broken manifest there is not another plugin's: replace it.
            Err(_) => Ok(()),
        }
    }

    /// The requests whose reason is still the template's placeholder, or
    /// says nothing a user could weigh.
    fn placeholders(&self) -> Vec<String> {
        self.manifest
            .requests
            .iter()
            .filter(|r| {
                let reason = r.reason.trim().to_ascii_lowercase();
                reason.starts_with("todo") || reason.contains("todo:") || reason.len() < 4
            })
            .map(|r| {
                format!(
                    "{MANIFEST_FILE}: the reason for `{}` is a placeholder (`{}`); say why \
                     the plugin needs it: it is what users are shown when they are asked",
                    r.permission, r.reason
                )
            })
            .collect()
    }

    /// A folder for intermediate files, inside the project.
    pub(crate) fn work_dir(&self) -> Result<PathBuf> {
        let dir = self.dir.join("build");
        std::fs::create_dir_all(&dir).map_err(|e| BuildError::io(&dir, e))?;
        Ok(dir)
    }
}

/// The language whose marker file the project has; exactly one must match.
fn detect_language(dir: &Path) -> Result<Language> {
    let has = |name: &str| dir.join(name).exists();
    let has_ext = |folder: &Path, ext: &str| {
        std::fs::read_dir(folder).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == ext))
        })
    };
    let found: Vec<Language> = Language::ALL
        .into_iter()
        .filter(|language| match language {
            Language::Rust => has("Cargo.toml"),
            Language::Js => has("package.json"),
            Language::Go => has("go.mod"),
            Language::Python => has("app.py"),
            Language::C => has_ext(&dir.join("src"), "c"),
        })
        .collect();
    match found.as_slice() {
        [language] => Ok(*language),
        [] => Err(BuildError::NotAProject {
            dir: dir.to_path_buf(),
            reason: "no Cargo.toml, app.py, package.json, src/*.c or go.mod tells its language; \
                     set `language` under [build] in plugin.toml"
                .into(),
        }),
        several => Err(BuildError::NotAProject {
            dir: dir.to_path_buf(),
            reason: format!(
                "its files fit several languages ({}); set `language` under [build] in plugin.toml",
                several
                    .iter()
                    .map(|l| l.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// Writes through a temporary file and a rename, so a failed build never
/// leaves half a component where a host may load it. The file gets the
/// ordinary mode of a new file (0644 less the umask), not the temporary
/// file's 0600, so that a host run by another user can read it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
    let mut file =
        tempfile::NamedTempFile::new_in(parent).map_err(|e| BuildError::io(parent, e))?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| BuildError::io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = 0o644 & !current_umask();
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| BuildError::io(path, e))?;
    }
    file.persist(path)
        .map_err(|e| BuildError::io(path, e.error))?;
    Ok(())
}

/// The process's umask, read from /proc (setting it to read it would race
/// with other threads creating files).
#[cfg(unix)]
fn current_umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Whether both paths name the same file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    const MANIFEST: &str = "[plugin]\nname = \"demo\"\nversion = \"0.1.0\"\n";

    #[test]
    fn the_language_comes_from_the_files() {
        for (file, language) in [
            ("Cargo.toml", Language::Rust),
            ("app.py", Language::Python),
            ("package.json", Language::Js),
            ("src/plugin.c", Language::C),
            ("go.mod", Language::Go),
        ] {
            let dir = project(&[("plugin.toml", MANIFEST), (file, "")]);
            let project = Project::open(dir.path()).unwrap();
            assert_eq!(project.language(), language, "{file}");
            assert_eq!(project.world(), DEFAULT_WORLD);
            assert_eq!(project.default_output(), project.dir().join("demo.wasm"));
        }
    }

    #[test]
    fn the_manifest_settles_an_ambiguous_project() {
        let files = [("Cargo.toml", ""), ("package.json", "")];
        let dir = project(&[("plugin.toml", MANIFEST), files[0], files[1]]);
        let err = Project::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("several languages (rust, js)"), "{err}");

        let manifest = format!("{MANIFEST}\n[build]\nlanguage = \"js\"\nengine = \"qjs\"\n");
        let dir = project(&[("plugin.toml", &manifest), files[0], files[1]]);
        let project = Project::open(dir.path()).unwrap();
        assert_eq!(project.language(), Language::Js);
        assert_eq!(project.js_engine(), JsEngine::Qjs);
    }

    #[test]
    fn a_folder_without_a_manifest_or_language_is_refused() {
        let dir = project(&[("Cargo.toml", "")]);
        let err = Project::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("wasmplug new"), "{err}");

        let dir = project(&[("plugin.toml", MANIFEST), ("notes.txt", "")]);
        let err = Project::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("set `language` under [build]"), "{err}");
    }

    #[test]
    fn a_bad_build_table_is_reported_where_it_is() {
        let manifest = format!("{MANIFEST}\n[build]\nengine = \"quickjs\"\n");
        let dir = project(&[("plugin.toml", &manifest), ("package.json", "")]);
        let err = Project::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("line 6"), "{err}");
        assert!(err.contains("starlingmonkey"), "{err}");
    }

    #[test]
    fn a_world_the_wit_lacks_fails_the_build_before_any_tool_runs() {
        let manifest = MANIFEST.replace(
            "version",
            "world = \"wasmplug:plugin/missing@0.1.0\"\nversion",
        );
        let dir = project(&[
            ("plugin.toml", &manifest),
            ("src/plugin.c", ""),
            ("wit/plugin.wit", include_str!("../../../wit/plugin.wit")),
        ]);
        let project = Project::open(dir.path()).unwrap();
        let err = project.build(&dir.path().join("out.wasm")).unwrap_err();
        assert!(matches!(err, BuildError::Wit { .. }), "{err:?}");
        assert!(!dir.path().join("out.wasm").exists());
        assert!(!dir.path().join("build").exists());
    }
}
