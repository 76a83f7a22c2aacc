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

/// A component that [`Project::build`] wrote and checked.
#[derive(Debug, Clone)]
pub struct Built {
    pub path: PathBuf,
    pub size: u64,
    pub duration: Duration,
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

    /// Builds the component into `output` with the language's toolchain,
    /// then checks it against the world.
    pub fn build(&self, output: &Path) -> Result<Built> {
        let started = Instant::now();
        let wit = Wit::load(&self.wit_dir, Some(self.world()))?;
        let bytes = lang::build(self, &wit)?;
        check_world(&bytes, &wit)?;
        write_atomically(output, &bytes)?;
        Ok(Built {
            path: output.to_path_buf(),
            size: bytes.len() as u64,
            duration: started.elapsed(),
        })
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
/// leaves half a component where a host may load it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
    let mut file =
        tempfile::NamedTempFile::new_in(parent).map_err(|e| BuildError::io(parent, e))?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| BuildError::io(path, e))?;
    file.persist(path)
        .map_err(|e| BuildError::io(path, e.error))?;
    Ok(())
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
