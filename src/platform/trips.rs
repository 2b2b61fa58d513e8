//! Round trips to D1 and KV, counted where they happen, for the request's log line.
//! Counted per request, not per isolate: an isolate serves requests concurrently, so
//! each request's context owns its counters and hands clones to the handles it makes.

use std::cell::Cell;
use std::rc::Rc;

/// A shared count (wasm is single-threaded: `Rc<Cell>` is enough).
#[derive(Clone, Debug, Default)]
pub struct RoundTrips(Rc<Cell<u32>>);

impl RoundTrips {
    /// One more round trip.
    pub fn add(&self) {
        self.0.set(self.0.get().saturating_add(1));
    }

    pub fn count(&self) -> u32 {
        self.0.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_count() {
        let trips = RoundTrips::default();
        let handle = trips.clone();
        handle.add();
        handle.add();
        trips.add();
        assert_eq!(trips.count(), 3);
        assert_eq!(RoundTrips::default().count(), 0);
    }
}
