use ddd_core::BoundedContext;

#[derive(BoundedContext)]
pub enum Banking {
    Retail,
}

#[derive(BoundedContext)]
pub struct Generic<T> {
    #[bounded_context(name = "x")]
    inner: T,
}

#[derive(BoundedContext)]
#[bounded_context(aggregates = Account)]
#[bounded_context(name = "A", name = "B")]
pub struct Twice;

fn main() {}
