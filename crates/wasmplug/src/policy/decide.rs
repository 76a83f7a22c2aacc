//! The decision: for each permission a plugin requests, the part the
//! operator's policy allows and the user consents to.
//!
//! A request meets each of the policy's allowances (a capability says how
//! its permissions meet: the lesser access, the narrower port); the widest
//! results are what the operator allows of it. A request the policy does
//! not cover at all is refused by the operator and never put to the user.
//! What the policy allows meets the user's consent the same way: given up
//! front, consented to before (for this plugin, or an earlier version or
//! build of it), or consented to now through the prompt; what the user
//! does not consent to is refused by the user. Capabilities say what backs
//! each granted permission; this module only applies the rules.

use std::collections::BTreeSet;
use std::time::SystemTime;

use super::{
    Consent, ConsentAnswer, ConsentRequest, Consented, GrantStore, PluginIdentity, Policy,
};
use crate::capability::Capability;
use crate::error::{Error, Result};
use crate::permission::{Backing, Grant, Party, Permission, Refusal, Request};

/// What a plugin ends up with: each permission granted, with what backs it,
/// and each request refused, with the party that refused it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    granted: Vec<Grant>,
    refused: Vec<Refusal>,
}

impl Grants {
    pub fn granted(&self) -> &[Grant] {
        &self.granted
    }

    pub fn refused(&self) -> &[Refusal] {
        &self.refused
    }

    /// The granted permissions.
    pub fn permissions(&self) -> impl Iterator<Item = &Permission> {
        self.granted.iter().map(|g| &g.permission)
    }

    pub fn contains(&self, permission: &Permission) -> bool {
        self.permissions().any(|p| p == permission)
    }

    /// The refusal of a request for `permission`, if it was refused.
    pub fn refusal(&self, permission: &Permission) -> Option<&Refusal> {
        self.refused
            .iter()
            .find(|r| &r.request.permission == permission)
    }
}

/// Part of a request that the policy allows, waiting for the user.
struct Allowed<'a> {
    request: &'a Request,
    permission: Permission,
    operator: Option<Backing>,
}

/// Decides what `plugin` gets of `requests`.
pub(crate) fn decide<T: 'static>(
    registry: &[Box<dyn Capability<T>>],
    plugin: &PluginIdentity,
    requests: &[Request],
    policy: &Policy,
    consent: &Consent,
) -> Result<Grants> {
    let owner = |permission: &Permission| {
        registry
            .iter()
            .find(|c| c.owns(permission))
            .map(|c| c.as_ref())
    };
    let mut grants = Grants::default();
    let mut allowed = Vec::new();
    for request in requests {
        let Some(capability) = owner(&request.permission) else {
            grants.refuse(
                request,
                Party::Operator,
                "no capability of this host grants it",
            );
            continue;
        };
        let parts = widest(
            capability,
            &request.permission,
            policy.allowances(&plugin.name),
        );
        if parts.is_empty() {
            let detail = policy_detail(policy, &plugin.name, capability);
            grants.refuse(request, Party::Operator, &detail);
        }
        allowed.extend(parts.into_iter().map(|(permission, operator)| Allowed {
            request,
            permission,
            operator,
        }));
    }

    let store = consent
        .store
        .clone()
        .or_else(|| consent.prompt.is_some().then(GrantStore::in_memory));
    let remembered = match &store {
        Some(store) if !consent.by_policy => store.lookup(plugin)?,
        _ => None,
    };
    let mut consented: Vec<Grant> = remembered
        .iter()
        .flat_map(|c| c.granted.iter().cloned().map(Grant::new))
        .collect();
    let mut pending = Vec::new();
    for allow in allowed {
        let capability = owner(&allow.permission).expect("owned above");
        let parts = if consent.by_policy {
            vec![(allow.permission.clone(), None)]
        } else {
            widest(
                capability,
                &allow.permission,
                consent.given.iter().chain(&consented),
            )
        };
        for (permission, user) in parts.iter().cloned() {
            grants.grant(capability, &allow, permission, user);
        }
        if !parts.is_empty() {
            continue;
        }
        // The user is asked only about what could be granted: a directory
        // nobody named a host directory for cannot be.
        match capability.back(&allow.permission, allow.operator.as_ref(), None) {
            Ok(_) => pending.push(allow),
            Err(why) => grants.refuse(allow.request, Party::Operator, &why),
        }
    }

    if pending.is_empty() {
        if let (Some(store), Some(before)) = (&store, &remembered)
            && before.identity != *plugin
        {
            // Nothing new was asked for: the new build keeps the consent.
            store.record(Consented {
                identity: plugin.clone(),
                granted: before.granted.clone(),
                when: SystemTime::now(),
            })?;
        }
        return Ok(grants);
    }
    let Some(prompt) = &consent.prompt else {
        for allow in &pending {
            grants.refuse(
                allow.request,
                Party::User,
                "not consented to, and no one was asked",
            );
        }
        return Ok(grants);
    };
    let asked: Vec<Request> = pending
        .iter()
        .map(|allow| Request {
            permission: allow.permission.clone(),
            reason: allow.request.reason.clone(),
        })
        .collect();
    let previously = remembered
        .as_ref()
        .map(|c| &c.identity)
        .filter(|identity| *identity != plugin);
    let answer = prompt(&ConsentRequest {
        plugin,
        requests: &asked,
        previously,
    });
    let (yes, remember) = match answer {
        ConsentAnswer::Grant {
            permissions,
            remember,
        } => (permissions, remember),
        ConsentAnswer::Abort => {
            return Err(Error::ConsentRequired {
                plugin: plugin.name.clone(),
                missing: asked,
            });
        }
    };
    let yes: Vec<Grant> = yes.into_iter().map(Grant::new).collect();
    for allow in pending {
        let capability = owner(&allow.permission).expect("owned above");
        let parts = widest(capability, &allow.permission, yes.iter());
        if parts.is_empty() {
            grants.refuse(allow.request, Party::User, "the user did not consent");
        }
        for (permission, _) in parts {
            consented.push(Grant::new(permission.clone()));
            grants.grant(capability, &allow, permission, None);
        }
    }
    if remember && let Some(store) = &store {
        store.record(Consented {
            identity: plugin.clone(),
            granted: consented.into_iter().map(|g| g.permission).collect(),
            when: SystemTime::now(),
        })?;
    }
    Ok(grants)
}

