// The id must be comparable and hashable: the error points at its type.
use ddd_core::Entity;

#[derive(Clone, Debug)]
pub struct LineNo(u32);

#[derive(Clone, Debug, Entity)]
pub struct OrderLine {
    #[entity(id)]
    line_no: LineNo,
}

fn main() {}
