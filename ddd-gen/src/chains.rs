//! The policy chains of a model, as the scenarios the workspace's `tests` member runs: a
//! command a person (or a client) sends, then every command the policies run because of
//! it, across contexts, until no policy reacts.
//!
//! The simulator plays each chain through: the root command gets a history that passes
//! its guard, each policy's translation turns the event it receives into its command's
//! parameters, and an aggregate that command needs and the chain has not made gets a
//! history of its own, under the id the event names. What each context records is then
//! known before the test runs, event by event.
//!
//! A chain is written only where the simulator can tell the whole outcome: one that runs
//! into a translation a person writes, a command the simulator sees refused (or cannot
//! judge), or two commands on one aggregate whose order the bus does not fix is left to
//! the workspace's own scenarios, and the generated file says which and why.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use ddd_model::ir::{Aggregate, Command, Context, Policy, Target, Type, TypePath};
use ddd_model::{Name, System};
use ddd_names as names;
use serde::Serialize;

use crate::rust::{Crate, Scope};
use crate::simulate::{self, Fields, Given, Value};

/// The id the root aggregate of every chain has (the simulator's own for the aggregate a
/// command acts on, which the events it fills carry).
const ROOT_ID: u128 = 1;
/// Ids of aggregates a chain creates: derived from an event's id at run time, so unknown
/// here. Far above the ids the simulator samples.
const CREATED_IDS: u128 = 1 << 100;
/// Commands one chain may run: beyond, it is a cycle the model's rules do not end.
const MAX_COMMANDS: usize = 32;

/// The `tests/tests/policy_chains.rs` of a workspace.
#[derive(Debug, Serialize)]
pub(crate) struct ChainsFile {
    pub(crate) uses: Vec<String>,
    pub(crate) chains: Vec<ChainTest>,
    /// Chains not written, each with why.
    pub(crate) left: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ChainTest {
    pub(crate) name: String,
    pub(crate) doc: String,
    pub(crate) givens: Vec<Call>,
    pub(crate) when: Call,
    pub(crate) expect: String,
    /// Per context that records events, in the order the chain reaches them.
    pub(crate) then: Vec<ContextEvents>,
}

/// A `given` or `when`: the repository's handle, the aggregate's id and the Rust of its
/// events or command.
#[derive(Debug, Serialize)]
pub(crate) struct Call {
    pub(crate) repository: String,
    pub(crate) id: String,
    pub(crate) body: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ContextEvents {
    pub(crate) context: String,
    /// `Expect::event(..)` expressions.
    pub(crate) events: Vec<String>,
}

/// The file, or `None` where the model has no chain to write.
pub(crate) fn file(system: &System, contract_types: &BTreeSet<TypePath>) -> Option<ChainsFile> {
    let scope = Scope::new(system, Crate::Scenarios, "crate", contract_types);
    let mut chains = Vec::new();
    let mut left = Vec::new();
    for outcome in plan(system) {
        match outcome {
            Ok(chain) => chains.push(render(&scope, &chain)),
            Err(why) => left.push(why),
        }
    }
    if chains.is_empty() {
        return None;
    }
    dedupe_names(&mut chains);
    Some(ChainsFile {
        uses: scope.uses(),
        chains,
        left,
    })
}

// ---------------------------------------------------------------------------------------
// Playing chains through

/// An aggregate, by the context it lives in.
#[derive(Debug, Clone, Copy)]
struct Place<'s> {
    context: &'s Context,
    aggregate: &'s Aggregate,
}

impl Place<'_> {
    /// One aggregate of this place, by its id.
    fn key(&self, id: u128) -> (String, String, u128) {
        (
            self.context.name.to_string(),
            self.aggregate.name.to_string(),
            id,
        )
    }
}

/// A command, by its context and aggregate: `(Ordering, Order, MarkPaid)`.
type CommandKey = (String, String, String);

fn command_key(context: &str, aggregate: &str, command: &str) -> CommandKey {
    (context.to_owned(), aggregate.to_owned(), command.to_owned())
}

