//! JavaScript: componentize-js (StarlingMonkey) by default, or QuickJS
//! through jco for small plugins. Both come from the project's
//! `node_modules`, installed with `npm install` from its `package.json` when
//! missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use wasmplug::{JsEngine, Language};

use crate::error::{BuildError, Result};
use crate::project::Project;
use crate::toolchain::{require, run};
use crate::world_check::Wit;

const NODE_INSTALL: &str = "install Node.js with npm (e.g. `apt-get install nodejs npm`)";

/// The plugin's entry module.
const ENTRY: &str = "src/plugin.js";

pub(super) fn tools() -> Result<Vec<(String, PathBuf)>> {
    let node = require("node", &[], Language::Js, NODE_INSTALL)?;
    let npm = require("npm", &[], Language::Js, NODE_INSTALL)?;
    Ok(vec![("node".into(), node), ("npm".into(), npm)])
}

pub(super) fn build(project: &Project, wit: &Wit) -> Result<Vec<u8>> {
    require("node", &[], Language::Js, NODE_INSTALL)?;
    let dir = project.dir();
    let entry = dir.join(ENTRY);
    if !entry.is_file() {
        return Err(BuildError::NotAProject {
            dir: dir.to_path_buf(),
            reason: format!("a JavaScript plugin's entry module is {ENTRY}"),
        });
    }
    let output = project
        .work_dir()?
        .join(format!("plugin-{}.wasm", project.js_engine().name()));
    let world = wit.qualified_world_name();
    // A wasi:http handler is StarlingMonkey's `fetch` event.
    let serves_http = wit.exports_interface("wasi:http/incoming-handler");
    let mut command = match project.js_engine() {
        JsEngine::StarlingMonkey => {
            let mut command = Command::new(node_tool(project, "componentize-js")?);
            command
                .arg(&entry)
                .arg("--wit")
                .arg(&wit.dir)
                .args(["--world-name", &world]);
            if !serves_http {
                // Without this the component imports wasi:http for `fetch`
                // and an incoming-request handler a plugin never serves.
                command.args(["--disable", "http", "fetch-event"]);
            }
            command.arg("--out").arg(&output);
            command
        }
        JsEngine::Qjs if serves_http => {
            return Err(BuildError::Componentize {
                path: entry,
                reason: "QuickJS (componentize-qjs) cannot build wasi:http handlers; build with \
                         the default engine, StarlingMonkey"
                    .into(),
            });
        }
        JsEngine::Qjs => {
            // jco resolves relative paths against its own folder: all absolute.
            let mut command = Command::new(node_tool(project, "jco")?);
            command
                .arg("componentize")
                .arg(&entry)
                .arg("--wit")
                .arg(&wit.dir)
                .args(["--world-name", &world, "--backend", "qjs"])
                // The default runtime uses the component-model async ABI even
                // for synchronous exports, which fewer hosts can run.
                .arg("--backend-qjs-disable-async")
                .arg("--out")
                .arg(&output);
            command
        }
    };
    run(command.current_dir(dir)).map_err(|e| with_syntax_hint(e, dir))?;
    std::fs::read(&output).map_err(|e| BuildError::io(&output, e))
}

/// `node_modules/.bin/TOOL`, running `npm install` first when the project's
/// toolchain is not installed yet. Builds of one project at once (say, one
/// per engine) take turns, so that only one of them installs.
fn node_tool(project: &Project, tool: &str) -> Result<PathBuf> {
    let dir = project.dir();
    let path = dir.join("node_modules/.bin").join(tool);
    // npm writes its hidden lockfile last: without it an install is partial.
    let installed = || path.is_file() && dir.join("node_modules/.package-lock.json").is_file();
    if installed() {
        return Ok(path);
    }
    let lock_path = project.work_dir()?.join("npm-install.lock");
    let lock = std::fs::File::create(&lock_path).map_err(|e| BuildError::io(&lock_path, e))?;
    lock.lock().map_err(|e| BuildError::io(&lock_path, e))?;
    if !installed() {
        let npm = require("npm", &[], Language::Js, NODE_INSTALL)?;
        run(Command::new(npm)
            .current_dir(dir)
            .args(["install", "--no-audit", "--no-fund"]))?;
    }
    drop(lock);
    if installed() {
        return Ok(path);
    }
    Err(BuildError::MissingTool {
        tool: tool.to_string(),
        language: Language::Js,
        install: "add it to package.json: `npm install --save-dev \
                  @bytecodealliance/componentize-js@0.23.0 @bytecodealliance/jco@1.35.0`"
            .into(),
    })
}

/// componentize-js reports a syntax error without its place; `node --check`
/// finds it.
fn with_syntax_hint(error: BuildError, dir: &Path) -> BuildError {
    let BuildError::ToolFailed {
        tool,
        status,
        mut output,
    } = error
    else {
        return error;
    };
    if output.contains("failed to parse JS source") {
        let check = Command::new("node")
            .current_dir(dir)
            .args(["--check", ENTRY])
            .output();
        if let Ok(check) = check {
            output.push_str(&String::from_utf8_lossy(&check.stderr));
        }
    }
    BuildError::ToolFailed {
        tool,
        status,
        output,
    }
}
