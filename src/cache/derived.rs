//! A value derived from a shared `Arc<S>` (e.g. a page fragment rendered from shared figures),
//! computed once per version of the source: it is used again only while the source is the very
//! same `Arc`. Holding that `Arc` keeps the pointer comparison sound.

use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub struct Derived<S, V: ?Sized> {
    kept: Mutex<Option<(Arc<S>, Arc<V>)>>,
}

impl<S, V: ?Sized> Default for Derived<S, V> {
    fn default() -> Self {
        Derived {
            kept: Mutex::new(None),
        }
    }
}

impl<S, V: ?Sized> Derived<S, V> {
    /// The value for `source`: the kept one if it was derived from this very `Arc`, otherwise
    /// `derive(source)`, then kept.
    pub fn get_or_try<E>(
        &self,
        source: &Arc<S>,
        derive: impl FnOnce(&S) -> Result<Arc<V>, E>,
    ) -> Result<Arc<V>, E> {
        if let Ok(kept) = self.kept.lock() {
            if let Some((from, value)) = kept.as_ref() {
                if Arc::ptr_eq(from, source) {
                    return Ok(Arc::clone(value));
                }
            }
        }
        let value = derive(source)?;
        if let Ok(mut kept) = self.kept.lock() {
            *kept = Some((Arc::clone(source), Arc::clone(&value)));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_derived_once_per_version_of_its_source() {
        let kept: Derived<u32, str> = Derived::default();
        let first = Arc::new(1);
        let mut calls = 0;
        let mut derive = |n: &u32| -> Result<Arc<str>, ()> {
            calls += 1;
            Ok(n.to_string().into())
        };
        assert_eq!(&*kept.get_or_try(&first, &mut derive).unwrap(), "1");
        assert_eq!(&*kept.get_or_try(&first, &mut derive).unwrap(), "1");
        let equal_but_new = Arc::new(1);
        kept.get_or_try(&equal_but_new, &mut derive).unwrap();
        assert_eq!(calls, 2);
    }
}