/// A chain played through.
#[derive(Debug)]
struct Chain<'s> {
    root: Place<'s>,
    command: &'s Command,
    params: Fields,
    givens: Vec<(Place<'s>, u128, Vec<Given>)>,
    /// What each context records, in the order the chain reaches them.
    recorded: Vec<(Place<'s>, Given)>,
    /// The policies that ran, by the event they received.
    policies: Vec<(&'s Context, &'s Policy)>,
}

/// What an aggregate of the chain is at.
#[derive(Debug)]
struct Instance {
    state: Fields,
    /// Commands policies sent it.
    commanded: usize,
}

/// The commands that start chains: those emitting an event a policy receives, which no
/// policy of the generator's own runs (such a command is a link of another chain); then
/// for each policy no written chain reaches, the commands emitting its event.
fn plan(system: &System) -> Vec<Result<Chain<'_>, String>> {
    let generated_targets: BTreeSet<CommandKey> = system
        .policies()
        .filter(|(_, p)| p.translation.as_ref().is_some_and(|t| !t.needs_code()))
        .map(|(c, p)| command_key(&c.name, &p.run.aggregate, &p.run.command))
        .collect();
    let mut outcomes = Vec::new();
    let mut tried = BTreeSet::new();
    for (place, command) in starting_commands(system) {
        let key = command_key(&place.context.name, &place.aggregate.name, &command.name);
        if !generated_targets.contains(&key) {
            tried.insert(key);
            outcomes.push(play(system, place, command));
        }
    }
    let reached: BTreeSet<*const Policy> = (outcomes.iter().flatten())
        .flat_map(|chain| chain.policies.iter().map(|(_, p)| std::ptr::from_ref(*p)))
        .collect();
    for (_, policy) in system.policies() {
        if reached.contains(&std::ptr::from_ref(policy)) {
            continue;
        }
        for (place, command) in emitters(system, policy) {
            let key = command_key(&place.context.name, &place.aggregate.name, &command.name);
            if tried.insert(key) {
                outcomes.push(play(system, place, command));
            }
        }
    }
    outcomes
}

/// Every command that emits an event some policy receives, in the model's order.
fn starting_commands(system: &System) -> Vec<(Place<'_>, &Command)> {
    let mut found = Vec::new();
    for context in &system.contexts {
        for aggregate in &context.aggregates {
            for command in &aggregate.commands {
                let received = command
                    .emits
                    .iter()
                    .any(|event| !receivers(system, context, event).is_empty());
                if received {
                    found.push((Place { context, aggregate }, command));
                }
            }
        }
    }
    found
}

/// The commands emitting the event `policy` receives.
fn emitters<'s>(system: &'s System, policy: &Policy) -> Vec<(Place<'s>, &'s Command)> {
    let Some(context) = system.context(&policy.on.context) else {
        return Vec::new();
    };
    let Some((aggregate, _)) = context.event(&policy.on.event) else {
        return Vec::new();
    };
    (aggregate.commands.iter())
        .filter(|c| c.emits.contains(&policy.on.event))
        .map(|c| (Place { context, aggregate }, c))
        .collect()
}

/// The policies receiving `event` of `context`: none unless the context publishes it.
fn receivers<'s>(
    system: &'s System,
    context: &Context,
    event: &Name,
) -> Vec<(&'s Context, &'s Policy)> {
    if !context.publishes(event) {
        return Vec::new();
    }
    system
        .policies()
        .filter(|(_, p)| p.on.context == context.name && p.on.event == *event)
        .collect()
}

/// Plays the chain `command` of `root` starts; `Err` says why it is not written.
fn play<'s>(
    system: &'s System,
    root: Place<'s>,
    command: &'s Command,
) -> Result<Chain<'s>, String> {
    let what = format!(
        "{} runs `{}` ({})",
        root.context.name, command.name, root.aggregate.name
    );
    let case = simulate::accepted_case(system, root.aggregate, command, &[])
        .ok_or_else(|| format!("{what}: no history the simulator finds passes its guard"))?;
    let mut play = Play {
        system,
        chain: Chain {
            root,
            command,
            params: case.params.clone(),
            givens: Vec::new(),
            recorded: Vec::new(),
            policies: Vec::new(),
        },
        world: BTreeMap::new(),
        queue: VecDeque::new(),
        created: 0,
    };
    let history = if command.creates {
        Vec::new()
    } else {
        play.chain.givens.push((root, ROOT_ID, case.given.clone()));
        case.given
    };
    let state = simulate::replay(system, root.aggregate, &history)
        .ok_or_else(|| format!("{what}: its history cannot be replayed"))?;
    play.world.insert(
        root.key(ROOT_ID),
        Instance {
            state,
            commanded: 0,
        },
    );
    play.run(root, ROOT_ID, command, &case.params)
        .map_err(|why| format!("{what}: {why}"))?;
    while let Some((place, id, event)) = play.queue.pop_front() {
        for receiver in receivers(system, place.context, &event.event) {
            if play.chain.recorded.len() >= MAX_COMMANDS {
                return Err(format!("{what}: its policies run in a cycle"));
            }
            play.chain.policies.push(receiver);
            play.react(receiver, id, &event)
                .map_err(|why| format!("{what}: {why}"))?;
        }
    }
    if play.chain.policies.is_empty() {
        return Err(format!("{what}: no policy reacts to it"));
    }
    Ok(play.chain)
}

