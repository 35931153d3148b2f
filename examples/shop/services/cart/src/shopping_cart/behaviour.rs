// Yours: created once by `ddd generate`, never overwritten. Override the behaviour derived
// from the model here: decisions (invariants, rejections) and how events change the state.

use super::*;

/// How many of one product a cart line holds at most (the model's `Quantity`).
const MOST_OF_ONE_PRODUCT: u32 = 99;

/// The model says what adding an item records; what it means for a product already in the
/// cart is ours: the quantities add up (the derived behaviour would replace the line), so
/// "2 more teas" is what a customer gets, and a line never holds more than 99.
impl ShoppingCartBehaviour for ShoppingCart {
    fn add_item(
        state: &ShoppingCart,
        product: ProductId,
        quantity: u32,
        unit_price: Money,
    ) -> Result<Vec<ShoppingCartEvent>, Rejection> {
        if state.version == 0 {
            return Err(Rejection::new("no such shopping cart"));
        }
        let held = held(state, &product);
        if held + quantity > MOST_OF_ONE_PRODUCT {
            return Err(Rejection::new(format!(
                "a cart holds at most {MOST_OF_ONE_PRODUCT} of one product; this one has {held}"
            )));
        }
        Ok(vec![ShoppingCartEvent::ItemAdded {
            product,
            quantity,
            unit_price,
        }])
    }

    fn on_item_added(
        state: &mut ShoppingCart,
        product: &ProductId,
        quantity: &u32,
        unit_price: &Money,
    ) {
        let quantity = held(state, product) + quantity;
        ddd_core::rules::upsert_in(
            &mut state.items,
            CartItem {
                product: *product,
                quantity,
                unit_price: unit_price.clone(),
            },
            |item| &item.product,
        );
    }
}

/// How many of `product` the cart holds.
fn held(state: &ShoppingCart, product: &ProductId) -> u32 {
    state
        .items
        .iter()
        .find(|item| item.product == *product)
        .map_or(0, |item| item.quantity)
}

#[cfg(test)]
mod tests {
    use ddd_core::testing::AggregateTest;

    use super::*;

    fn tea() -> ProductId {
        ProductId::from(Uuid::from_u128(7))
    }

    fn cents(amount_cents: i64) -> Money {
        Money {
            amount_cents,
            currency: "EUR".to_owned(),
        }
    }

    fn added(quantity: u32) -> ShoppingCartEvent {
        ShoppingCartEvent::ItemAdded {
            product: tea(),
            quantity,
            unit_price: cents(450),
        }
    }

    fn add(quantity: u32) -> ShoppingCartCommand {
        ShoppingCartCommand::AddItem {
            product: tea(),
            quantity,
            unit_price: cents(450),
        }
    }

    fn opened() -> ShoppingCartEvent {
        ShoppingCartEvent::CartOpened {
            customer: Uuid::from_u128(1),
        }
    }

    #[test]
    fn adding_a_product_already_in_the_cart_adds_to_its_quantity() {
        AggregateTest::<ShoppingCart>::new()
            .given([opened(), added(2)])
            .when(add(3))
            .then([added(3)])
            .then_state(|cart| {
                assert_eq!(cart.items.len(), 1, "{:?}", cart.items);
                assert_eq!(cart.items[0].quantity, 5);
            });
    }

    #[test]
    fn a_line_holds_at_most_99() {
        AggregateTest::<ShoppingCart>::new()
            .given([opened(), added(98)])
            .when(add(1))
            .then([added(1)]);
        AggregateTest::<ShoppingCart>::new()
            .given([opened(), added(98)])
            .when(add(2))
            .then_error_message("a cart holds at most 99 of one product; this one has 98");
    }

    #[test]
    fn the_models_rule_still_holds_a_checked_out_cart_takes_no_items() {
        let checked_out = ShoppingCartEvent::CartCheckedOut {
            customer: Uuid::from_u128(1),
            items: vec![CartItem {
                product: tea(),
                quantity: 2,
                unit_price: cents(450),
            }],
        };
        AggregateTest::<ShoppingCart>::new()
            .given([opened(), added(2), checked_out])
            .when(add(1))
            .then_error_message("the cart is checked out");
    }
}
