//! A map from a type to one value of it: the resources a plan's stages are
//! compiled with ([`Resources`]), and the state a request's policies hand
//! each other ([`Extensions`], `Exchange::extensions`).
//!
//! Small on purpose: a handful of entries at most, found by a linear scan
//! of `TypeId`s, and no allocation while empty (most requests).

use std::any::{Any, TypeId};
use std::sync::Arc;

/// One value per type, owned (a request's state: a lookup's result for the
/// store policy of the same request, a token limit's count for outbound).
#[derive(Default)]
pub struct Extensions(Vec<(TypeId, Box<dyn Any + Send + Sync>)>);

impl Extensions {
    /// Sets the value of type `T`, returning the one it replaces.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) -> Option<T> {
        let id = TypeId::of::<T>();
        let old = self.remove::<T>();
        self.0.push((id, Box::new(value)));
        old
    }

    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.0
            .iter()
            .find(|(t, _)| *t == id)
            .and_then(|(_, v)| v.downcast_ref())
    }

    pub fn get_mut<T: Any + Send + Sync>(&mut self) -> Option<&mut T> {
        let id = TypeId::of::<T>();
        self.0
            .iter_mut()
            .find(|(t, _)| *t == id)
            .and_then(|(_, v)| v.downcast_mut())
    }

    pub fn remove<T: Any + Send + Sync>(&mut self) -> Option<T> {
        let id = TypeId::of::<T>();
        let i = self.0.iter().position(|(t, _)| *t == id)?;
        let (_, v) = self.0.swap_remove(i);
        v.downcast().ok().map(|b| *b)
    }

    pub fn contains<T: Any + Send + Sync>(&self) -> bool {
        self.get::<T>().is_some()
    }
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Extensions({} entries)", self.0.len())
    }
}

/// What outlives a plan, as its stages are compiled with it: one shared
/// handle per resource family (the semantic cache, backends, metrics...),
/// found by its type. The gateway fills it from its families
/// (`sluice_gateway::resources`); a stage keeps the handles it needs.
#[derive(Clone, Default)]
pub struct Resources(Vec<(TypeId, &'static str, Arc<dyn Any + Send + Sync>)>);

impl Resources {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the handle of type `T`.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: Arc<T>) {
        let id = TypeId::of::<T>();
        self.0.retain(|(t, _, _)| *t != id);
        self.0.push((id, std::any::type_name::<T>(), value));
    }

    /// [`Resources::insert`], by value.
    pub fn with<T: Any + Send + Sync>(mut self, value: T) -> Self {
        self.insert(Arc::new(value));
        self
    }

    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let id = TypeId::of::<T>();
        self.0
            .iter()
            .find(|(t, _, _)| *t == id)
            .and_then(|(_, _, v)| Arc::clone(v).downcast().ok())
    }
}

impl std::fmt::Debug for Resources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(_, name, _)| name))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_hold_one_value_per_type() {
        let mut x = Extensions::default();
        assert!(x.get::<u32>().is_none());
        assert_eq!(x.insert(1_u32), None);
        assert_eq!(x.insert("a".to_owned()), None);
        assert_eq!(x.insert(2_u32), Some(1));
        assert_eq!(x.get::<u32>(), Some(&2));
        *x.get_mut::<String>().unwrap() += "b";
        assert_eq!(x.remove::<String>().as_deref(), Some("ab"));
        assert!(!x.contains::<String>());
        assert!(x.contains::<u32>());
    }

    #[test]
    fn resources_are_found_by_type() {
        let r = Resources::new().with(7_u64).with("x");
        assert_eq!(r.get::<u64>().as_deref(), Some(&7));
        assert_eq!(r.get::<&str>().as_deref(), Some(&"x"));
        assert!(r.get::<u8>().is_none());
        let r = r.with(8_u64);
        assert_eq!(r.get::<u64>().as_deref(), Some(&8));
    }
}
