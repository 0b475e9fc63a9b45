//! The DHCPv6 server identifier (the DUID in every reply's option 2), kept in the
//! store (`tern.dhcp6_server_id`, migration 0007): it survives restarts, as Kea's
//! `kea-dhcp6-serverid` file does, and every tern server on one database answers with
//! the same one, so any of them can take a client's RENEW.

use sqlx::PgConnection;

use crate::{Error, Result};

/// A DUID tern may store: 3 to 130 bytes (RFC 8415 §11.1), and not the empty DUID
/// 00:00:00 that declined leases carry.
fn check(duid: &[u8]) -> Result<()> {
    if (3..=130).contains(&duid.len()) && duid != [0, 0, 0] {
        return Ok(());
    }
    let hex: Vec<String> = duid.iter().map(|b| format!("{b:02x}")).collect();
    Err(Error::InvalidDuid(if hex.is_empty() {
        "(empty)".to_owned()
    } else {
        hex.join(":")
    }))
}

/// The server DUID: the stored one, or `proposal` when none is stored yet (then it is
/// stored). Servers starting at once on one database all get the same DUID: the
/// statement that inserts also returns the row another server just inserted.
pub async fn dhcp6_server_duid(conn: &mut PgConnection, proposal: &[u8]) -> Result<Vec<u8>> {
    check(proposal)?;
    // DO UPDATE (to the same value) rather than DO NOTHING, so that the row is
    // returned when it exists, even when another transaction committed it after this
    // statement's snapshot was taken.
    let duid: Vec<u8> = sqlx::query_scalar(
        "INSERT INTO tern.dhcp6_server_id AS s (id, duid) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET duid = s.duid RETURNING duid",
    )
    .bind(proposal)
    .fetch_one(conn)
    .await?;
    Ok(duid)
}

/// Stores `duid` as the server DUID, replacing any other (a `server-id` given in the
/// configuration). Its `created` time moves only when the DUID changes.
pub async fn set_dhcp6_server_duid(conn: &mut PgConnection, duid: &[u8]) -> Result<()> {
    check(duid)?;
    sqlx::query(
        "INSERT INTO tern.dhcp6_server_id AS s (id, duid) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET duid = EXCLUDED.duid, \
           created = CASE WHEN s.duid = EXCLUDED.duid THEN s.created ELSE now() END",
    )
    .bind(duid)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duid_lengths_and_the_empty_duid() {
        assert!(check(&[0, 3, 0]).is_ok());
        assert!(check(&[1; 130]).is_ok());
        for bad in [&[][..], &[0, 1], &[0, 0, 0], &[1; 131]] {
            assert!(matches!(check(bad), Err(Error::InvalidDuid(_))), "{bad:?}");
        }
        assert_eq!(
            check(&[0, 0, 0]).unwrap_err().to_string(),
            "invalid DUID 00:00:00: a DUID is 3 to 130 bytes and not 00:00:00"
        );
    }
}
