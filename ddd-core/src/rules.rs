//! The built-ins of the domain language's expressions (`count`, `upsert`, `remove`, ...), as
//! generated guards and state changes call them. Each is small on purpose: the generated code
//! reads like the model, and these functions say what each word means.

use std::collections::BTreeMap;

use crate::Rejection;

/// `requires RULE else "reason"`: `Ok` when the rule is met, else a rejection naming it.
#[inline]
pub fn require(met: bool, rule: &'static str, reason: &'static str) -> Result<(), Rejection> {
    if met {
        Ok(())
    } else {
        Err(Rejection::rule(rule, reason))
    }
}

/// [`require`] for a rule that calculates: an overflow rejects the command too.
#[inline]
pub fn require_checked(
    met: impl FnOnce() -> Option<bool>,
    rule: &'static str,
    reason: &'static str,
) -> Result<(), Rejection> {
    match met() {
        Some(met) => require(met, rule, reason),
        None => Err(Rejection::rule(
            rule,
            "a number in this rule is out of range (arithmetic overflow)",
        )),
    }
}

/// `count(list)`: how many, as the language's `u32` (saturating: no model holds more).
#[inline]
pub fn count(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// `append(list, x)`
#[inline]
pub fn append<T>(mut list: Vec<T>, item: T) -> Vec<T> {
    list.push(item);
    list
}

/// `upsert(list, x)`: replaces the element with `x`'s key, else appends.
#[inline]
pub fn upsert<T, K: PartialEq>(mut list: Vec<T>, item: T, key: impl Fn(&T) -> &K) -> Vec<T> {
    upsert_in(&mut list, item, key);
    list
}

/// [`upsert`] in place.
#[inline]
pub fn upsert_in<T, K: PartialEq>(list: &mut Vec<T>, item: T, key: impl Fn(&T) -> &K) {
    match list.iter().position(|element| key(element) == key(&item)) {
        Some(at) => list[at] = item,
        None => list.push(item),
    }
}

/// `remove(list, key)`: without the elements `matches` picks.
#[inline]
pub fn remove<T>(mut list: Vec<T>, matches: impl Fn(&T) -> bool) -> Vec<T> {
    list.retain(|element| !matches(element));
    list
}

/// `insert(map, key, value)`
#[inline]
pub fn insert<V>(mut map: BTreeMap<String, V>, key: String, value: V) -> BTreeMap<String, V> {
    map.insert(key, value);
    map
}

/// `delete(map, key)`
#[inline]
pub fn delete<V>(mut map: BTreeMap<String, V>, key: &str) -> BTreeMap<String, V> {
    map.remove(key);
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Item {
        sku: &'static str,
        quantity: u32,
    }

    fn item(sku: &'static str, quantity: u32) -> Item {
        Item { sku, quantity }
    }

    #[test]
    fn upsert_replaces_the_element_with_the_same_key_and_keeps_the_order() {
        let list = vec![item("a", 1), item("b", 2)];
        let list = upsert(list, item("a", 5), |i| &i.sku);
        assert_eq!(list, [item("a", 5), item("b", 2)]);
        let list = upsert(list, item("c", 1), |i| &i.sku);
        assert_eq!(list, [item("a", 5), item("b", 2), item("c", 1)]);
    }

    #[test]
    fn remove_drops_every_match() {
        let list = vec![item("a", 1), item("b", 2), item("a", 3)];
        assert_eq!(remove(list, |i| i.sku == "a"), [item("b", 2)]);
    }

    #[test]
    fn count_saturates() {
        assert_eq!(count(3), 3);
        assert_eq!(count(usize::MAX), u32::MAX);
    }

    #[test]
    fn maps_insert_and_delete() {
        let map = insert(BTreeMap::new(), "k".to_owned(), 1);
        assert_eq!(map.get("k"), Some(&1));
        assert!(delete(map, "k").is_empty());
    }

    #[test]
    fn require_names_the_rule_it_checked() {
        assert_eq!(require(true, "not done", "it is done"), Ok(()));
        let rejection = require(false, "not done", "it is done").unwrap_err();
        assert_eq!(rejection.reason(), "it is done");
        assert_eq!(
            rejection.cause(),
            Some(&crate::Cause::Rule("not done".into()))
        );
        let overflow = require_checked(|| Some(i64::MAX.checked_add(1)? > 0), "x + 1 > 0", "r");
        assert!(overflow.unwrap_err().reason().contains("overflow"));
    }
}
