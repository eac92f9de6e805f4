//! Layer 7, the client: what users hold.
//!
//! [`handle::Client`] (one transmission core, its sampling and sending),
//! [`builder::Builder`] (libhoney's middle scope), [`global`] (the client
//! `init` installs), and [`typed`] (the `send()` methods of generated
//! types, and of [`Event`](crate::Event)). May use every layer below;
//! nothing outside `client` uses `client`.

pub(crate) mod builder;
pub(crate) mod global;
pub(crate) mod handle;
pub(crate) mod typed;

pub use self::builder::Builder;
pub use self::global::{flush, global, init, shutdown, InitGuard};
pub use self::handle::Client;
pub use self::typed::TypedSend;
