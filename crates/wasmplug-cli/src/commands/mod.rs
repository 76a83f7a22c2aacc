//! One module per subcommand.

pub mod cache;
pub mod call;
pub mod check;
pub mod inspect;
pub mod run;
