//! The one BankAccount domain every contender runs, modelled on cqrs-es's own BankAccount
//! example (its book, "Getting started" / "Adding more logic") and identical to
//! `benches/command-path/src/domain.rs`: open an account, deposit money, withdraw cash with an
//! error when the funds are not available.
//!
//! The decision (`decide`) and the evolution (`evolve`) are plain functions over [`Account`];
//! each contender only wraps them in its framework's traits. [`BankAccount`] is ours: the
//! `ddd_core::Aggregate` impls written by hand (what the derives would generate), so the
//! benchmark does not depend on ddd-macros. This file is shared by the PostgreSQL and the
//! SQLite benchmark (`sqlite/` includes it by path).

use ddd_core::event::codec;
use ddd_core::{CodecError, Payload};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BankAccountCommand {
    /// Opens the account.
    OpenAccount { account_id: String },
    /// Deposits money.
    DepositMoney { amount: f64 },
    /// Withdraws cash; rejected when the balance would go negative.
    WithdrawMoney { amount: f64 },
}

/// The events; each carries the balance after it, as in the cqrs-es example.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BankAccountEvent {
    AccountOpened { account_id: String },
    CustomerDepositedMoney { amount: f64, balance: f64 },
    CustomerWithdrewCash { amount: f64, balance: f64 },
}

impl BankAccountEvent {
    /// The event's type name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AccountOpened { .. } => "AccountOpened",
            Self::CustomerDepositedMoney { .. } => "CustomerDepositedMoney",
            Self::CustomerWithdrewCash { .. } => "CustomerWithdrewCash",
        }
    }
}

/// Why a command was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankAccountError(pub &'static str);

impl std::fmt::Display for BankAccountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BankAccountError {}

/// The account's state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub opened: bool,
    // A float, as in the cqrs-es example; the workloads only move whole amounts.
    pub balance: f64,
}

/// Decides one command: exactly one event, or a rejection.
pub fn decide(
    account: &Account,
    command: BankAccountCommand,
) -> Result<BankAccountEvent, BankAccountError> {
    match command {
        BankAccountCommand::OpenAccount { account_id } => {
            if account.opened {
                return Err(BankAccountError("account already open"));
            }
            Ok(BankAccountEvent::AccountOpened { account_id })
        }
        BankAccountCommand::DepositMoney { amount } => {
            if !account.opened {
                return Err(BankAccountError("account not open"));
            }
            let balance = account.balance + amount;
            Ok(BankAccountEvent::CustomerDepositedMoney { amount, balance })
        }
        BankAccountCommand::WithdrawMoney { amount } => {
            if !account.opened {
                return Err(BankAccountError("account not open"));
            }
            let balance = account.balance - amount;
            if balance < 0_f64 {
                return Err(BankAccountError("funds not available"));
            }
            Ok(BankAccountEvent::CustomerWithdrewCash { amount, balance })
        }
    }
}

/// Folds one event into the state.
pub fn evolve(account: &mut Account, event: &BankAccountEvent) {
    match event {
        BankAccountEvent::AccountOpened { .. } => account.opened = true,
        BankAccountEvent::CustomerDepositedMoney { balance, .. }
        | BankAccountEvent::CustomerWithdrewCash { balance, .. } => account.balance = *balance,
    }
}

/// Ours: the shared [`Account`] state as a `ddd_core::Aggregate`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BankAccount(pub Account);

impl ddd_core::Aggregate for BankAccount {
    const TYPE: &'static str = "BankAccount";
    type Id = Uuid;
    type Command = BankAccountCommand;
    type Event = BankAccountEvent;
    type Error = BankAccountError;
    type Services = ();

    async fn handle(
        &self,
        command: BankAccountCommand,
        _services: &(),
    ) -> Result<Vec<BankAccountEvent>, BankAccountError> {
        decide(&self.0, command).map(|event| vec![event])
    }