/// A chain being played: the aggregates it has reached, and the events not yet delivered.
struct Play<'s> {
    system: &'s System,
    chain: Chain<'s>,
    world: BTreeMap<(String, String, u128), Instance>,
    queue: VecDeque<(Place<'s>, u128, Given)>,
    /// Aggregates policies created so far.
    created: u128,
}

impl<'s> Play<'s> {
    /// Runs `command` on the aggregate `id` of `place`, which the chain has, and queues its
    /// events.
    fn run(
        &mut self,
        place: Place<'s>,
        id: u128,
        command: &Command,
        params: &[(Name, Value)],
    ) -> Result<(), String> {
        let system = self.system;
        let instance =
            (self.world.get_mut(&place.key(id))).ok_or("an aggregate the chain does not have")?;
        let verdict = simulate::accepts(system, place.aggregate, command, &instance.state, params);
        match verdict {
            Some(true) => {}
            Some(false) => {
                return Err(format!(
                    "`{}` in {} would be refused",
                    command.name, place.context.name
                ));
            }
            None => {
                return Err(format!(
                    "whether `{}` in {} is accepted is not for the simulator to tell",
                    command.name, place.context.name
                ));
            }
        }
        let events = simulate::decide(
            system,
            place.aggregate,
            command,
            &instance.state,
            params,
            id,
        )
        .ok_or_else(|| {
            format!(
                "the events of `{}` in {} are not all the model's to fill",
                command.name, place.context.name
            )
        })?;
        simulate::evolve(system, place.aggregate, &mut instance.state, &events)
            .ok_or("an event the simulator cannot apply")?;
        for event in events {
            self.chain.recorded.push((place, event.clone()));
            self.queue.push_back((place, id, event));
        }
        Ok(())
    }

    /// What `policy` of `context` does with `event`, emitted by the aggregate `emitter`.
    fn react(
        &mut self,
        (context, policy): (&'s Context, &'s Policy),
        emitter: u128,
        event: &Given,
    ) -> Result<(), String> {
        let system = self.system;
        let through = format!(
            "the translation in {} of `{}` into `{}`",
            context.name, event.event, policy.run.command
        );
        let written_by_a_person = || format!("it runs into {through}, which a person writes");
        let translation = (policy.translation.as_ref())
            .filter(|t| !t.needs_code())
            .ok_or_else(written_by_a_person)?;
        let aggregate = (context.aggregate(&policy.run.aggregate))
            .ok_or("a policy whose aggregate the model lacks")?;
        let command = (aggregate.command(&policy.run.command))
            .ok_or("a policy whose command the model lacks")?;
        let place = Place { context, aggregate };
        let params = simulate::translate(system, translation, &event.fields, emitter)
            .ok_or_else(|| format!("the simulator cannot follow {through}"))?;
        let id = match &translation.target {
            Target::NewFromEventId => {
                self.created += 1;
                CREATED_IDS + self.created
            }
            Target::EmittingAggregate => emitter,
            Target::EventField { field } => match simulate::get(&event.fields, field) {
                Some(Value::Id(id)) => *id,
                _ => return Err(format!("the simulator cannot follow {through}")),
            },
            Target::NeedsCode { .. } => return Err(written_by_a_person()),
        };
        let key = place.key(id);
        if !self.world.contains_key(&key) {
            let history = if command.creates {
                Vec::new()
            } else if id >= CREATED_IDS {
                return Err(format!(
                    "{through} names an aggregate made under an id unknown before the test"
                ));
            } else {
                let case = simulate::accepted_case(system, aggregate, command, &params)
                    .ok_or_else(|| {
                        format!(
                            "no history the simulator finds lets `{}` in {} accept what \
                             {through} sends",
                            command.name, context.name
                        )
                    })?;
                with_id(case.given, id)
            };
            let state = simulate::replay(system, aggregate, &history)
                .ok_or("a history the simulator cannot replay")?;
            if !history.is_empty() {
                self.chain.givens.push((place, id, history));
            }
            self.world.insert(
                key.clone(),
                Instance {
                    state,
                    commanded: 0,
                },
            );
        }
        let instance = self
            .world
            .get_mut(&key)
            .ok_or("an aggregate the chain lost")?;
        instance.commanded += 1;
        if instance.commanded > 1 {
            return Err(format!(
                "two policies command one {} of {}, in an order the bus does not fix",
                aggregate.name, context.name
            ));
        }
        self.run(place, id, command, &params)
    }
}

