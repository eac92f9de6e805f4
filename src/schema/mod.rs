//! Layer 3, the schemas: the types generated from `schemas/` at build time
//! ([`generated`]) and the validation of events against them ([`check`]).
//! May use: `encode`, `model`, `json`, `error`. Sending a generated type is
//! not part of this layer: its `send()` methods come from `client`.

pub mod check;
pub mod generated;
