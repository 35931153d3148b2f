// Every extra `id` is reported, next to the other attribute mistakes of the struct.
use ddd_core::Entity;

#[derive(Clone, Debug, Entity)]
#[entity(id = line_no)]
pub struct OrderLine {
    #[entity(id)]
    line_no: u32,
    #[entity(id)]
    sku: String,
    #[entity(id, len(1..))]
    order: String,
    #[entity(identity)]
    batch: u32,
}

fn main() {}
