//! The user's side of a permission: consent, given up front (a command
//! line's flags, a headless host's configuration), remembered from earlier
//! (a [`GrantStore`]), or asked for through a prompt the host implements
//! with its own UI.

use std::fmt;
use std::sync::Arc;

use crate::permission::{Grant, Permission, Request};
use crate::source::Sha256Digest;
use crate::text::Untrusted;

use super::GrantStore;

/// Who a plugin is, as consent is remembered: its name and version and the
/// SHA-256 of its file as given (what `sha256sum` prints).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PluginIdentity {
    pub name: String,
    /// From the manifest; `None` for a plugin without one.
    pub version: Option<String>,
    pub sha256: Sha256Digest,
}

impl fmt::Display for PluginIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Untrusted(&self.name))?;
        if let Some(version) = &self.version {
            write!(f, " {}", Untrusted(version))?;
        }
        let hex = self.sha256.to_string();
        write!(f, " (sha256 {})", &hex[..12])
    }
}

/// What a prompt is asked: the permissions of one plugin that the policy
/// allows and the user has not consented to.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConsentRequest<'a> {
    pub plugin: &'a PluginIdentity,
    /// Each with the plugin's reason, as the policy narrowed it.
    pub requests: &'a [Request],
    /// The identity consent was remembered for before, when this is a new
    /// version or build of a plugin the user already consented to: then
    /// `requests` are only what it adds.
    pub previously: Option<&'a PluginIdentity>,
}

/// A prompt's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsentAnswer {
    /// Consent to `permissions` (some or all of those asked; the rest are
    /// refused), remembered in the grant store when `remember` is set.
    Grant {
        permissions: Vec<Permission>,
        remember: bool,
    },
    /// Do not load the plugin: the load fails with
    /// [`crate::Error::ConsentRequired`], naming what was asked.
    Abort,
}

impl ConsentAnswer {
    /// Consent to everything asked.
    pub fn all(request: &ConsentRequest<'_>, remember: bool) -> Self {
        ConsentAnswer::Grant {
            permissions: request
                .requests
                .iter()
                .map(|r| r.permission.clone())
                .collect(),
            remember,
        }
    }

    /// Refuse everything asked, and load the plugin without it.
    pub fn none() -> Self {
        ConsentAnswer::Grant {
            permissions: Vec::new(),
            remember: false,
        }
    }
}

/// Asks the user; see [`Consent::prompt`].
pub type Prompt = dyn Fn(&ConsentRequest<'_>) -> ConsentAnswer + Send + Sync;

/// How a host learns the user's consent.
///
/// By default ([`Consent::by_policy`]) whatever the policy allows is
/// consented: right for hosts with no separate user, such as services and
/// tests, where the operator decides alone. A host with users builds its
/// consent from what was given up front, a [`GrantStore`] and a prompt.
#[derive(Clone)]
pub struct Consent {
    pub(crate) by_policy: bool,
    pub(crate) given: Vec<Grant>,
    pub(crate) store: Option<GrantStore>,
    pub(crate) prompt: Option<Arc<Prompt>>,
}

impl Default for Consent {
    fn default() -> Self {
        Consent::by_policy()
    }
}

impl fmt::Debug for Consent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consent")
            .field("by_policy", &self.by_policy)
            .field("given", &self.given)
            .field("store", &self.store)
            .field("prompt", &self.prompt.is_some())
            .finish()
    }
}

impl Consent {
    /// What the policy allows is consented.
    pub fn by_policy() -> Self {
        Consent {
            by_policy: true,
            ..Consent::none()
        }
    }

    /// Nothing is consented but what is given, remembered or answered.
    pub fn none() -> Self {
        Consent {
            by_policy: false,
            given: Vec::new(),
            store: None,
            prompt: None,
        }
    }

    /// Consents to `grant` for every plugin of this host, without
    /// remembering it: a command line's flags, a headless host's
    /// configuration. A directory's host path given here is used where the
    /// policy names none (and must lie inside the one it names).
    pub fn given(mut self, grant: Grant) -> Self {
        self.given.push(grant);
        self
    }

    /// Consent remembered per plugin identity: what a user consented to once
    /// is not asked again, and a new version is asked only for what it adds.
    pub fn remembered(mut self, store: GrantStore) -> Self {
        self.store = Some(store);
        self
    }

    /// Asks the user about what was neither given nor remembered; without a
    /// prompt it is refused. Answers with `remember` go to the grant store
    /// (one in memory if none was set).
    pub fn prompt(
        mut self,
        prompt: impl Fn(&ConsentRequest<'_>) -> ConsentAnswer + Send + Sync + 'static,
    ) -> Self {
        self.prompt = Some(Arc::new(prompt));
        self
    }

    /// What was given up front.
    pub fn given_grants(&self) -> &[Grant] {
        &self.given
    }
}
