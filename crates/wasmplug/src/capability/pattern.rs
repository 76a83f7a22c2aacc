//! Permissions whose value is an address pattern: `net`'s `HOST:PORT` and
//! `http`'s `SCHEME://HOST:PORT`. A plugin requests a named host; an
//! operator may allow `*` for any; what is granted is their meet. Both
//! capabilities read their manifest and policy entries, and meet, through
//! this one piece.

use std::fmt;

use crate::document::Entry;
use crate::error::Result;
use crate::permission::{Grant, Permission, Request};
use crate::policy::Grants;

/// An address pattern, and the permission that carries it.
pub(crate) trait AddressPattern: Sized + fmt::Display {
    /// As a plugin requests it: a host must be named.
    fn from_request(text: &str) -> Result<Self>;
    /// As an operator allows it: `*` for any host too.
    fn from_allowance(text: &str) -> Result<Self>;
    /// The part of `requested` this pattern covers.
    fn narrow(&self, requested: &Self) -> Option<Self>;
    /// The permission for a pattern's text.
    fn permission(text: String) -> Permission;
    /// The pattern's text, when `permission` is of this kind.
    fn text(permission: &Permission) -> Option<&str>;
}

/// The pattern of a permission of this kind.
pub(crate) fn pattern_of<P: AddressPattern>(permission: &Permission) -> Option<P> {
    P::from_allowance(P::text(permission)?).ok()
}

/// A manifest's requests, each `(pattern, reason)` as the entry gave it.
pub(crate) fn requests<P: AddressPattern>(
    entry: &Entry<'_, '_>,
    asked: impl IntoIterator<Item = (String, String)>,
) -> std::result::Result<Vec<Request>, String> {
    asked
        .into_iter()
        .map(|(text, reason)| {
            let pattern = P::from_request(&text).map_err(|e| entry.error(&e.to_string()))?;
            Ok(Request {
                permission: P::permission(pattern.to_string()),
                reason,
            })
        })
        .collect()
}

/// A policy's allowances: a list of patterns.
pub(crate) fn allowances<P: AddressPattern>(
    entry: &Entry<'_, '_>,
) -> std::result::Result<Vec<Grant>, String> {
    let texts: Vec<String> = entry.value()?;
    texts
        .iter()
        .map(|text| {
            let pattern = P::from_allowance(text).map_err(|e| entry.error(&e.to_string()))?;
            Ok(Grant::new(P::permission(pattern.to_string())))
        })
        .collect()
}

/// What `given` grants of `requested`.
pub(crate) fn meet<P: AddressPattern>(
    requested: &Permission,
    given: &Permission,
) -> Option<Permission> {
    let met = pattern_of::<P>(given)?.narrow(&pattern_of::<P>(requested)?)?;
    Some(P::permission(met.to_string()))
}

/// The permissions of this kind a plugin was granted.
pub(crate) fn granted<P: AddressPattern>(grants: &Grants) -> Vec<Permission> {
    grants
        .permissions()
        .filter(|p| P::text(p).is_some())
        .cloned()
        .collect()
}
