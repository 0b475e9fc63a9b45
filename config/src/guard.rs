//! The client classes a subnet, shared network or pool names (its guard and the classes
//! it requires).

use crate::common::Map;

/// The classes a subnet, shared network or pool names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassGuard {
    /// Kea 2.2's `client-class` (one) and 3.x's `client-classes` (any of them): only
    /// members may use it; empty means every client.
    pub allowed: Vec<String>,
    /// `require-client-classes` (2.2) / `evaluate-additional-classes` (3.x): classes
    /// evaluated last, for packets that use it.
    pub additional: Vec<String>,
}

impl ClassGuard {
    pub(crate) fn read(m: &Map<'_>) -> ClassGuard {
        let mut allowed: Vec<String> = Vec::new();
        let mut additional: Vec<String> = Vec::new();
        let add = |list: &mut Vec<String>, s: &str| {
            if !s.is_empty() && !list.iter().any(|c| c == s) {
                list.push(s.to_string());
            }
        };
        if let Some(one) = m.str("client-class") {
            add(&mut allowed, one);
        }
        for (_, s, _) in m.strs("client-classes") {
            add(&mut allowed, s);
        }
        for key in ["require-client-classes", "evaluate-additional-classes"] {
            for (_, s, _) in m.strs(key) {
                add(&mut additional, s);
            }
        }
        ClassGuard {
            allowed,
            additional,
        }
    }

    /// Whether a packet in `classes` may use what this guards.
    pub fn admits(&self, classes: &[impl AsRef<str>]) -> bool {
        self.allowed.is_empty()
            || self
                .allowed
                .iter()
                .any(|a| classes.iter().any(|c| c.as_ref() == a))
    }
}
