//! One shared value kept for a fixed time: figures that are the same for many viewers and may be
//! a few seconds old (the dashboard's company and administrator figures). Never for anything a
//! decision depends on — sessions and permissions go through the write generation instead.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct TimedSlot<T> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> TimedSlot<T> {
    pub fn new(ttl: Duration) -> Self {
        TimedSlot {
            ttl,
            slot: Mutex::new(None),
        }
    }

    /// The kept value, while younger than the time limit and `usable` says so.
    pub fn get_if(&self, usable: impl FnOnce(&T) -> bool) -> Option<T> {
        let slot = self.slot.lock().ok()?;
        let (loaded, value) = slot.as_ref()?;
        (loaded.elapsed() < self.ttl && usable(value)).then(|| value.clone())
    }

    pub fn set(&self, value: T) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some((Instant::now(), value));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_kept_until_cleared_or_refused() {
        let slot = TimedSlot::new(Duration::from_secs(60));
        assert_eq!(slot.get_if(|_: &i32| true), None);
        slot.set(7);
        assert_eq!(slot.get_if(|_| true), Some(7));
        assert_eq!(slot.get_if(|v| *v == 8), None);
        slot.clear();
        assert_eq!(slot.get_if(|_| true), None);
        let expired = TimedSlot::new(Duration::ZERO);
        expired.set(1);
        assert_eq!(expired.get_if(|_| true), None);
    }
}
