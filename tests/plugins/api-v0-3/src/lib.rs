//! `transform` through the example host's API 0.3.0: the text and the
//! application's name from `about`, the same work as its twin built
//! against the other version (`api-v0-3/src/filter.rs`, shared), so that
//! only the host's side differs.

wit_bindgen::generate!({
    path: "../../../examples/host/wit/v0.3.0",
    world: "filter",
    generate_all,
});

include!("../../api-v0-3/src/filter.rs");
