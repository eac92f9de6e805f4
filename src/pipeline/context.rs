//! Event context: fields set for a scope and merged under every event sent
//! inside it (honeybadger-python's `event_context`).
//!
//! The context lives in a thread-local slot. [`scope`] sets it for the length
//! of a closure; [`WithContext`] (from [`FutureExt::with_event_context`])
//! carries it with a future, installing it around every poll, so it follows
//! the task across `.await`s and across the worker threads of a multi-thread
//! runtime, and is gone when the poll returns: nothing leaks from one request
//! into the next.
//!
//! ```
//! use insights_events::context;
//! use serde_json::json;
//!
//! context::scope([("request_id", json!("abc-123"))], || {
//!     assert_eq!(context::get("request_id"), Some(json!("abc-123")));
//! });
//! assert_eq!(context::get("request_id"), None);
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use serde_json::Value;

use crossbeam_utils::CachePadded;

use crate::model::fields::{Fields, SharedFields};

thread_local! {
    static CURRENT: RefCell<Option<SharedFields>> = const { RefCell::new(None) };
}

/// A copy of the current context, if any.
pub fn current() -> Option<Fields> {
    current_layer().map(|l| Fields::clone(&l))
}

/// The current context as events carry it (cheap: a shared pointer).
pub(crate) fn current_layer() -> Option<SharedFields> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Whether this thread has a current context.
pub(crate) fn is_set() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

/// One value of the current context.
pub fn get(key: &str) -> Option<Value> {
    CURRENT.with(|c| c.borrow().as_ref().and_then(|m| m.get(key).cloned()))
}

fn merged<K, I>(fields: I) -> Option<SharedFields>
where
    K: Into<String>,
    I: IntoIterator<Item = (K, Value)>,
{
    let mut map = current().unwrap_or_default();
    for (k, v) in fields {
        map.insert(k.into(), v);
    }
    Some(Arc::new(CachePadded::new(map)))
}

/// Restores the previous context when dropped (also on panic).
struct Restore(Option<SharedFields>);
impl Drop for Restore {
    fn drop(&mut self) {
        let prev = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

fn install(ctx: Option<SharedFields>) -> Restore {
    Restore(CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), ctx)))
}

/// Runs `f` with `ctx` as the whole current context (the previous one
/// comes back afterwards, also on panic).
#[cfg(feature = "tower")]
pub(crate) fn with_layer<R>(ctx: Option<SharedFields>, f: impl FnOnce() -> R) -> R {
    let _restore = install(ctx);
    f()
}

/// Runs `f` with `fields` added to the context; the previous context comes
/// back when `f` returns or panics.
pub fn scope<K, I, R>(fields: I, f: impl FnOnce() -> R) -> R
where
    K: Into<String>,
    I: IntoIterator<Item = (K, Value)>,
{
    let _restore = install(merged(fields));
    f()
}

/// Adds one field to the current context, as honeybadger-python's
/// `set_event_context`. Inside [`scope`] or a [`WithContext`] future, the
/// change ends with that scope; outside any scope it stays on this thread
/// until [`clear`].
pub fn set(key: impl Into<String>, value: impl Into<Value>) {
    CURRENT.with(|c| {
        let mut slot = c.borrow_mut();
        let map = slot.get_or_insert_with(Default::default);
        Arc::make_mut(map).insert(key.into(), value.into());
    });
}

/// Removes every field of this thread's current context.
pub fn clear() {
    CURRENT.with(|c| *c.borrow_mut() = None);
}

/// A future that runs with an event context (see [`FutureExt`]).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WithContext<F> {
    inner: Pin<Box<F>>,
    ctx: Option<SharedFields>,
}

#[cfg(feature = "tower")]
impl<F> WithContext<F> {
    /// The context the future runs with (as it left it after its last
    /// poll).
    pub(crate) fn layer(&self) -> Option<SharedFields> {
        self.ctx.clone()
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let restore = install(this.ctx.take());
        let out = this.inner.as_mut().poll(cx);
        // Keep what the task set with `context::set` for its next poll, and
        // give the thread back its own context.
        this.ctx = CURRENT.with(|c| c.borrow_mut().take());
        drop(restore);
        out
    }
}

/// Attaches an event context to a future.
pub trait FutureExt: Future + Sized {
    /// Runs the future with `fields` added to the context current when this
    /// is called.
    ///
    /// ```
    /// use insights_events::context::{self, FutureExt};
    /// use serde_json::json;
    ///
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// async {
    ///     tokio::task::yield_now().await;
    ///     assert_eq!(context::get("request_id"), Some(json!("r-1")));
    /// }
    /// .with_event_context([("request_id", json!("r-1"))])
    /// .await;
    /// # });
    /// ```
    fn with_event_context<K, I>(self, fields: I) -> WithContext<Self>
    where
        K: Into<String>,
        I: IntoIterator<Item = (K, Value)>,
    {
        WithContext {
            inner: Box::pin(self),
            ctx: merged(fields),
        }
    }

    /// Runs the future with the context current when this is called (to carry
    /// it into `tokio::spawn`).
    fn in_current_context(self) -> WithContext<Self> {
        WithContext {
            inner: Box::pin(self),
            ctx: current_layer(),
        }
    }
}

impl<F: Future> FutureExt for F {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scope_nests_and_restores() {
        scope([("a", json!(1))], || {
            scope([("b", json!(2))], || {
                assert_eq!(get("a"), Some(json!(1)));
                assert_eq!(get("b"), Some(json!(2)));
            });
            assert_eq!(get("b"), None);
        });
        assert!(current().is_none());
    }

    #[test]
    fn scope_restores_after_panic() {
        let r = std::panic::catch_unwind(|| scope([("a", json!(1))], || panic!("boom")));
        assert!(r.is_err());
        assert!(current().is_none());
    }
}
