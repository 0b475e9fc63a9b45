//! Every zone served, swapped atomically: query threads load the current map without a
//! lock; the one writer (the store follower in `sync`) installs a new map per change. Zones
//! come and go at run time.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use hickory_proto::rr::Name;

use crate::zone::Zone;

type Fast<K> = imbl::GenericHashMap<
    K,
    Arc<Zone>,
    foldhash::fast::RandomState,
    imbl::shared_ptr::DefaultSharedPtr,
>;

/// The zones by origin, and by the origin's lower-cased wire form (the fast path's key).
#[derive(Debug, Clone, Default)]
struct Map {
    by_name: Fast<Name>,
    by_wire: Fast<Vec<u8>>,
}

impl Map {
    fn insert(&mut self, zone: Arc<Zone>) {
        self.by_wire
            .insert(zone.origin_wire().to_vec(), zone.clone());
        self.by_name.insert(zone.origin().clone(), zone);
    }

    fn remove(&mut self, origin: &Name) {
        if let Some(z) = self.by_name.remove(origin) {
            self.by_wire.remove(z.origin_wire());
        }
    }
}

/// The zones this server answers for.
#[derive(Debug, Default)]
pub struct Catalog {
    zones: ArcSwap<Map>,
    // Writers take turns; readers never wait.
    write: Mutex<()>,
}

impl Catalog {
    /// No zones.
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// The zone `qname` belongs to: the longest origin that is `qname` or one of its
    /// ancestors.
    pub fn find(&self, qname: &Name) -> Option<Arc<Zone>> {
        let zones = &self.zones.load().by_name;
        if zones.is_empty() {
            return None;
        }
        let mut labels = qname.num_labels();
        loop {
            let candidate = if labels == qname.num_labels() {
                zones.get(qname)
            } else {
                zones.get(&qname.trim_to(usize::from(labels)))
            };
            if let Some(z) = candidate {
                return Some(z.clone());
            }
            if labels == 0 {
                return None;
            }
            labels -= 1;
        }
    }

    /// The zone a lower-cased wire name belongs to (the fast path: no name is built).
    pub fn find_wire(&self, lower_qname: &[u8]) -> Option<Arc<Zone>> {
        let zones = &self.zones.load().by_wire;
        let mut at = 0;
        loop {
            if let Some(z) = zones.get(&lower_qname[at..]) {
                return Some(z.clone());
            }
            let len = usize::from(*lower_qname.get(at)?);
            if len == 0 {
                return None;
            }
            at += 1 + len;
        }
    }

    /// The zone whose origin is `origin`.
    pub fn get(&self, origin: &Name) -> Option<Arc<Zone>> {
        self.zones.load().by_name.get(origin).cloned()
    }

    /// The zone with the store's id `id`.
    pub fn by_id(&self, id: i64) -> Option<Arc<Zone>> {
        self.zones
            .load()
            .by_name
            .values()
            .find(|z| z.id() == id)
            .cloned()
    }

    /// Every zone.
    pub fn zones(&self) -> Vec<Arc<Zone>> {
        self.zones.load().by_name.values().cloned().collect()
    }

    /// Adds `zone` or replaces the version served.
    pub fn insert(&self, zone: Zone) {
        let _w = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = Map::clone(&self.zones.load());
        next.insert(Arc::new(zone));
        self.zones.store(Arc::new(next));
    }

    /// Serves `zone` unless a version of it as new or newer is served already (the store's
    /// serial only moves forward, so an older one arriving late is stale); whether it did.
    pub fn insert_newer(&self, zone: Zone) -> bool {
        let _w = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.zones.load();
        if let Some(z) = current.by_name.get(zone.origin()) {
            if z.id() == zone.id() && z.serial() >= zone.serial() {
                return false;
            }
        }
        let mut next = Map::clone(&current);
        next.insert(Arc::new(zone));
        self.zones.store(Arc::new(next));
        true
    }

    /// Stops serving the zone with id `id`; returns its origin.
    pub fn remove(&self, id: i64) -> Option<Name> {
        let _w = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.zones.load();
        let origin = current
            .by_name
            .values()
            .find(|z| z.id() == id)?
            .origin()
            .clone();
        let mut next = Map::clone(&current);
        next.remove(&origin);
        self.zones.store(Arc::new(next));
        Some(origin)
    }

    /// Serves exactly `zones` (a reload after the store connection came back).
    pub fn replace_all(&self, zones: Vec<Zone>) {
        let _w = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = Map::default();
        for z in zones {
            next.insert(Arc::new(z));
        }
        self.zones.store(Arc::new(next));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::tests::soa;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn the_longest_origin_wins_and_zones_come_and_go() {
        let c = Catalog::new();
        c.insert(Zone::new(1, "example.com.", 1, soa()).unwrap());
        c.insert(Zone::new(2, "sub.example.com.", 1, soa()).unwrap());
        assert_eq!(c.find(&n("a.sub.example.com.")).unwrap().id(), 2);
        assert_eq!(c.find(&n("Example.COM.")).unwrap().id(), 1);
        assert_eq!(c.find(&n("b.example.com.")).unwrap().id(), 1);
        assert!(c.find(&n("example.org.")).is_none());
        let wire = |s: &str| {
            use hickory_proto::serialize::binary::BinEncodable;
            n(s).to_bytes().unwrap()
        };
        assert_eq!(c.find_wire(&wire("a.sub.example.com.")).unwrap().id(), 2);
        assert_eq!(c.find_wire(&wire("x.example.com.")).unwrap().id(), 1);
        assert!(c.find_wire(&wire("example.org.")).is_none());
        assert_eq!(c.remove(2), Some(n("sub.example.com.")));
        assert_eq!(c.find(&n("a.sub.example.com.")).unwrap().id(), 1);
    }
}
