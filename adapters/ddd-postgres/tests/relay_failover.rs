//! Three replicas' outbox relays over one schema, the publishing one killed with SIGKILL
//! three times while events keep being appended (`ddd_store_testkit::relay_failover`).

use ddd_postgres::PostgresStore;
use ddd_postgres::testing::TestDatabase;
use ddd_store_testkit::relay_failover::{self, Load};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a replica of replicas_take_turns_and_take_over_from_a_killed_leader"]
async fn relay_failover_child() {
    relay_failover::child::<PostgresStore>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_take_turns_and_take_over_from_a_killed_leader() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    let load = Load::test();
    let report = relay_failover::run(&store, &database.url(), &load).await;
    report.assert_one_publisher_and_takeovers_within(load.ttl);
}

/// The figures of `docs/benchmarks/relay-lease.md` (`scripts/bench-relay-lease.sh`): the
/// same steady writer against one, three leased and three unleased relays, then the leader
/// killed three times with the default lease. Prints a Markdown table; asserts nothing the
/// test above does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a measurement, run by scripts/bench-relay-lease.sh"]
#[expect(
    clippy::print_stdout,
    reason = "the table is what the measurement is for"
)]
async fn relay_lease_measurement() {
    let steady = std::time::Duration::from_secs(10);
    let default_ttl = std::time::Duration::from_secs(3);
    let runs = [
        ("1 replica", 1, 0, false),
        ("3 replicas, leased", 3, 0, false),
        ("3 replicas, unleased (before)", 3, 0, true),
        ("1 replica, killed 3 times and restarted", 1, 3, false),
        ("3 replicas, leader killed 3 times", 3, 3, false),
    ];
    // A line of its own: libtest prints the test's name before the first line.
    println!();
    println!(
        "| relays | events committed | publishes | publishes per event | takeovers after a kill | longest publish gap |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, replicas, kills, unleased) in runs {
        let database = TestDatabase::new();
        let store = database.connect().await;
        let load = Load {
            replicas,
            kills,
            steady: if kills == 0 { steady } else { steady / 4 },
            ttl: default_ttl,
            unleased,
        };
        let report = relay_failover::run(&store, &database.url(), &load).await;
        let takeovers: Vec<String> = report
            .takeovers
            .iter()
            .map(|takeover| format!("{:.2} s", takeover.as_secs_f64()))
            .collect();
        println!(
            "| {name} | {} | {} | {:.3} | {} | {:.2} s |",
            report.committed,
            report.published,
            report.publishes_per_event(),
            if takeovers.is_empty() {
                "-".to_owned()
            } else {
                takeovers.join(", ")
            },
            report.longest_gap.as_secs_f64()
        );
    }
}
