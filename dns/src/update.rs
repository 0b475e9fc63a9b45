//! RFC 2136 UPDATE (to come: prerequisites, policy, applied in the store).

use hickory_proto::op::ResponseCode;

use crate::handler::{Handler, Reply, Request};

/// Answers an UPDATE.
pub async fn handle(h: &Handler, req: &Request<'_>) -> Reply {
    vec![h.finish(req, h.error_response(&req.message, ResponseCode::NotImp))]
}
