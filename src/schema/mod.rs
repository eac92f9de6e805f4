//! Layer 3, the schemas: the types generated from `schemas/` at build time
//! ([`generated`]), the checks they make while parsing ([`rules`]) and the
//! validation of events against them ([`check`]), the user's own schemas
//! loaded at run time and checked the same way ([`loaded`]), and how an event without
//! a schema of its own name is placed ([`placing`]).
//! May use: `encode`, `model`, `json`, `error`. Sending a generated type is
//! not part of this layer: its `send()` methods come from `client`.

pub mod check;
pub mod generated;
pub mod loaded;
pub mod placing;
pub mod rules;
