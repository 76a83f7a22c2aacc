//! Python stubs for componentize-py 0.25: a class per exported interface in
//! `app.py`, and each interface's resources in a module named after it,
//! where componentize-py looks for them.

use std::fmt::Write as _;
use std::path::Path;

use heck::{ToSnakeCase, ToUpperCamelCase};
use wit_bindgen_core::wit_parser::{Function, FunctionKind};

use super::{Exports, own_params};
use crate::error::Result;
use crate::files::write as write_file;
use crate::world_check::Wit;

pub(super) fn write(wit: &Wit, root: &Path) -> Result<()> {
    let exports = Exports::of(wit);
    let world = wit.qualified_world_name();
    let mut app = format!(
        "\"\"\"The plugin's implementation of `{world}`.\n\n\
         Each export starts as a stub that raises: replace the bodies. `wit_world`\n\
         is the bindings module componentize-py generates while it builds.\n\"\"\"\n\n"
    );
    if !exports.functions.is_empty() {
        app.push_str("import wit_world\n");
    }
    if !exports.interfaces.is_empty() {
        app.push_str("from wit_world import exports\n");
    }
    if !exports.functions.is_empty() {
        app.push_str("\n\nclass WitWorld(wit_world.WitWorld):\n");
        for function in &exports.functions {
            app.push_str(&method(function));
        }
    }
    for interface in &exports.interfaces {
        let _ = write!(
            app,
            "\n\nclass {camel}(exports.{camel}):\n",
            camel = interface.name.to_upper_camel_case()
        );
        if interface.functions.is_empty() {
            app.push_str("    pass\n");
        }
        for function in &interface.functions {
            app.push_str(&method(function));
        }
        if interface.resources.is_empty() {
            continue;
        }
        let module = identifier(&interface.name.to_snake_case());
        let mut text = format!(
            "\"\"\"The resources of the `{}` interface.\n\n\
             componentize-py looks for an exported resource's class in a top-level\n\
             module named after its interface, hence this module's name.\n\"\"\"\n\n\
             from wit_world.exports import {module}\n",
            interface.name
        );
        for resource in &interface.resources {
            let _ = write!(
                text,
                "\n\nclass {camel}({module}.{camel}):\n",
                camel = resource.name.to_upper_camel_case()
            );
            if resource.constructor.is_none() && resource.functions.is_empty() {
                text.push_str("    pass\n");
            }
            for function in resource.constructor.iter().chain(&resource.functions) {
                text.push_str(&method(function));
            }
        }
        write_file(&root.join(format!("{module}.py")), &text)?;
    }
    write_file(&root.join("app.py"), &app)
}

fn method(function: &Function) -> String {
    let name = match function.kind {
        FunctionKind::Constructor(_) => "__init__".to_string(),
        _ => identifier(&function.item_name().to_snake_case()),
    };
    let is_static = matches!(
        function.kind,
        FunctionKind::Static(_) | FunctionKind::AsyncStatic(_)
    );
    let mut params: Vec<String> = Vec::new();
    if !is_static {
        params.push("self".into());
    }
    params.extend(own_params(function).map(|p| identifier(&p.name.to_snake_case())));
    let decorator = if is_static { "    @staticmethod\n" } else { "" };
    format!(
        "{decorator}    def {name}({}):\n        raise NotImplementedError(\"{}\")\n\n",
        params.join(", "),
        function.name
    )
}

/// componentize-py appends `_` to names that are Python keywords.
fn identifier(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield",
    ];
    if KEYWORDS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}
