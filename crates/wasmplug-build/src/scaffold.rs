//! `wasmplug new`: a project that builds as it is, for the default world from
//! the language's template, or for any world with stubs for its exports.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use wasmplug::Language;

use crate::error::{BuildError, Result};
use crate::files::{copy_tree, write};
use crate::project::DEFAULT_WORLD;
use crate::world_check::Wit;

/// One template per language, for the default world.
static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Files of a language's template that a project for another world uses too.
const SHARED: &[&str] = &[".gitignore", "go.mod"];

/// The default world's WIT, written into every new project.
const PLUGIN_WIT: &str = include_str!("../../../wit/plugin.wit");

/// Files whose real name would confuse tools reading the template folder
/// (cargo skips folders with a `Cargo.toml` when packaging) carry this suffix.
const TEMPLATE_SUFFIX: &str = ".tmpl";

/// What kind of project to start from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Template {
    /// A plugin of the default world, or of the world `--wit` defines.
    #[default]
    Plugin,
    /// A `wasi:http/proxy` handler, for `wasmplug serve` (Rust, Python and
    /// JavaScript).
    Http,
}

impl Template {
    pub const ALL: [Template; 2] = [Template::Plugin, Template::Http];

    pub fn name(self) -> &'static str {
        match self {
            Template::Plugin => "plugin",
            Template::Http => "http",
        }
    }

    /// The languages whose toolchains build it.
    pub fn languages(self) -> &'static [Language] {
        match self {
            Template::Plugin => &Language::ALL,
            Template::Http => &[Language::Rust, Language::Python, Language::Js],
        }
    }
}

impl std::fmt::Display for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Template {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        Template::ALL
            .into_iter()
            .find(|t| t.name() == text)
            .ok_or_else(|| format!("`{text}` is not a template: plugin or http"))
    }
}

/// The `wasi:http` release an HTTP handler's WIT names: the one the
/// language's toolchain exports. StarlingMonkey in componentize-js 0.23.0
/// implements 0.2.10; the `wasip2` crate and componentize-py take the
/// WIT's own, 0.2.12.
fn http_version(language: Language) -> &'static str {
    match language {
        Language::Js => "0.2.10",
        _ => "0.2.12",
    }
}

/// What to create.
#[derive(Debug, Clone)]
pub struct Scaffold {
    pub language: Language,
    /// The plugin's name; also the new folder's name.
    pub name: String,
    /// The folder in which the project folder is made.
    pub parent: PathBuf,
    /// A WIT file or folder defining the world; the default world when absent.
    pub wit: Option<PathBuf>,
    /// The world to implement, when the WIT defines several.
    pub world: Option<String>,
    pub template: Template,
}

/// Creates the project and returns its folder.
pub fn scaffold(request: &Scaffold) -> Result<PathBuf> {
    check_name(&request.name)?;
    let dir = request.parent.join(&request.name);
    if dir.exists() {
        return Err(BuildError::Exists { path: dir });
    }
    let staging = tempfile::Builder::new()
        .prefix(".wasmplug-new-")
        .tempdir_in(&request.parent)
        .map_err(|e| BuildError::io(&request.parent, e))?;
    let root = staging.path();

    let wit_dir = root.join("wit");
    match (&request.wit, request.template) {
        (None, Template::Plugin) => write(&wit_dir.join("plugin.wit"), PLUGIN_WIT)?,
        (Some(source), Template::Plugin) => copy_wit(source, &wit_dir)?,
        (None, Template::Http) => write_http_wit(request, &wit_dir)?,
        (Some(_), Template::Http) => {
            return Err(BuildError::Template {
                template: Template::Http.name(),
                reason: "it brings its own WIT (the wasi:http/proxy world); leave out --wit".into(),
            });
        }
    }
    let world = match (&request.wit, request.template) {
        (_, Template::Http) => None,
        (None, Template::Plugin) => Some(request.world.as_deref().unwrap_or(DEFAULT_WORLD)),
        (Some(_), Template::Plugin) => request.world.as_deref(),
    };
    let wit = Wit::load(&wit_dir, world)?;
    let world = wit.qualified_world_name();
    write(&root.join("plugin.toml"), manifest(request, &wit, &world))?;
    let language = request.language.name();
    let guest_dependency = guest_dependency();
    let substitute = |text: &str| {
        text.replace("{{name}}", &request.name)
            .replace("{{world}}", &world)
            .replace("{{guest_dependency}}", &guest_dependency)
    };
    if request.template == Template::Http {
        write_template(&format!("http/{language}"), root, |_| true, substitute)?;
    } else if world == DEFAULT_WORLD {
        write_template(language, root, |_| true, substitute)?;
    } else {
        let shared = |path: &Path| SHARED.iter().any(|name| path == Path::new(name));
        write_template(language, root, shared, substitute)?;
        write_template(&format!("world/{language}"), root, |_| true, substitute)?;
        crate::stubs::write(request.language, &wit, root)?;
    }

    let staged = staging.keep();
    std::fs::rename(&staged, &dir).map_err(|e| BuildError::io(&dir, e))?;
    Ok(dir)
}

