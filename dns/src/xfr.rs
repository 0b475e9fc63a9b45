//! Zone transfers out (to come: AXFR RFC 5936, IXFR RFC 1995).

use hickory_proto::op::ResponseCode;

use crate::handler::{Handler, Reply, Request};

/// Answers an AXFR or IXFR query.
pub async fn handle(h: &Handler, req: &Request<'_>) -> Reply {
    vec![h.finish(req, h.error_response(&req.message, ResponseCode::Refused))]
}
