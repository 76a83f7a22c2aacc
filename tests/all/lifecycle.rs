//! Fresh instances per call, or kept ones recycled after a number of calls,
//! after any failure and when idle.

use std::time::Duration;

use wasmplug::{Error, Host, Lifecycle, Plugin};
use wasmplug_tests::guest;

async fn counter() -> Plugin {
    Host::builder()
        .build()
        .unwrap()
        .load_file(guest("hostile"))
        .await
        .unwrap()
}

fn reuse(max_calls: u32) -> Lifecycle {
    Lifecycle::Reuse {
        max_calls,
        max_idle: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn fresh_instances_share_nothing() {
    let pool = counter().await.pool(Lifecycle::Fresh);
    for _ in 0..3 {
        assert_eq!(pool.run("count").await.unwrap(), "1");
    }
    assert_eq!(pool.idle(), 0);
}

#[tokio::test]
async fn kept_instances_are_recycled_after_max_calls() {
    let pool = counter().await.pool(reuse(3));
    let mut counts = Vec::new();
    for _ in 0..5 {
        counts.push(pool.run("count").await.unwrap());
    }
    assert_eq!(counts, ["1", "2", "3", "1", "2"]);
}

#[tokio::test]
async fn a_failed_instance_is_never_reused() {
    let pool = counter().await.pool(reuse(100));
    assert_eq!(pool.run("count").await.unwrap(), "1");
    assert_eq!(pool.run("count").await.unwrap(), "2");
    let err = pool.run("panic on purpose").await.unwrap_err();
    assert!(matches!(err, Error::Trap { .. }), "{err:?}");
    assert_eq!(pool.idle(), 0);
    assert_eq!(pool.run("count").await.unwrap(), "1");
}

#[tokio::test]
async fn a_guest_error_keeps_the_instance() {
    let pool = counter().await.pool(reuse(100));
    assert_eq!(pool.run("count").await.unwrap(), "1");
    let err = pool.run("no such command").await.unwrap_err();
    assert!(matches!(err, Error::Guest { .. }), "{err:?}");
    assert_eq!(pool.run("count").await.unwrap(), "2");
}

#[tokio::test]
async fn idle_instances_are_dropped() {
    let pool = counter().await.pool(Lifecycle::Reuse {
        max_calls: 100,
        max_idle: Duration::from_millis(50),
    });
    assert_eq!(pool.run("count").await.unwrap(), "1");
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(pool.run("count").await.unwrap(), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_each_get_an_instance() {
    let pool = std::sync::Arc::new(counter().await.pool(reuse(1000)));
    let calls = (0..8).map(|i| {
        let pool = pool.clone();
        tokio::spawn(async move { pool.run(&format!("echo {i}")).await })
    });
    for (i, call) in calls.enumerate() {
        assert_eq!(call.await.unwrap().unwrap(), i.to_string());
    }
    assert!((1..=8).contains(&pool.idle()), "{}", pool.idle());
}

/// Each pooled instance keeps the bindings made for it, once: calls through
/// the pool look nothing up again.
#[tokio::test]
async fn bindings_are_made_once_per_instance() {
    let binds = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let made = binds.clone();
    let pool = counter().await.pool_with(reuse(2), move |instance| {
        made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        instance.typed_func::<(&'static str,), (Result<String, String>,)>("run")
    });
    for expected in ["1", "2", "1", "2", "1"] {
        let (count,) = pool
            .with_bound(async |instance, run| {
                instance
                    .call("run", async |s| run.call_async(s, ("count",)).await)
                    .await
            })
            .await
            .unwrap();
        assert_eq!(count.unwrap(), expected);
    }
    assert_eq!(binds.load(std::sync::atomic::Ordering::SeqCst), 3);
}

/// Bindings that cannot be made fail the call with their error, and the
/// instance is not kept.
#[tokio::test]
async fn bindings_that_do_not_fit_fail_the_call() {
    let pool = counter().await.pool_with(reuse(10), |instance| {
        instance.typed_func::<(u32,), (u32,)>("run")
    });
    let err = pool.with_bound(async |_, _| Ok(())).await.unwrap_err();
    assert!(matches!(err, Error::ExportType { .. }), "{err:?}");
    assert_eq!(pool.idle(), 0);
}