/// An HTTP handler's WIT: a world of the project's name that includes
/// `wasi:http/proxy`, and the WASI packages it uses, at the release the
/// language's toolchain exports.
fn write_http_wit(request: &Scaffold, wit_dir: &Path) -> Result<()> {
    if !Template::Http.languages().contains(&request.language) {
        return Err(BuildError::Template {
            template: Template::Http.name(),
            reason: format!(
                "there is none for {} yet; it exists for rust, python and js",
                request.language
            ),
        });
    }
    let version = http_version(request.language);
    let world = format!(
        "package wasmplug:{name};\n\n/// Served by `wasmplug serve`, `wasmtime serve`, Spin and wasmCloud.\n\
         world {name} {{\n  include wasi:http/proxy@{version};\n}}\n",
        name = request.name
    );
    write(&wit_dir.join("world.wit"), world)?;
    let deps = TEMPLATES
        .get_dir("http/wit/deps")
        .expect("the http template has its WIT");
    for file in deps.files() {
        let name = file.path().file_name().unwrap_or_default();
        let text = file.contents_utf8().expect("WIT is text");
        let text = text.replace(
            "package wasi:http@0.2.12;",
            &format!("package wasi:http@{version};"),
        );
        write(&wit_dir.join("deps").join(name), text)?;
    }
    Ok(())
}

/// Names that are also valid package names in every language's tooling.
fn check_name(name: &str) -> Result<()> {
    let fine = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if fine {
        return Ok(());
    }
    Err(BuildError::BadName {
        name: name.to_string(),
    })
}

/// The manifest: who the plugin is, its world, and a request with a reason
/// to fill in for each host interface the world imports.
fn manifest(request: &Scaffold, wit: &Wit, world: &str) -> String {
    let interfaces: Vec<String> = wit
        .imported_interfaces()
        .into_iter()
        .filter(|name| !name.starts_with("wasi:") && !name.starts_with("wasmplug:plugin/"))
        .map(|name| {
            format!("    {{ name = \"{name}\", reason = \"TODO: why the plugin needs it\" }},\n")
        })
        .collect();
    let permissions = if interfaces.is_empty() {
        String::new()
    } else {
        format!("interfaces = [\n{}]\n", interfaces.concat())
    };
    format!(
        "[plugin]\n\
         name = \"{name}\"\n\
         version = \"0.1.0\"\n\
         description = \"A wasmplug plugin\"\n\
         world = \"{world}\"\n\
         \n\
         # What the plugin needs beyond its world, each with the reason shown to\n\
         # whoever grants it: clocks, random, stdin, dirs, env, net, interfaces.\n\
         [permissions]\n\
         {permissions}\
         \n\
         [build]\n\
         language = \"{language}\"\n",
        name = request.name,
        language = request.language,
    )
}

/// Writes the files of `templates/TEMPLATE` that `keep` selects (by their
/// path in the template), with placeholders substituted.
fn write_template(
    template: &str,
    root: &Path,
    keep: impl Fn(&Path) -> bool,
    substitute: impl Fn(&str) -> String,
) -> Result<()> {
    let dir = TEMPLATES
        .get_dir(template)
        .expect("every language has its templates");
    for file in all_files(dir) {
        let relative = file
            .path()
            .strip_prefix(template)
            .expect("template files sit under their template");
        let relative = relative
            .to_str()
            .and_then(|p| p.strip_suffix(TEMPLATE_SUFFIX))
            .map_or_else(|| relative.to_path_buf(), PathBuf::from);
        if !keep(&relative) {
            continue;
        }
        let text = file.contents_utf8().expect("templates are text");
        write(&root.join(relative), substitute(text))?;
    }
    Ok(())
}

fn all_files<'a>(dir: &'a Dir<'a>) -> Vec<&'a include_dir::File<'a>> {
    let mut files: Vec<_> = dir.files().collect();
    for sub in dir.dirs() {
        files.extend(all_files(sub));
    }
    files
}

/// How a Rust plugin depends on `wasmplug-guest`: by version, plus the path
/// of the source tree this command was built from while that tree exists.
fn guest_dependency() -> String {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasmplug-guest");
    match source.canonicalize() {
        Ok(path) => format!(
            "{{ version = \"{}\", path = \"{}\" }}",
            env!("CARGO_PKG_VERSION"),
            path.display()
        ),
        Err(_) => format!("\"{}\"", env!("CARGO_PKG_VERSION")),
    }
}

