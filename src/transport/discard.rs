//! A sender that accepts everything and sends nothing (benchmarks, tests).

use super::{BoxFuture, Outcome, SendContext, Sender};
use crate::encode::batch::Batch;

/// Accepts every batch without sending it.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscardSender;

impl Sender for DiscardSender {
    fn name(&self) -> &'static str {
        "discard"
    }
    fn send(&self, batch: Batch, _ctx: SendContext) -> BoxFuture<Vec<Outcome>> {
        Box::pin(std::future::ready(vec![Outcome::ok(None); batch.len()]))
    }
}
