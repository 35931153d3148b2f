//! The command sequence every contender runs.

use uuid::Uuid;

use crate::domain::BankAccountCommand;

/// 1 `OpenAccount` per aggregate, then `per_aggregate` deposits/withdrawals per aggregate
/// issued round-robin across aggregates. Every command succeeds and records one event.
#[derive(Clone, Debug)]
pub struct Workload {
    pub ids: Vec<Uuid>,
    pub id_strings: Vec<String>,
    /// (aggregate index, command), in issue order.
    pub commands: Vec<(usize, BankAccountCommand)>,
    /// The balance each aggregate must end with.
    pub final_balances: Vec<f64>,
}

/// splitmix64: a tiny deterministic generator, so every run issues the same amounts.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Workload {
    pub fn generate(aggregates: usize, per_aggregate: usize, seed: u64) -> Self {
        let mut rng = SplitMix(seed);
        let ids: Vec<Uuid> = (0..aggregates).map(|_| Uuid::now_v7()).collect();
        let id_strings: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let mut commands = Vec::with_capacity(aggregates * (per_aggregate + 1));
        for (index, id) in id_strings.iter().enumerate() {
            commands.push((
                index,
                BankAccountCommand::OpenAccount {
                    account_id: id.clone(),
                },
            ));
        }
        // Whole amounts only, so f64 balances are exact.
        let mut balances = vec![0_u64; aggregates];
        for _ in 0..per_aggregate {
            for (index, balance) in balances.iter_mut().enumerate() {
                let roll = rng.next();
                // About one withdrawal in three, never more than the balance.
                if roll.is_multiple_of(3) && *balance > 0 {
                    let amount = 1 + (roll >> 8) % (*balance).min(100);
                    *balance -= amount;
                    commands.push((
                        index,
                        BankAccountCommand::WithdrawMoney {
                            amount: amount as f64,
                        },
                    ));
                } else {
                    let amount = 1 + (roll >> 8) % 100;
                    *balance += amount;
                    commands.push((
                        index,
                        BankAccountCommand::DepositMoney {
                            amount: amount as f64,
                        },
                    ));
                }
            }
        }
        Self {
            ids,
            id_strings,
            commands,
            final_balances: balances.into_iter().map(|b| b as f64).collect(),
        }
    }
}
