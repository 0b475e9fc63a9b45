//! DNS messages as tern sends and checks them, for every part that talks to a DNS server
//! (d2's RFC 4703 updates, the API's zone editing, the zone server to come).
//!
//! * [`tsig`]: RFC 8945 signing and verification (six HMACs, MAC truncation), and a key
//!   from Kea's `tsig-keys` shape.
//! * [`client`]: one RFC 2136 UPDATE exchange over UDP (ID match, TSIG, answer checks),
//!   with a per-server [`client::SocketPool`].
//! * [`axfr`]: a TSIG-signed zone transfer over TCP (RFC 5936), and the TCP exchange under it.
//! * [`update`]: the UPDATE message and its record forms (RFC 2136 §2), and a whole-RRset
//!   UPDATE sent over UDP or TCP.
//! * [`content`]: record content in presentation format (PowerDNS's and zone files'), parsed
//!   and written back.
//! * [`zonefile`]: BIND zone files read ($ORIGIN, $TTL, $INCLUDE, relative names; errors
//!   `file:line:col`) and written.
//! * [`rcode`]: RCODE mnemonics as dig and BIND's logs spell them.
#![warn(missing_docs)]

pub mod axfr;
pub mod client;
pub mod content;
pub mod rcode;
pub mod tsig;
pub mod update;
pub mod zonefile;
