//! One module per subcommand.

pub mod build;
pub mod cache;
pub mod call;
pub mod check;
pub mod grants;
pub mod inspect;
pub mod install;
pub mod kv;
pub mod new;
pub mod run;
pub mod serve;
pub mod signing;
pub mod transfer;
