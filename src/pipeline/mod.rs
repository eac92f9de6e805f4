//! Layer 4, the pipeline's policy: what happens to an event between
//! `send()` and its encoding, as plain functions.
//!
//! [`context`] (fields for a scope), [`filter`] (params filters),
//! [`sampling`] (which events to keep), and [`prepare`] (the steps and
//! checks both the typed and the hand-built path go through: layers,
//! hooks, `_hb`, filters, validity). None of them owns a thread or a
//! buffer. May use: `schema`, `encode`, `model`, `json`, `error`.

pub mod context;
pub mod filter;
pub(crate) mod prepare;
pub mod sampling;
