//! RFC 2136 UPDATE: the zone section, the prerequisites (§3.2), the update policy (§3.3,
//! BIND's `update-policy` grants) and the update section (§3.4), worked out by pure
//! functions on the records at the names the update touches, read and changed in one store
//! transaction that holds the zone's lock; the answer goes out after the commit.

pub mod grant;
pub mod prereq;
pub mod section;
pub mod state;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::Name;

use crate::handler::{Handler, Reply, Request};
use crate::policy::ZonePolicy;
use section::Plan;
use state::{Managed, Refusal, State};

/// Answers an UPDATE.
pub async fn handle(h: &Handler, req: &Request<'_>) -> Reply {
    vec![h.finish(req, h.error_response(&req.message, ResponseCode::NotImp))]
}

/// Everything but the store: the prerequisites against `zone` (§3.2), the prescan (§3.4.1),
/// the plan (§3.4.2) and the policy (§3.3) for an update of the zone `zone.origin` signed
/// with `key`, in RFC 2136's order. `in_zone` says whether a name belongs to the zone.
pub fn evaluate(
    msg: &Message,
    zone: &State,
    policy: &ZonePolicy,
    key: &Name,
    in_zone: impl Fn(&Name) -> bool,
) -> Result<Plan, Refusal> {
    prereq::check(&msg.answers, zone, &in_zone)?;
    section::prescan(&msg.authorities, &in_zone)?;
    let managed_by = if grant::is_dhcp_key(policy, key) {
        Managed::Dhcp
    } else {
        Managed::Admin
    };
    let plan = section::plan(zone, &msg.authorities, managed_by)?;
    grant::authorize(policy, key, &msg.authorities, zone, &plan)?;
    Ok(plan)
}