/// Copies a WIT file or folder (with its `deps/`) into `to`.
fn copy_wit(from: &Path, to: &Path) -> Result<()> {
    let metadata = std::fs::metadata(from).map_err(|e| BuildError::io(from, e))?;
    if metadata.is_file() {
        let text = std::fs::read(from).map_err(|e| BuildError::io(from, e))?;
        return write(&to.join(from.file_name().unwrap_or_default()), text);
    }
    copy_tree(from, to, &|path, is_dir| {
        is_dir || path.extension().is_some_and(|e| e == "wit")
    })
}

#[cfg(test)]
mod tests {
    use wasmplug::Manifest;

    use super::*;

    fn request(language: Language, name: &str, parent: &Path) -> Scaffold {
        Scaffold {
            language,
            name: name.into(),
            parent: parent.to_path_buf(),
            wit: None,
            world: None,
            template: Template::Plugin,
        }
    }

    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(files(&path));
            } else {
                found.push(path);
            }
        }
        found
    }

    #[test]
    fn every_language_gets_a_complete_project() {
        let parent = tempfile::tempdir().unwrap();
        for language in Language::ALL {
            let name = format!("demo-{language}");
            let dir = scaffold(&request(language, &name, parent.path())).unwrap();
            let manifest = Manifest::from_file(&dir.join("plugin.toml")).unwrap();
            assert_eq!(manifest.plugin.name, name);
            assert_eq!(manifest.plugin.world.as_deref(), Some(DEFAULT_WORLD));
            assert_eq!(manifest.build.language, Some(language));
            assert!(dir.join("README.md").is_file(), "{language}");
            assert!(dir.join("wit/plugin.wit").is_file(), "{language}");
            for file in files(&dir) {
                let text = std::fs::read_to_string(&file).unwrap();
                assert!(
                    !text.contains("{{"),
                    "{} keeps a placeholder",
                    file.display()
                );
                assert!(!file.to_string_lossy().ends_with(TEMPLATE_SUFFIX));
            }
            let project = crate::Project::open(&dir).unwrap();
            assert_eq!(project.language(), language);
        }
    }

    #[test]
    fn another_world_gets_stubs_and_its_interface_requests() {
        let parent = tempfile::tempdir().unwrap();
        let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/wit");
        for language in Language::ALL {
            let mut request = request(language, &format!("stubs-{language}"), parent.path());
            request.wit = Some(wit.clone());
            let dir = scaffold(&request).unwrap();
            let manifest = Manifest::from_file(&dir.join("plugin.toml")).unwrap();
            let interfaces: Vec<String> = manifest
                .requests
                .iter()
                .map(|r| r.permission.to_string())
                .collect();
            assert_eq!(interfaces, ["interface wasmplug:conformance/events@0.1.0"]);
            let sources: String = files(&dir)
                .iter()
                .filter(|f| !f.starts_with(dir.join("wit")))
                .map(|f| std::fs::read_to_string(f).unwrap().to_lowercase())
                .collect();
            for export in ["reverse", "merge", "ounter"] {
                assert!(sources.contains(export), "{language} lacks {export}");
            }
        }
    }

    #[test]
    fn bad_names_and_existing_folders_are_refused() {
        let parent = tempfile::tempdir().unwrap();
        for name in ["Demo", "1demo", "de mo", "", "../up"] {
            let err = scaffold(&request(Language::Rust, name, parent.path())).unwrap_err();
            assert!(matches!(err, BuildError::BadName { .. }), "{name}: {err:?}");
        }
        std::fs::create_dir(parent.path().join("taken")).unwrap();
        let err = scaffold(&request(Language::C, "taken", parent.path())).unwrap_err();
        assert!(matches!(err, BuildError::Exists { .. }), "{err:?}");
        let left: Vec<_> = std::fs::read_dir(parent.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "a failed scaffold leaves nothing behind");
    }

    #[test]
    fn a_wit_with_several_worlds_needs_one_named() {
        let parent = tempfile::tempdir().unwrap();
        let wit = parent.path().join("two.wit");
        std::fs::write(
            &wit,
            "package a:b;\nworld one { export f: func(); }\nworld two { export g: func(); }\n",
        )
        .unwrap();
        let mut request = request(Language::Python, "two", parent.path());
        request.wit = Some(wit);
        let err = scaffold(&request).unwrap_err();
        assert!(err.to_string().contains("multiple worlds"), "{err}");
        assert!(!parent.path().join("two").exists());
        request.world = Some("two".into());
        let dir = scaffold(&request).unwrap();
        let app = std::fs::read_to_string(dir.join("app.py")).unwrap();
        assert!(app.contains("def g(self)"), "{app}");
    }
}