/// A history the simulator made for the aggregate it calls [`ROOT_ID`], for the aggregate
/// `id`: the events that carry their own aggregate's id carry this one.
fn with_id(history: Vec<Given>, id: u128) -> Vec<Given> {
    fn swap(value: Value, id: u128) -> Value {
        match value {
            Value::Id(ROOT_ID) => Value::Id(id),
            Value::Some(inner) => Value::Some(Box::new(swap(*inner, id))),
            Value::List(items) => Value::List(items.into_iter().map(|v| swap(v, id)).collect()),
            Value::Record(fields) => {
                Value::Record(fields.into_iter().map(|(n, v)| (n, swap(v, id))).collect())
            }
            other => other,
        }
    }
    history
        .into_iter()
        .map(|given| Given {
            event: given.event,
            fields: (given.fields.into_iter())
                .map(|(n, v)| (n, swap(v, id)))
                .collect(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Writing a chain as a test

fn render(scope: &Scope<'_>, chain: &Chain<'_>) -> ChainTest {
    let root = chain.root;
    let reached: Vec<&str> = chain
        .policies
        .iter()
        .map(|(c, _)| c.name.as_str())
        .filter(|c| *c != root.context.name.as_str())
        .fold(Vec::new(), |mut seen, c| {
            if !seen.contains(&c) {
                seen.push(c);
            }
            seen
        });
    let name = if reached.is_empty() {
        format!(
            "{}_{}_runs_its_policies",
            names::snake(&root.context.name),
            names::snake(&chain.command.name)
        )
    } else {
        format!(
            "{}_{}_reaches_{}",
            names::snake(&root.context.name),
            names::snake(&chain.command.name),
            reached
                .iter()
                .map(|c| names::snake(c))
                .collect::<Vec<_>>()
                .join("_and_")
        )
    };
    let steps: Vec<String> = chain
        .policies
        .iter()
        .map(|(c, p)| format!("{} runs `{}` on `{}`", c.name, p.run.command, p.on.event))
        .collect();
    let doc = format!(
        "{} runs `{}` ({}); then {}.",
        root.context.name,
        chain.command.name,
        root.aggregate.name,
        steps.join(", ")
    );
    let givens = chain
        .givens
        .iter()
        .map(|(place, id, events)| Call {
            repository: repository(place),
            id: id_expr(scope, place, *id),
            body: events
                .iter()
                .filter_map(|g| event_expr(scope, place, g))
                .collect(),
        })
        .collect();
    let when = Call {
        repository: repository(&root),
        id: id_expr(scope, &root, ROOT_ID),
        body: vec![command_expr(scope, &root, chain.command, &chain.params)],
    };
    let mut then: Vec<ContextEvents> = Vec::new();
    for (place, event) in &chain.recorded {
        let expect = expectation(scope, place, event);
        match then
            .iter_mut()
            .find(|c| c.context == place.context.name.as_str())
        {
            Some(context) => context.events.push(expect),
            None => then.push(ContextEvents {
                context: place.context.name.to_string(),
                events: vec![expect],
            }),
        }
    }
    ChainTest {
        name,
        doc,
        givens,
        when,
        expect: format!(
            "the history given lets `{}` pass its guard",
            chain.command.name
        ),
        then,
    }
}

/// Test names made unique where two chains would share one.
fn dedupe_names(chains: &mut [ChainTest]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for chain in chains {
        let count = seen.entry(chain.name.clone()).or_default();
        *count += 1;
        if *count > 1 {
            chain.name = format!("{}_{count}", chain.name);
        }
    }
}

/// The closure that picks the aggregate's repository: `|s| &s.payments.payment`.
fn repository(place: &Place<'_>) -> String {
    format!(
        "|s| &s.{}.{}",
        names::ident(&place.context.name),
        names::module(&place.aggregate.name)
    )
}

fn id_expr(scope: &Scope<'_>, place: &Place<'_>, id: u128) -> String {
    let path = TypePath {
        context: Some(place.context.name.clone()),
        aggregate: None,
        name: place.aggregate.name.clone(),
    };
    simulate::rust(scope, &Value::Id(id), &Type::Id(path))
}

fn enum_path(scope: &Scope<'_>, place: &Place<'_>, suffix: &str) -> String {
    scope.name(&format!(
        "{}::{}::{}{suffix}",
        scope.service(&place.context.name),
        names::module(&place.aggregate.name),
        place.aggregate.name
    ))
}

fn event_expr(scope: &Scope<'_>, place: &Place<'_>, given: &Given) -> Option<String> {
    let path = enum_path(scope, place, "Event");
    simulate::event_literal(scope, &path, place.aggregate, given)
}

fn command_expr(
    scope: &Scope<'_>,
    place: &Place<'_>,
    command: &Command,
    params: &Fields,
) -> String {
    let path = enum_path(scope, place, "Command");
    simulate::variant_literal(scope, &path, &command.name, &command.params, params)
}

/// `Expect::event("OrderPaid").of("Order")`, then each field whose recorded value the
/// simulation knows, as the test writes the value: `.field("order", OrderId::from(..))`.
fn expectation(scope: &Scope<'_>, place: &Place<'_>, event: &Given) -> String {
    let mut expect = format!(
        "Expect::event({:?}).of({:?})",
        event.event.as_str(),
        place.aggregate.name.as_str()
    );
    let Some(declared) = place.aggregate.event(&event.event) else {
        return expect;
    };
    for field in &declared.fields {
        let Some(value) = simulate::get(&event.fields, &field.name) else {
            continue;
        };
        if made_at_run_time(value) {
            continue;
        }
        let rust = simulate::rust(scope, value, &field.ty);
        let typed = if self_typed(&field.ty) {
            String::new()
        } else {
            format!("::<{}>", scope.ty(&field.ty))
        };
        expect.push_str(&format!(".field{typed}({:?}, {rust})", field.name.as_str()));
    }
    expect
}

/// Whether `value` holds the id of an aggregate the chain created, which the test cannot
/// know: it is derived from an event's id.
fn made_at_run_time(value: &Value) -> bool {
    match value {
        Value::Id(n) => *n >= CREATED_IDS,
        Value::Some(inner) => made_at_run_time(inner),
        Value::List(items) => items.iter().any(made_at_run_time),
        Value::Map(entries) => entries.values().any(made_at_run_time),
        Value::Record(fields) => fields.iter().any(|(_, v)| made_at_run_time(v)),
        _ => false,
    }
}

/// Whether the Rust the simulator writes for a value of `ty` says its type: `None`,
/// `vec![]` and `Default::default()` do not, and a float literal would serialize as `f64`.
/// Integers need not: JSON compares them by value.
fn self_typed(ty: &Type) -> bool {
    matches!(
        ty,
        Type::Bool
            | Type::String
            | Type::Uuid
            | Type::Id(_)
            | Type::Value(_)
            | Type::Entity(_)
            | Type::Enum(_)
    ) || ty.integer_bounds().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = include_str!("../../examples/shop/shop.ddd");

    fn load(text: &str) -> System {
        ddd_model::load(text, ddd_model::Format::Ddd)
            .map_err(|rejected| format!("{rejected:?}"))
            .expect("a valid model")
            .system
    }

    /// Each chain planned: its root, or why it is left out.
    fn outcomes(system: &System) -> Vec<Result<String, String>> {
        plan(system)
            .into_iter()
            .map(|outcome| {
                outcome.map(|chain| {
                    let recorded: Vec<String> = (chain.recorded.iter())
                        .map(|(place, event)| format!("{}.{}", place.context.name, event.event))
                        .collect();
                    format!("{}: {}", chain.command.name, recorded.join(" "))
                })
            })
            .collect()
    }

    #[test]
    fn the_shop_has_a_chain_from_each_command_people_send_and_leaves_its_translation_to_them() {
        let system = load(SHOP);
        assert_eq!(
            outcomes(&system),
            [
                Err(
                    "Cart runs `CheckOut` (ShoppingCart): it runs into the translation in \
                     Ordering of `CartCheckedOut` into `PlaceOrder`, which a person writes"
                        .to_owned()
                ),
                Ok("PlaceOrder: Ordering.OrderPlaced Payments.PaymentRequested".to_owned()),
                Ok("Capture: Payments.PaymentCaptured Ordering.OrderPaid \
                    Shipping.ShipmentPrepared"
                    .to_owned()),
                Ok("Dispatch: Shipping.ShipmentDispatched Ordering.OrderShipped".to_owned()),
            ]
        );
    }

    #[test]
    fn an_aggregate_a_policy_commands_gets_a_history_under_the_id_the_event_names() {
        let system = load(SHOP);
        let chains = plan(&system);
        let capture = (chains.iter().flatten())
            .find(|chain| chain.command.name == "Capture")
            .expect("the Capture chain");
        let givens: Vec<(&str, u128, Vec<&str>)> = (capture.givens.iter())
            .map(|(place, id, events)| {
                let events = events.iter().map(|g| g.event.as_str()).collect();
                (place.aggregate.name.as_str(), *id, events)
            })
            .collect();
        assert_eq!(
            givens,
            [
                ("Payment", ROOT_ID, vec!["PaymentRequested"]),
                ("Order", 7, vec!["OrderPlaced"]),
            ]
        );
        let captured = &capture.recorded[0].1;
        assert_eq!(captured.fields, [(Name::from("order"), Value::Id(7))]);
        let prepared = &capture.recorded[2].1;
        assert_eq!(
            prepared.fields,
            [(Name::from("order"), Value::Id(7))],
            "the order's id, which PrepareShipment takes from the aggregate that emitted OrderPaid"
        );
    }

    const PICKY: &str = r#"
system Picky
context Source {
  aggregate Batch {
    size: u32
    command Make(size: u32) creates emits Made
    event Made(size: u32)
  }
  publishes Made
}
context Sink {
  aggregate Bin {
    size: u32
    command Take(size: u32) creates requires size > 4000000000 emits Taken
    event Taken(size: u32)
  }
  on Source.Made run Bin.Take
}
"#;

    #[test]
    fn a_chain_whose_policy_command_would_be_refused_is_left_out_saying_so() {
        let system = load(PICKY);
        assert_eq!(
            outcomes(&system),
            [Err(
                "Source runs `Make` (Batch): `Take` in Sink would be refused".to_owned()
            )]
        );
    }

    #[test]
    fn two_policies_commanding_one_aggregate_are_left_out_as_their_order_is_not_fixed() {
        let system = load(
            r#"
system Twice
context Source {
  aggregate Batch {
    tally: TallyId
    command Make(tally: TallyId) creates emits Made, Checked
    event Made(tally: TallyId)
    event Checked(tally: TallyId)
  }
  publishes Made, Checked
}
context Sink {
  aggregate Tally {
    command Open() creates emits Opened
    command Count() emits Counted
    command Note() emits Noted
    event Opened()
    event Counted()
    event Noted()
  }
  on Source.Made run Tally.Count
  on Source.Checked run Tally.Note
}
"#,
        );
        assert_eq!(
            outcomes(&system),
            [Err(
                "Source runs `Make` (Batch): two policies command one Tally of Sink, \
                  in an order the bus does not fix"
                    .to_owned()
            )]
        );
    }

    #[test]
    fn each_aggregate_a_policy_creates_is_one_of_its_own() {
        let system = load(
            r#"
system Twice
context Source {
  aggregate Batch {
    command Make() creates emits Made, Checked
    event Made()
    event Checked()
  }
  publishes Made, Checked
}
context Sink {
  aggregate Tally {
    command Open(batch: BatchId) creates emits Opened
    event Opened(batch: BatchId)
  }
  on Source.Made run Tally.Open
  on Source.Checked run Tally.Open
}
"#,
        );
        assert_eq!(
            outcomes(&system),
            [Ok(
                "Make: Source.Made Source.Checked Sink.Opened Sink.Opened".to_owned()
            )]
        );
    }

    #[test]
    fn the_file_writes_each_recorded_field_the_test_can_know() {
        let system = load(SHOP);
        let contract_types = crate::view::contract_types(&system);
        let file = file(&system, &contract_types).expect("the shop has chains");
        let place_order = &file.chains[0];
        assert_eq!(place_order.name, "ordering_place_order_reaches_payments");
        let payments = &place_order.then[1];
        assert_eq!(payments.context, "Payments");
        assert_eq!(
            payments.events,
            ["Expect::event(\"PaymentRequested\").of(\"Payment\")\
              .field(\"order\", OrderId::from(Uuid::from_u128(1)))\
              .field(\"amount\", Money { amount_cents: 1, currency: \"aaa\".to_owned() })"]
        );
        assert_eq!(file.left.len(), 1);
    }
}
