use ddd_core::Entity;

#[derive(Clone, Debug, Entity)]
pub struct OrderLine {
    line_no: u32,
    sku: String,
}

fn main() {}
