use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;

use super::*;
use crate::permission::Access;
use crate::source::Sha256Digest;

fn identity(version: &str, byte: u8) -> PluginIdentity {
    PluginIdentity {
        name: "notes".into(),
        version: Some(version.into()),
        sha256: Sha256Digest([byte; 32]),
    }
}

fn request(permission: Permission) -> Request {
    Request {
        permission,
        reason: "because".into(),
    }
}

fn env(name: &str) -> Permission {
    Permission::Env { name: name.into() }
}

fn run(
    plugin: &PluginIdentity,
    requests: &[Request],
    policy: &Policy,
    consent: &Consent,
) -> Result<Grants> {
    decide(&host_registry(), plugin, requests, policy, consent)
}

/// The capabilities of a host offering the interfaces the tests request.
fn host_registry() -> Vec<Box<dyn crate::capability::Capability<()>>> {
    let interfaces = INTERFACES
        .iter()
        .map(|name| crate::capability::HostInterface::new(*name, |_| Ok(())))
        .collect();
    crate::capability::registry(crate::capability::HostParts {
        interfaces,
        mocks: Vec::new(),
        stand_ins: false,
        stdio: crate::capability::StdioMode::default(),
        keyvalue: crate::capability::KvSettings::none(),
    })
}

/// What a prompt was asked, question by question.
type Questions = Arc<std::sync::Mutex<Vec<Vec<Permission>>>>;

