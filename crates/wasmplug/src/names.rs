//! WIT names as hosts, policies and manifests write them (`ns:pkg/name`,
//! with or without `@version`), and the one rule for when two of them name
//! the same thing.
//!
//! The rule is wasmtime's linker's: a name without a version stands for
//! every version; two versions match when they are semver-compatible, that
//! is on the same track: the same major version from 1.0 on, the same minor
//! version below it (`0.2.0` and `0.2.5`), and only themselves for `0.0.x`
//! and pre-releases. A host interface, a policy's allowance, a user's
//! consent and a plugin's request all compare this way, so that writing the
//! version or leaving it out never silently changes what is granted.

use std::fmt;

use semver::Version;

/// The default world, which every host speaks.
pub(crate) const DEFAULT_WORLD: &str = "wasmplug:plugin/plugin@0.1.0";

/// A WIT interface or world name: `ns:pkg/name` and an optional version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WitName {
    name: String,
    version: Option<Version>,
}

impl WitName {
    /// Parses `ns:pkg/name` or `ns:pkg/name@1.2.3`; the error says why not.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("`{text}` is not a WIT name like `example:filters/app@0.1.0`");
        let (name, version) = match text.split_once('@') {
            Some((name, version)) => {
                let version = Version::parse(version).map_err(|_| invalid())?;
                (name, Some(version))
            }
            None => (text, None),
        };
        let kebab = |id: &str| {
            !id.is_empty()
                && id.split('-').all(|word| {
                    word.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && word.chars().all(|c| c.is_ascii_alphanumeric())
                })
        };
        let parts = name
            .split_once(':')
            .and_then(|(ns, rest)| rest.split_once('/').map(|(pkg, item)| [ns, pkg, item]));
        match parts {
            Some(parts) if parts.iter().all(|part| kebab(part)) => Ok(WitName {
                name: name.to_string(),
                version,
            }),
            _ => Err(invalid()),
        }
    }

    /// `ns:pkg/name`, without the version.
    pub fn unversioned(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> Option<&Version> {
        self.version.as_ref()
    }

    /// Whether the two name the same interface or world in compatible
    /// versions: a side without a version matches every version.
    pub fn matches(&self, other: &WitName) -> bool {
        self.name == other.name
            && match (&self.version, &other.version) {
                (Some(a), Some(b)) => same_track(a, b),
                _ => true,
            }
    }

    /// What both cover, when they match: the narrower of the two, which
    /// has a version if either has one.
    pub fn meet(&self, other: &WitName) -> Option<WitName> {
        if !self.matches(other) {
            return None;
        }
        Some(match &self.version {
            Some(_) => self.clone(),
            None => other.clone(),
        })
    }
}

impl fmt::Display for WitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(version) = &self.version {
            write!(f, "@{version}")?;
        }
        Ok(())
    }
}

/// Whether a component built against `a` works with `b`, as wasmtime's
/// linker decides it: the same major version from 1.0 on, the same minor
/// below it, exactly the same for `0.0.x` and pre-releases.
pub(crate) fn same_track(a: &Version, b: &Version) -> bool {
    if !a.pre.is_empty() || !b.pre.is_empty() {
        return a == b;
    }
    match (a.major, a.minor) {
        (0, 0) => a == b,
        (0, minor) => b.major == 0 && b.minor == minor,
        (major, _) => b.major == major,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> WitName {
        WitName::parse(text).unwrap()
    }

    #[test]
    fn names_parse_with_and_without_versions() {
        let n = name("example:filters/app@0.2.1");
        assert_eq!(n.unversioned(), "example:filters/app");
        assert_eq!(n.version(), Some(&Version::new(0, 2, 1)));
        assert_eq!(n.to_string(), "example:filters/app@0.2.1");
        assert_eq!(name("a:b/c").version(), None);
        for bad in ["app", "a:b", "a:b/c@", "a:b/c@x", "A B:c/d", "a:/c", "a:b/"] {
            assert!(WitName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions_match_on_their_semver_track() {
        let matches = |a: &str, b: &str| name(a).matches(&name(b));
        assert!(matches("a:b/c", "a:b/c@0.3.0"));
        assert!(matches("a:b/c@0.3.0", "a:b/c"));
        assert!(matches("a:b/c@0.2.0", "a:b/c@0.2.7"));
        assert!(!matches("a:b/c@0.2.0", "a:b/c@0.3.0"));
        assert!(matches("a:b/c@1.2.0", "a:b/c@1.9.1"));
        assert!(!matches("a:b/c@1.2.0", "a:b/c@2.0.0"));
        assert!(!matches("a:b/c@0.0.1", "a:b/c@0.0.2"));
        assert!(!matches("a:b/c@1.0.0-rc.1", "a:b/c@1.0.0"));
        assert!(!matches("a:b/c@0.2.0", "a:b/d@0.2.0"));
    }

    #[test]
    fn the_meet_keeps_a_version() {
        let any = name("a:b/c");
        let v2 = name("a:b/c@0.2.0");
        assert_eq!(any.meet(&v2), Some(v2.clone()));
        assert_eq!(v2.meet(&any), Some(v2.clone()));
        assert_eq!(v2.meet(&name("a:b/c@0.3.0")), None);
    }
}
