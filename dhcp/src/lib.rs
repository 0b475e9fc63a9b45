//! DHCPv4/v6 engine: packets -> decisions -> leases + NameChangeRequests.
//!
//! Not served yet: `tern serve` names the Dhcp4/Dhcp6 sections it does not serve.
#![warn(missing_docs)]
