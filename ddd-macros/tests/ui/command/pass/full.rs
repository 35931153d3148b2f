//! Constraints of every form, nested values, skip, rename and async dispatch with services.
use ddd_core::{Aggregate, Command, DomainEvent, Rejection, ValueObject};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, ValueObject)]
pub struct Line {
    #[value(range(1..=99))]
    quantity: u32,
}

#[derive(Clone, Debug, Command)]
#[command(aggregate = Order, services, async)]
pub enum OrderCommand {
    Place {
        #[command(len(1..=80))]
        customer: String,
        #[command(len(1..))]
        lines: Vec<Line>,
        #[command(len(..=3))]
        tags: Vec<String>,
        #[command(len(3), pattern = "^[A-Z]+$")]
        currency: String,
        #[command(range(-1.5..=1.5))]
        discount: f64,
        #[command(range(..=0))]
        offset: i32,
        #[command(range(0..))]
        tip: Option<f32>,
        #[command(pattern(r"^\d+$"))]
        reference: Option<String>,
        #[command(skip)]
        raw: Vec<u8>,
    },
    #[command(rename = "Cancel")]
    Abort(#[command(len(1..))] String),
    Ship,
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub enum OrderEvent {
    Placed,
}

#[derive(Debug)]
pub struct Warehouse;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = OrderCommand, event = OrderEvent, services = Warehouse, apply = Order::evolve)]
pub struct Order;

impl Order {
    fn evolve(&mut self, _: &OrderEvent) {}

    #[allow(clippy::too_many_arguments)]
    async fn handle_place(
        &self,
        _: String,
        _: Vec<Line>,
        _: Vec<String>,
        _: String,
        _: f64,
        _: i32,
        _: Option<f32>,
        _: Option<String>,
        _: Vec<u8>,
        _: &Warehouse,
    ) -> Result<OrderEvent, Rejection> {
        Ok(OrderEvent::Placed)
    }

    async fn handle_abort(&self, _: String, _: &Warehouse) -> Result<(), Rejection> {
        Ok(())
    }

    async fn handle_ship(&self, _: &Warehouse) -> Result<Vec<OrderEvent>, &'static str> {
        Err("nothing to ship")
    }
}

#[derive(Clone, Debug, Command)]
#[command(name = "Ping")]
pub struct PingCommand(#[command(range(1..=3))] u8, #[command(len(1..=2))] String);

fn main() {
    assert_eq!(PingCommand(1, "a".into()).command_name(), "Ping");
    assert_eq!(OrderCommand::Ship.command_name(), "Ship");
}
