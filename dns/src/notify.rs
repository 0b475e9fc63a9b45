//! NOTIFY out (RFC 1996) to each zone's secondaries after a change (to come).

use std::sync::Arc;

use crate::zone::Zone;

/// Told of every new version of a zone the server installs.
#[derive(Debug, Default)]
pub struct Notifier {}

impl Notifier {
    /// A new version of `zone` is being served.
    pub fn zone_changed(&self, _zone: &Arc<Zone>) {}
}