/// The parts of `requested` that `given` covers, each with what backs it,
/// keeping only the widest: none is within another.
fn widest<'a, T: 'static>(
    capability: &dyn Capability<T>,
    requested: &Permission,
    given: impl Iterator<Item = &'a Grant>,
) -> Vec<(Permission, Option<Backing>)> {
    let mut parts: Vec<(Permission, Option<Backing>)> = Vec::new();
    for grant in given {
        let Some(part) = capability.meet(requested, &grant.permission) else {
            continue;
        };
        let within = |wider: &Permission| capability.meet(&part, wider).as_ref() == Some(&part);
        if parts.iter().any(|(p, _)| within(p)) {
            continue;
        }
        parts.retain(|(p, _)| capability.meet(p, &part).as_ref() != Some(p));
        parts.push((part, grant.backing.clone()));
    }
    parts
}

impl Grants {
    /// What these grants and `other`'s, those of a component composed with
    /// this plugin (named `other_name`; this one is `name`), have in common:
    /// the two run as one, so each gets only what both were granted. What
    /// one was granted and the other not is refused, saying which.
    pub(crate) fn shared<T: 'static>(
        &self,
        name: &str,
        other: &Grants,
        other_name: &str,
        registry: &[Box<dyn Capability<T>>],
    ) -> Grants {
        let covered = |permission: &Permission, by: &Grants| {
            registry
                .iter()
                .find(|c| c.owns(permission))
                .is_some_and(|c| {
                    by.permissions()
                        .any(|o| c.meet(permission, o).as_ref() == Some(permission))
                })
        };
        let refusal = |permission: &Permission, detail: String| Refusal {
            request: Request {
                permission: permission.clone(),
                reason: "granted to one part of a composition".into(),
            },
            party: Party::Plugin,
            detail,
        };
        let mut result = Grants {
            granted: Vec::new(),
            refused: self.refused.clone(),
        };
        for grant in &self.granted {
            if covered(&grant.permission, other) {
                result.granted.push(grant.clone());
            } else {
                result.refused.push(refusal(
                    &grant.permission,
                    format!("the component it is composed with, `{other_name}`, is not granted it"),
                ));
            }
        }
        for grant in other
            .granted
            .iter()
            .filter(|g| !covered(&g.permission, self))
        {
            result.refused.push(refusal(
                &grant.permission,
                format!(
                    "`{other_name}` was granted it, but the component it is composed into, \
                     `{name}`, is not granted it"
                ),
            ));
        }
        result
    }

    /// Grants `permission` (part of `allow` the user consented to), backed
    /// as its capability decides, or refuses it when nothing can back it.
    fn grant<T: 'static>(
        &mut self,
        capability: &dyn Capability<T>,
        allow: &Allowed<'_>,
        permission: Permission,
        user: Option<Backing>,
    ) {
        match capability.back(&permission, allow.operator.as_ref(), user.as_ref()) {
            Ok(backing) => self.granted.push(Grant {
                permission,
                backing,
            }),
            Err(why) => self.refuse(allow.request, Party::Operator, &why),
        }
    }

    fn refuse(&mut self, request: &Request, party: Party, detail: &str) {
        self.refused.push(Refusal {
            request: request.clone(),
            party,
            detail: detail.to_string(),
        });
    }
}

/// What the policy allows of a capability, for a refusal's message.
fn policy_detail<T: 'static>(
    policy: &Policy,
    plugin: &str,
    capability: &dyn Capability<T>,
) -> String {
    let allowed: BTreeSet<String> = policy
        .allowances(plugin)
        .filter(|g| capability.owns(&g.permission))
        .map(|g| g.permission.to_string())
        .collect();
    let source = policy
        .source()
        .map(|p| format!(" ({})", p.display()))
        .unwrap_or_default();
    if allowed.is_empty() {
        format!("the policy{source} allows no {}", capability.name())
    } else {
        let list: Vec<String> = allowed.into_iter().collect();
        format!("the policy{source} allows only {}", list.join(", "))
    }
}

#[cfg(test)]
mod tests;
