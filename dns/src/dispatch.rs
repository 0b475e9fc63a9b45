//! Where a request goes: queries are answered from the catalog, UPDATEs to [`crate::update`],
//! transfers to [`crate::xfr`]. Kept apart from [`crate::handler`] so that the request
//! handlers build on the handler and not the other way round.

use std::net::SocketAddr;

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::RecordType;
use tern_dnsmsg::tsig;

use crate::handler::{tsig_key_name, Handler, Reply, Request, Transport, Triage};

impl Handler {
    /// Any request.
    pub async fn handle(&self, wire: &[u8], src: SocketAddr, transport: Transport) -> Reply {
        match self.triage(wire, transport, false) {
            Triage::Done(reply) => reply,
            Triage::Full(message) => self.handle_message(wire, message, src, transport).await,
        }
    }

    /// A request [`Handler::triage`] decoded and left to the full path: TSIG, UPDATE,
    /// transfers, NOTIFY.
    pub async fn handle_message(
        &self,
        wire: &[u8],
        mut message: Message,
        src: SocketAddr,
        transport: Transport,
    ) -> Reply {
        let tsig = if tsig_key_name(&message).is_some() {
            match tsig::verify_request(wire, &self.keys, tsig::unix_now()) {
                Ok(v) => Some(v),
                Err(e) => return vec![self.tsig_refusal(wire, &message, src, &e)],
            }
        } else {
            None
        };
        message
            .additionals
            .retain(|r| r.record_type() != RecordType::TSIG);
        let req = Request {
            wire,
            message,
            src,
            transport,
            tsig,
        };
        let opcode = req.message.metadata.op_code;
        let qtype = req.message.queries.first().map(|q| q.query_type());
        match (opcode, qtype) {
            (OpCode::Update, _) => crate::update::handle(self, &req).await,
            (OpCode::Query, Some(RecordType::AXFR | RecordType::IXFR)) => {
                crate::xfr::handle(self, &req).await
            }
            (OpCode::Query, _) => {
                let resp = self.query_message(&req.message, transport);
                vec![self.finish(&req, resp)]
            }
            (OpCode::Notify, _) => {
                // tern is the primary of its zones: a NOTIFY to it has nothing to trigger.
                vec![self.finish(
                    &req,
                    self.error_response(&req.message, ResponseCode::NotImp),
                )]
            }
            _ => vec![self.finish(
                &req,
                self.error_response(&req.message, ResponseCode::NotImp),
            )],
        }
    }
}