    fn apply(&mut self, event: &BankAccountEvent) {
        evolve(&mut self.0, event);
    }
}

impl ddd_core::Command for BankAccountCommand {
    fn command_name(&self) -> &'static str {
        match self {
            Self::OpenAccount { .. } => "OpenAccount",
            Self::DepositMoney { .. } => "DepositMoney",
            Self::WithdrawMoney { .. } => "WithdrawMoney",
        }
    }
}

impl ddd_core::DomainEvent for BankAccountEvent {
    fn event_type(&self) -> &'static str {
        self.name()
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn event_types() -> &'static [&'static str] {
        &[
            "AccountOpened",
            "CustomerDepositedMoney",
            "CustomerWithdrewCash",
        ]
    }

    fn encode(&self) -> Result<Payload, CodecError> {
        codec::encode_variant(self.name(), self)
    }

    fn decode(
        event_type: &str,
        _schema_version: u32,
        payload: Payload,
    ) -> Result<Option<Self>, CodecError> {
        match event_type {
            "AccountOpened" | "CustomerDepositedMoney" | "CustomerWithdrewCash" => {
                codec::decode_variant(event_type, event_type, payload).map(Some)
            }
            _ => Ok(None),
        }
    }
}

/// An `OpenAccount` command for `id`.
pub fn open(id: &Uuid) -> BankAccountCommand {
    BankAccountCommand::OpenAccount {
        account_id: id.to_string(),
    }
}

/// A deposit of 1: always accepted on an open account, so a hot account's final balance is
/// the number of deposits that succeeded.
pub fn deposit_one() -> BankAccountCommand {
    BankAccountCommand::DepositMoney { amount: 1.0 }
}

/// The commands of many accounts split between workers: each account belongs to one worker
/// (account `i` to worker `i % workers`), so commands never conflict; a worker issues its
/// accounts' commands round-robin across them.
#[derive(Clone, Debug)]
pub struct Plan {
    pub ids: Vec<Uuid>,
    /// Per worker, (account index, command) in issue order.
    pub per_worker: Vec<Vec<(usize, BankAccountCommand)>>,
    /// The balance each account must end with.
    pub final_balances: Vec<f64>,
    /// Commands (and events) per account, the `OpenAccount` included.
    pub per_account: usize,
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

impl Plan {
    /// `accounts` accounts with `per_account` commands each (an `OpenAccount`, then
    /// deposits and withdrawals, about one in three a withdrawal, never overdrawing): every
    /// command succeeds and records one event. Fresh account ids on every call.
    pub fn generate(accounts: usize, per_account: usize, workers: usize, seed: u64) -> Self {
        let mut rng = SplitMix(seed);
        let ids: Vec<Uuid> = (0..accounts).map(|_| Uuid::now_v7()).collect();
        let workers = workers.max(1);
        let mut per_worker = vec![Vec::new(); workers];
        let mut balances = vec![0_u64; accounts];
        for round in 0..per_account {
            for (index, balance) in balances.iter_mut().enumerate() {
                let command = if round == 0 {
                    open(&ids[index])
                } else {
                    let roll = rng.next();
                    if roll.is_multiple_of(3) && *balance > 0 {
                        let amount = 1 + (roll >> 8) % (*balance).min(100);
                        *balance -= amount;
                        BankAccountCommand::WithdrawMoney {
                            amount: amount as f64,
                        }
                    } else {
                        let amount = 1 + (roll >> 8) % 100;
                        *balance += amount;
                        BankAccountCommand::DepositMoney {
                            amount: amount as f64,
                        }
                    }
                };
                per_worker[index % workers].push((index, command));
            }
        }
        Self {
            ids,
            per_worker,
            final_balances: balances.into_iter().map(|b| b as f64).collect(),
            per_account,
        }
    }

    /// Every command of the plan.
    pub fn commands(&self) -> usize {
        self.per_worker.iter().map(Vec::len).sum()
    }
}
