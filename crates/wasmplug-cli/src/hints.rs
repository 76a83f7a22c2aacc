//! What to type: the command line's own hint for a library error, whose
//! message says what happened in the library's terms.

use wasmplug::{Error, Limit, Permission};

/// A suffix for `error`'s message naming the flags that would help, or
/// nothing.
pub fn hint(error: &Error) -> String {
    let text = match error {
        Error::LimitExceeded { limit, .. } => match limit {
            Limit::Memory => "raise it with --max-memory or [limits] memory",
            Limit::CpuTime => "raise it with --timeout or [limits] cpu",
            Limit::Fuel => "raise it with --fuel or [limits] fuel",
            Limit::Output => "raise it with [limits] output",
            Limit::Transfer => "raise it with [limits] transfer",
            _ => return String::new(),
        }
        .to_string(),
        Error::Deadline { .. } => "raise it with --timeout or [limits] timeout".to_string(),
        Error::MissingImport { import, .. } if !import.starts_with("wasi:") => format!(
            "to try the plugin without its host, answer its functions with \
             --mock {}#FUNCTION=VALUE, or compose it with a component that exports the \
             interface: --with COMPONENT",
            import.split('@').next().unwrap_or(import)
        ),
        Error::ConsentRequired { missing, .. } => {
            let flags: Vec<String> = missing
                .iter()
                .filter_map(|request| {
                    let flag = grant_flag(&request.permission)?;
                    Some(format!("{}: {flag}", request.permission))
                })
                .collect();
            if flags.is_empty() {
                "there is no terminal to ask on; consent to them for this run with --yes"
                    .to_string()
            } else {
                format!(
                    "there is no terminal to ask on; grant them with flags ({}) or consent to \
                     them for this run with --yes",
                    flags.join("; ")
                )
            }
        }
        _ => return String::new(),
    };
    format!(" ({text})")
}

/// The flag that grants `permission`, if one does.
pub fn grant_flag(permission: &Permission) -> Option<String> {
    Some(match permission {
        Permission::Dir { path, access } => match access {
            wasmplug::Access::ReadWrite => format!("--dir HOST::{path}"),
            _ => format!("--ro-dir HOST::{path}"),
        },
        Permission::Env { name } => format!("--env {name}"),
        Permission::Net { address } => format!("--allow-net {address}"),
        Permission::Http { origin } => format!("--allow-http {origin}"),
        Permission::Clocks | Permission::Random => "given by default".into(),
        Permission::Stdin => "given by `wasmplug run`".into(),
        _ => return None,
    })
}
