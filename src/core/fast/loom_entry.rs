//! Entry points for the loom model checks of `tests/loom_spool.rs`: the
//! real spool of [`raw::spool`](super::raw::spool) (its buffer, marks,
//! publish, view and reclaim), driven the way `core::fast::slots` drives
//! it, with the slot's lock a [`sync::Mutex`](super::sync::Mutex) (loom's
//! under `--cfg loom`). Built only with `--cfg loom`; re-exported,
//! hidden, as `insights_events::__loom`.

use super::raw::spool::{Marks, OwnSpool, SpoolView};
use super::sync::{Arc, Mutex};

pub use super::sync::Plant;

/// A slot as far as its spool goes: the marks, and the worker's view
/// in the slot's locked state (`Slot::marks`, `SlotState::spool`).
pub struct Slot {
    marks: Marks,
    state: Mutex<Option<SpoolView>>,
}

/// The owning thread's side (`ThreadBuffers::spool`).
pub struct Owner {
    slot: Arc<Slot>,
    spool: Option<OwnSpool>,
}

/// A slot whose owner has a spool of `cap` bytes, its view installed in
/// the locked state (`ThreadBuffers::install`).
pub fn spool(cap: usize) -> (Owner, Arc<Slot>) {
    let slot = Arc::new(Slot {
        marks: Marks::default(),
        state: Mutex::new(None),
    });
    let mut st = slot.state.lock().unwrap_or_else(|e| e.into_inner());
    let mut sp = OwnSpool::new(Vec::new(), cap, &slot.marks);
    *st = Some(sp.view());
    drop(st);
    let owner = Owner {
        slot: slot.clone(),
        spool: Some(sp),
    };
    (owner, slot)
}

impl Owner {
    /// Appends `record` without the lock and publishes it, if it fits
    /// (`ThreadBuffers::try_append`): `None` when it does not, else
    /// whether the worker had taken everything before it.
    pub fn try_append(&mut self, record: &[u8]) -> Option<bool> {
        let sp = self.spool.as_mut()?;
        if sp.room() < record.len() {
            return None;
        }
        let before = sp.len();
        sp.put(&self.slot.marks, record);
        Some(self.slot.marks.taken() == before)
    }

    /// Under the lock: if the worker took every record, rewinds the
    /// spool to write it again from its start (`ThreadBuffers::drained`,
    /// then `OwnSpool::rewind` as `seal` does). Whether it did.
    pub fn rewind_if_drained(&mut self) -> bool {
        let _st = self.slot.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sp) = self.spool.as_mut() else {
            return false;
        };
        if self.slot.marks.taken() != sp.len() {
            return false;
        }
        sp.rewind(&self.slot.marks);
        true
    }

    /// Under the lock: takes the view out of the locked state and the
    /// buffer back as a vector of its written bytes (`OwnSpool::reclaim`,
    /// as `seal` and the thread's exit do), with the bytes of it the
    /// worker had taken.
    pub fn reclaim(&mut self) -> Option<(Vec<u8>, usize)> {
        let mut st = self.slot.state.lock().unwrap_or_else(|e| e.into_inner());
        let sp = self.spool.take()?;
        let taken = self.slot.marks.taken();
        Some((sp.reclaim(&mut st)?, taken))
    }
}

impl Slot {
    /// Under the lock: copies the published records not taken yet and
    /// marks them taken (`Slot::take_spool`).
    pub fn take(&self) -> Vec<u8> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(view) = st.as_ref() else {
            return Vec::new();
        };
        let (bytes, committed) = view.published(&self.marks);
        if bytes.is_empty() {
            return Vec::new();
        }
        let out = bytes.to_vec();
        self.marks.set_taken(committed);
        out
    }
}