/// A consent that asks through a prompt answering `answer`, counting the
/// questions and what they asked.
fn asking(
    store: &GrantStore,
    answer: impl Fn(&ConsentRequest<'_>) -> ConsentAnswer + Send + Sync + 'static,
) -> (Consent, Arc<AtomicUsize>, Questions) {
    let count = Arc::new(AtomicUsize::new(0));
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (c, a) = (count.clone(), asked.clone());
    let consent = Consent::none()
        .remembered(store.clone())
        .prompt(move |request| {
            c.fetch_add(1, Ordering::SeqCst);
            a.lock().unwrap().push(
                request
                    .requests
                    .iter()
                    .map(|r| r.permission.clone())
                    .collect(),
            );
            answer(request)
        });
    (consent, count, asked)
}

fn values_policy() -> Policy {
    Policy::new()
        .allow(Grant::env_value("LANG", "en"))
        .allow(Grant::env_value("TZ", "UTC"))
        .allow(Grant::clocks())
}

#[test]
fn a_request_above_the_policy_is_refused_and_never_asked() {
    let store = GrantStore::in_memory();
    let (consent, asked, _) = asking(&store, |r| ConsentAnswer::all(r, true));
    let grants = run(
        &identity("1.0.0", 1),
        &[request(env("HOME")), request(Permission::Random)],
        &values_policy(),
        &consent,
    )
    .unwrap();
    assert!(grants.granted().is_empty());
    assert_eq!(asked.load(Ordering::SeqCst), 0, "never put to the user");
    let refusal = grants.refusal(&env("HOME")).unwrap();
    assert_eq!(refusal.party, Party::Operator);
    assert!(refusal.detail.contains("env LANG"), "{}", refusal.detail);
    assert!(
        grants
            .refusal(&Permission::Random)
            .unwrap()
            .detail
            .contains("allows no random"),
        "{grants:?}"
    );
}

#[test]
fn consent_is_remembered_and_not_asked_again() {
    let store = GrantStore::in_memory();
    let (consent, asked, _) = asking(&store, |r| ConsentAnswer::all(r, true));
    let requests = [request(env("LANG")), request(Permission::Clocks)];
    let first = run(&identity("1.0.0", 1), &requests, &values_policy(), &consent).unwrap();
    assert_eq!(first.granted().len(), 2);
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    let again = run(&identity("1.0.0", 1), &requests, &values_policy(), &consent).unwrap();
    assert_eq!(again, first);
    assert_eq!(asked.load(Ordering::SeqCst), 1, "remembered");
}

#[test]
fn a_changed_build_is_asked_only_for_what_it_adds() {
    let store = GrantStore::in_memory();
    let (consent, asked, questions) = asking(&store, |r| ConsentAnswer::all(r, true));
    let policy = values_policy();
    run(
        &identity("1.0.0", 1),
        &[request(env("LANG"))],
        &policy,
        &consent,
    )
    .unwrap();
    // A new build and version that also wants the time zone and clocks.
    let grown = [
        request(env("LANG")),
        request(env("TZ")),
        request(Permission::Clocks),
    ];
    let grants = run(&identity("1.1.0", 2), &grown, &policy, &consent).unwrap();
    assert_eq!(grants.granted().len(), 3);
    assert_eq!(asked.load(Ordering::SeqCst), 2);
    assert_eq!(
        questions.lock().unwrap()[1],
        [env("TZ"), Permission::Clocks],
        "only the additions"
    );
    // The same request from yet another build is not asked at all.
    run(&identity("1.1.0", 3), &grown, &policy, &consent).unwrap();
    assert_eq!(asked.load(Ordering::SeqCst), 2);
}

#[test]
fn refused_consent_refuses_and_an_abort_stops_the_load() {
    let store = GrantStore::in_memory();
    let (consent, _, _) = asking(&store, |_| ConsentAnswer::none());
    let grants = run(
        &identity("1.0.0", 1),
        &[request(env("LANG"))],
        &values_policy(),
        &consent,
    )
    .unwrap();
    assert_eq!(grants.refusal(&env("LANG")).unwrap().party, Party::User);
    assert!(store.list().unwrap().is_empty(), "nothing remembered");

    let (consent, _, _) = asking(&store, |_| ConsentAnswer::Abort);
    let err = run(
        &identity("1.0.0", 1),
        &[request(env("LANG")), request(Permission::Clocks)],
        &values_policy(),
        &consent,
    )
    .unwrap_err();
    let Error::ConsentRequired { missing, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(missing.len(), 2);
    assert!(err.to_string().contains("env LANG (because)"), "{err}");
}

#[test]
fn revoked_consent_is_asked_again() {
    let store = GrantStore::in_memory();
    let (consent, asked, _) = asking(&store, |r| ConsentAnswer::all(r, true));
    let requests = [request(env("LANG"))];
    run(&identity("1.0.0", 1), &requests, &values_policy(), &consent).unwrap();
    assert_eq!(store.revoke("notes", None).unwrap(), 1);
    run(&identity("1.0.0", 1), &requests, &values_policy(), &consent).unwrap();
    assert_eq!(asked.load(Ordering::SeqCst), 2);
}

#[test]
fn without_a_prompt_what_was_not_given_is_refused_by_the_user() {
    let consent = Consent::none().given(Grant::clocks());
    let grants = run(
        &identity("1.0.0", 1),
        &[request(env("LANG")), request(Permission::Clocks)],
        &values_policy(),
        &consent,
    )
    .unwrap();
    assert!(grants.contains(&Permission::Clocks));
    let refusal = grants.refusal(&env("LANG")).unwrap();
    assert_eq!(refusal.party, Party::User);
}

#[test]
fn a_directory_is_backed_by_the_policy_or_inside_it() {
    let root = tempfile::tempdir().unwrap();
    let allowed = root.path().join("allowed");
    let inner = allowed.join("inner");
    std::fs::create_dir_all(&inner).unwrap();
    let dir = |access| Permission::Dir {
        path: "/data".into(),
        access,
    };
    let policy = Policy::new().allow(Grant::dir("/data", &allowed, Access::ReadWrite));
    let requests = [request(dir(Access::ReadWrite))];

    let grants = run(&identity("1", 1), &requests, &policy, &Consent::by_policy()).unwrap();
    assert_eq!(
        grants.granted()[0].backing,
        Some(Backing::HostDir(allowed.clone()))
    );
    let user_inside = Consent::none().given(Grant::dir("/data", &inner, Access::Read));
    let grants = run(&identity("1", 1), &requests, &policy, &user_inside).unwrap();
    assert_eq!(
        grants.granted()[0].permission,
        dir(Access::Read),
        "the lesser access"
    );
    assert_eq!(grants.granted()[0].backing, Some(Backing::HostDir(inner)));
    let user_outside = Consent::none().given(Grant::dir("/data", root.path(), Access::ReadWrite));
    let grants = run(&identity("1", 1), &requests, &policy, &user_outside).unwrap();
    assert!(grants.granted().is_empty());
    let refusal = &grants.refused()[0];
    assert_eq!(refusal.party, Party::Operator);
    assert!(
        refusal.detail.contains("not inside it"),
        "{}",
        refusal.detail
    );
    // An unrestricted policy takes the user's directory, and needs one.
    let grants = run(
        &identity("1", 1),
        &requests,
        &Policy::unrestricted(),
        &user_outside,
    )
    .unwrap();
    assert_eq!(grants.granted().len(), 1);
    let grants = run(
        &identity("1", 1),
        &requests,
        &Policy::unrestricted(),
        &Consent::by_policy(),
    )
    .unwrap();
    assert!(grants.refused()[0].detail.contains("no host directory"));
}

#[test]
fn a_port_pattern_meets_each_allowed_port() {
    let policy = Policy::new()
        .allow(Grant::net("h.example:80"))
        .allow(Grant::net("h.example:443"));
    let grants = run(
        &identity("1", 1),
        &[request(Permission::Net {
            address: "h.example:*".into(),
        })],
        &policy,
        &Consent::by_policy(),
    )
    .unwrap();
    let granted: Vec<String> = grants.permissions().map(|p| p.to_string()).collect();
    assert_eq!(granted, ["net h.example:80", "net h.example:443"]);
}

// The property: over random requests, policies and consents, a plugin gets
// exactly their intersection, computed here from a model of the meets that
// does not use the capabilities' code, and never more than the policy.

const NAMES: [&str; 3] = ["A", "B", "C"];
const PATHS: [&str; 2] = ["/a", "/b"];
const HOSTS: [&str; 2] = ["h1", "h2"];
const PORTS: [Option<u16>; 3] = [Some(80), Some(443), None];
const INTERFACES: [&str; 2] = ["x:y/z", "p:q/r"];

fn access() -> impl Strategy<Value = Access> {
    prop_oneof![Just(Access::Read), Just(Access::ReadWrite)]
}

fn net(host: &str, port: Option<u16>) -> Permission {
    Permission::Net {
        address: match port {
            Some(port) => format!("{host}:{port}"),
            None => format!("{host}:*"),
        },
    }
}

/// A concrete permission, as a plugin or a user names one.
fn concrete() -> impl Strategy<Value = Permission> {
    prop_oneof![
        (0..NAMES.len()).prop_map(|i| env(NAMES[i])),
        (0..PATHS.len(), access()).prop_map(|(i, access)| Permission::Dir {
            path: PATHS[i].into(),
            access
        }),
        (0..HOSTS.len(), 0..PORTS.len()).prop_map(|(h, p)| net(HOSTS[h], PORTS[p])),
        (0..INTERFACES.len()).prop_map(|i| Permission::Interface {
            name: INTERFACES[i].into()
        }),
        Just(Permission::Clocks),
        Just(Permission::Random),
        Just(Permission::Stdin),
    ]
}

/// A permission or a pattern, as a policy allows them.
fn allowance() -> impl Strategy<Value = Permission> {
    prop_oneof![
        4 => concrete(),
        1 => Just(env("*")),
        1 => access().prop_map(|access| Permission::Dir { path: "*".into(), access }),
        1 => Just(net("*", None)),
        1 => (0..HOSTS.len()).prop_map(|h| net(HOSTS[h], None)),
        1 => Just(Permission::Interface { name: "*".into() }),
    ]
}

/// Every environment variable and directory is backed, so that the
/// outcome depends only on the three parties.
fn backed(permission: Permission) -> Grant {
    let backing = match &permission {
        Permission::Env { .. } => Some(Backing::Value("v".into())),
        Permission::Dir { .. } => Some(Backing::HostDir(std::env::temp_dir())),
        _ => None,
    };
    Grant {
        permission,
        backing,
    }
}

/// The model: what `given` (possibly a pattern) covers of `requested`.
fn model_meet(requested: &Permission, given: &Permission) -> Option<Permission> {
    use Permission::*;
    match (requested, given) {
        (Env { name }, Env { name: g }) if g == "*" || g == name => Some(requested.clone()),
        (
            Dir { path, access },
            Dir {
                path: g,
                access: ga,
            },
        ) if g == "*" || g == path => Some(Dir {
            path: path.clone(),
            access: (*access).min(*ga),
        }),
        (Interface { name }, Interface { name: g }) if g == "*" || g == name => {
            Some(requested.clone())
        }
        (Net { address }, Net { address: g }) => {
            let split = |a: &str| {
                let (h, p) = a.rsplit_once(':').unwrap();
                (h.to_string(), p.parse::<u16>().ok())
            };
            let ((host, port), (gh, gp)) = (split(address), split(g));
            if gh != "*" && gh != host {
                return None;
            }
            match (port, gp) {
                (Some(a), Some(b)) if a != b => None,
                (a, b) => Some(net(&host, a.or(b))),
            }
        }
        (a, b) if a == b => Some(a.clone()),
        _ => None,
    }
}

/// Whether `p` is within `q`.
fn within(p: &Permission, q: &Permission) -> bool {
    model_meet(p, q).as_ref() == Some(p)
}

/// The maximal meets of `requested` with any of `given`.
fn model_widest(requested: &Permission, given: &[Permission]) -> BTreeSet<Permission> {
    let meets: Vec<Permission> = given
        .iter()
        .filter_map(|g| model_meet(requested, g))
        .collect();
    meets
        .iter()
        .filter(|p| !meets.iter().any(|q| q != *p && within(p, q)))
        .cloned()
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_plugin_gets_exactly_the_intersection(
        requested in proptest::collection::vec(concrete(), 0..6),
        allowed in proptest::collection::vec(allowance(), 0..8),
        consented in proptest::collection::vec(concrete(), 0..8),
    ) {
        let mut policy = Policy::new();
        for permission in &allowed {
            policy = policy.allow(backed(permission.clone()));
        }
        let mut consent = Consent::none();
        for permission in &consented {
            consent = consent.given(Grant::new(permission.clone()));
        }
        let requests: Vec<Request> = requested.iter().cloned().map(request).collect();
        let grants = run(&identity("1.0.0", 1), &requests, &policy, &consent).unwrap();

        let mut expected = BTreeSet::new();
        for permission in &requested {
            for part in model_widest(permission, &allowed) {
                expected.extend(model_widest(&part, &consented));
            }
        }
        let got: BTreeSet<Permission> = grants.permissions().cloned().collect();
        prop_assert_eq!(&got, &expected);
        for permission in &got {
            prop_assert!(allowed.iter().any(|a| within(permission, a)), "{permission} exceeds the policy");
            prop_assert!(consented.iter().any(|c| within(permission, c)), "{permission} was not consented");
            prop_assert!(requested.iter().any(|r| within(permission, r)), "{permission} was not requested");
        }
        for request in &requests {
            let granted_any = got.iter().any(|p| within(p, &request.permission));
            let refused = grants.refusal(&request.permission).is_some();
            prop_assert!(granted_any || refused, "{} neither granted nor refused", request.permission);
        }
    }
}
