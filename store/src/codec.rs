//! How Kea's tables encode addresses and numbers, in one place for every query: an
//! IPv4 address is a `bigint` holding its unsigned 32-bit value (0 in an optional
//! column means none), an IPv6 address or prefix an `inet` written as text, unsigned
//! 32-bit values `bigint`s.

use std::net::{Ipv4Addr, Ipv6Addr};

/// An IPv4 address as Kea stores it.
pub(crate) fn v4_to_db(a: Ipv4Addr) -> i64 {
    i64::from(u32::from(a))
}

/// The address of a `bigint` column.
pub(crate) fn v4_from_db(v: i64) -> Ipv4Addr {
    Ipv4Addr::from(v as u32)
}

/// An optional address column: NULL, 0 or a value out of range is none.
pub(crate) fn v4_opt_from_db(v: Option<i64>) -> Option<Ipv4Addr> {
    v.filter(|v| *v > 0 && *v <= i64::from(u32::MAX))
        .map(v4_from_db)
}

/// An unsigned 32-bit column (lifetimes, subnet ids); NULL reads as 0.
pub(crate) fn u32_from_db(v: Option<i64>) -> u32 {
    v.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32
}

/// An IPv6 address as bound to an `inet` parameter (`$n::inet`).
pub(crate) fn v6_to_db(a: Ipv6Addr) -> String {
    a.to_string()
}

/// The address of an `inet` column read as `host(column)`.
pub(crate) fn v6_from_db(text: &str) -> crate::Result<Ipv6Addr> {
    text.parse()
        .map_err(|_| crate::Error::Decode(format!("'{text}' is not an IPv6 address")))
}

/// Appends `before $n after` to a query's conditions when a filter value is given
/// (`" AND address = "`, `v`, `""`).
pub(crate) fn cond<'a, T>(
    q: &mut sqlx::QueryBuilder<'a, sqlx::Postgres>,
    before: &str,
    value: Option<T>,
    after: &str,
) where
    T: 'a + sqlx::Encode<'a, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send,
{
    if let Some(v) = value {
        q.push(before).push_bind(v).push(after);
    }
}

/// Appends ` ORDER BY order` and the `LIMIT`, if any.
pub(crate) fn order_limit(
    q: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>,
    order: &str,
    limit: Option<i64>,
) {
    q.push(" ORDER BY ").push(order);
    cond(q, " LIMIT ", limit, "");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        let a = Ipv4Addr::new(192, 0, 2, 200);
        assert_eq!(v4_to_db(a), 3_221_226_184);
        assert_eq!(v4_from_db(v4_to_db(a)), a);
        assert_eq!(v4_opt_from_db(Some(0)), None);
        assert_eq!(v4_opt_from_db(Some(-1)), None);
        assert_eq!(u32_from_db(Some(-5)), 0);
        assert_eq!(u32_from_db(Some(i64::MAX)), u32::MAX);
        assert!(v6_from_db("nonsense").is_err());
    }
}
