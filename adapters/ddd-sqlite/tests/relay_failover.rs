//! Three processes' outbox relays over one database file (one file is usually one process,
//! but nothing stops a second), the publishing one killed with SIGKILL three times while
//! events keep being appended (`ddd_store_testkit::relay_failover`).

use ddd_sqlite::SqliteStore;
use ddd_sqlite::testing::TestFile;
use ddd_store_testkit::relay_failover::{self, Load};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a replica of replicas_take_turns_and_take_over_from_a_killed_leader"]
async fn relay_failover_child() {
    relay_failover::child::<SqliteStore>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_take_turns_and_take_over_from_a_killed_leader() {
    let file = TestFile::new();
    let store = file.connect().await;
    let load = Load::test();
    let report = relay_failover::run(&store, &file.url(), &load).await;
    report.assert_one_publisher_and_takeovers_within(load.ttl);
}
