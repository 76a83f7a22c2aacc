//! JavaScript stubs in the shape componentize-js and jco expect: world
//! functions as named exports, each exported interface as an object named
//! in camelCase holding its functions and resource classes.

use std::fmt::Write as _;
use std::path::Path;

use heck::{ToLowerCamelCase, ToUpperCamelCase};
use wit_bindgen_core::wit_parser::{Function, FunctionKind};

use super::{Exports, own_params};
use crate::error::Result;
use crate::files::write as write_file;
use crate::world_check::Wit;

pub(super) fn write(wit: &Wit, root: &Path) -> Result<()> {
    let exports = Exports::of(wit);
    let world = wit.qualified_world_name();
    let mut js = format!(
        "// The plugin's implementation of `{world}`. Each export starts as a\n\
         // stub that throws: replace the bodies. Host interfaces are imported\n\
         // by their full names, e.g. `import {{ log }} from \"wasmplug:plugin/host@0.1.0\"`.\n"
    );
    for function in &exports.functions {
        let _ = write!(
            js,
            "\nexport function {}({}) {}\n",
            function.item_name().to_lower_camel_case(),
            params(function),
            body(function, "")
        );
    }
    for interface in &exports.interfaces {
        for resource in &interface.resources {
            let _ = write!(js, "\nclass {} {{\n", resource.name.to_upper_camel_case());
            for function in resource.constructor.iter().chain(&resource.functions) {
                let name = match function.kind {
                    FunctionKind::Constructor(_) => "constructor".to_string(),
                    FunctionKind::Static(_) | FunctionKind::AsyncStatic(_) => {
                        format!("static {}", function.item_name().to_lower_camel_case())
                    }
                    _ => function.item_name().to_lower_camel_case(),
                };
                let _ = writeln!(
                    js,
                    "  {name}({}) {}",
                    params(function),
                    body(function, "  ")
                );
            }
            js.push_str("}\n");
        }
        let _ = write!(
            js,
            "\nexport const {} = {{\n",
            interface.name.to_lower_camel_case()
        );
        for resource in &interface.resources {
            let _ = writeln!(js, "  {},", resource.name.to_upper_camel_case());
        }
        for function in &interface.functions {
            let _ = writeln!(
                js,
                "  {}({}) {},",
                function.item_name().to_lower_camel_case(),
                params(function),
                body(function, "  ")
            );
        }
        js.push_str("};\n");
    }
    write_file(&root.join("src/plugin.js"), &js)
}

fn params(function: &Function) -> String {
    own_params(function)
        .map(|p| p.name.to_lower_camel_case())
        .collect::<Vec<_>>()
        .join(", ")
}

fn body(function: &Function, indent: &str) -> String {
    format!(
        "{{\n{indent}  throw new Error(\"not implemented: {}\");\n{indent}}}",
        function.name
    )
}
