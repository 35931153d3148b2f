use ddd_core::DomainEvent;

#[derive(Clone, Debug, DomainEvent)]
pub enum Nothing {}

#[derive(Clone, Copy, DomainEvent)]
pub union Either {
    a: u32,
    b: f32,
}

fn main() {}
