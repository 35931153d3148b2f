use ddd_core::Entity;

#[derive(Clone, Debug, Entity)]
pub struct OrderLine(#[entity(id)] u32, String);

#[derive(Clone, Debug, Entity)]
pub enum Line {
    Product {
        #[entity(id)]
        id: u32,
    },
}

#[derive(Clone, Debug, Entity)]
pub struct Unit;

fn main() {}
