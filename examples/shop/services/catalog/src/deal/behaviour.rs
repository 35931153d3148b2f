// Yours: created once by `ddd generate`, never overwritten. Override the behaviour derived
// from the model here: decisions (invariants, rejections) and how events change the state.

use super::*;

impl DealBehaviour for Deal {}
