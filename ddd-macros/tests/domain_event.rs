//! What `#[derive(DomainEvent)]` does: stable names and schema versions, the payload codec
//! (including serde renames), upcasting, and dispatch to `apply_<variant>` methods.

use ddd_core::__private::EventVariants;
use ddd_core::{CodecError, DomainEvent, Payload};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(version = 2)]
pub enum AccountEvent {
    Opened {
        owner: String,
    },
    #[event(rename = "MoneyDeposited", version = 3, upcast = upcast_deposited)]
    Deposited {
        amount: i64,
        currency: String,
    },
    #[event(version = 1)]
    Withdrawn(i64),
    Frozen(String, u32),
    Closed,
}

/// v1 had no currency; v2 called the amount `cents`.
fn upcast_deposited(from: u32, mut payload: Payload) -> Result<Payload, String> {
    let object = payload.as_object_mut().ok_or("not an object")?;
    if from < 2 {
        object.insert("currency".into(), json!("EUR"));
    } else if let Some(cents) = object.remove("cents") {
        object.insert("amount".into(), cents);
    }
    if object.get("amount").is_some_and(|amount| !amount.is_i64()) {
        return Err("amount is not a whole number".into());
    }
    Ok(payload)
}

fn round_trip<E: DomainEvent + PartialEq>(event: &E) -> Payload {
    let payload = event.encode().unwrap();
    let decoded = E::decode(event.event_type(), event.schema_version(), payload.clone()).unwrap();
    assert_eq!(decoded.as_ref(), Some(event), "{payload}");
    payload
}

#[test]
fn names_and_versions_per_variant() {
    let deposited = AccountEvent::Deposited {
        amount: 5,
        currency: "EUR".into(),
    };
    assert_eq!(deposited.event_type(), "MoneyDeposited");
    assert_eq!(deposited.schema_version(), 3);
    assert_eq!(
        AccountEvent::Opened {
            owner: "Ada".into()
        }
        .schema_version(),
        2
    );
    assert_eq!(AccountEvent::Withdrawn(1).schema_version(), 1);
    assert_eq!(
        AccountEvent::event_types(),
        ["Opened", "MoneyDeposited", "Withdrawn", "Frozen", "Closed"]
    );
    assert_eq!(
        AccountEvent::event_type_of_variant("Deposited"),
        Some("MoneyDeposited")
    );
    assert_eq!(
        AccountEvent::event_type_of_variant("Closed"),
        Some("Closed")
    );
    assert_eq!(AccountEvent::event_type_of_variant("MoneyDeposited"), None);
}

#[test]
fn every_variant_shape_round_trips_without_its_tag() {
    assert_eq!(
        round_trip(&AccountEvent::Opened {
            owner: "Ada".into()
        }),
        json!({"owner": "Ada"})
    );
    assert_eq!(
        round_trip(&AccountEvent::Deposited {
            amount: 5,
            currency: "EUR".into()
        }),
        json!({"amount": 5, "currency": "EUR"})
    );
    assert_eq!(round_trip(&AccountEvent::Withdrawn(7)), json!(7));
    assert_eq!(
        round_trip(&AccountEvent::Frozen("audit".into(), 3)),
        json!(["audit", 3])
    );
    assert_eq!(round_trip(&AccountEvent::Closed), json!(null));
}

#[test]
fn older_payloads_are_upcast_on_decode() {
    let v1 = AccountEvent::decode("MoneyDeposited", 1, json!({"amount": 5})).unwrap();
    let v2 =
        AccountEvent::decode("MoneyDeposited", 2, json!({"cents": 5, "currency": "USD"})).unwrap();
    assert_eq!(
        v1,
        Some(AccountEvent::Deposited {
            amount: 5,
            currency: "EUR".into()
        })
    );
    assert_eq!(
        v2,
        Some(AccountEvent::Deposited {
            amount: 5,
            currency: "USD".into()
        })
    );
}

#[test]
fn a_failing_upcast_is_a_codec_error() {
    let err = AccountEvent::decode("MoneyDeposited", 1, json!({"amount": "five"})).unwrap_err();
    match err {
        CodecError::Upcast {
            event_type,
            from,
            message,
        } => {
            assert_eq!(
                (event_type.as_str(), from, message.as_str()),
                ("MoneyDeposited", 1, "amount is not a whole number")
            );
        }
        other => panic!("expected an upcast error, got {other:?}"),
    }
}

#[test]
fn without_an_upcaster_older_payloads_decode_as_they_are() {
    let opened = AccountEvent::decode("Opened", 1, json!({"owner": "Ada"})).unwrap();
    assert_eq!(
        opened,
        Some(AccountEvent::Opened {
            owner: "Ada".into()
        })
    );
}

#[test]
fn newer_payloads_are_refused() {
    let err = AccountEvent::decode("Opened", 3, json!({"owner": "Ada"})).unwrap_err();
    assert!(
        matches!(&err, CodecError::FutureVersion { event_type, found: 3, known: 2 } if event_type == "Opened"),
        "{err:?}"
    );
}

#[test]
fn unknown_names_are_not_ours() {
    assert!(
        AccountEvent::decode("Deposited", 3, json!({}))
            .unwrap()
            .is_none()
    );
    assert!(
        AccountEvent::decode("Nope", 1, json!(null))
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_payload_of_the_wrong_shape_is_a_serde_error() {
    let err = AccountEvent::decode("Opened", 2, json!({"owner": 5})).unwrap_err();
    assert!(
        matches!(&err, CodecError::Serde { event_type, .. } if event_type == "Opened"),
        "{err:?}"
    );
}

// serde's renames change the key serde expects; the stable names stay the derive's.

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[serde(rename_all = "snake_case")]
pub enum CustomerEvent {
    Registered {
        name: String,
    },
    #[serde(rename = "email-changed")]
    EmailChanged {
        email: String,
    },
    #[event(rename = "Left")]
    LeftForGood,
    r#Type(u8),
}

#[test]
fn serde_renames_are_honoured() {
    let registered = CustomerEvent::Registered { name: "Ada".into() };
    assert_eq!(registered.event_type(), "Registered");
    round_trip(&registered);
    round_trip(&CustomerEvent::EmailChanged {
        email: "a@b.c".into(),
    });
    round_trip(&CustomerEvent::LeftForGood);
    round_trip(&CustomerEvent::Type(1));
    assert_eq!(CustomerEvent::LeftForGood.event_type(), "Left");
    assert_eq!(CustomerEvent::Type(1).event_type(), "Type");
    assert_eq!(
        CustomerEvent::decode("EmailChanged", 1, json!({"email": "x"})).unwrap(),
        Some(CustomerEvent::EmailChanged { email: "x".into() })
    );
}

// A struct is one event type.

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(name = "PriceChanged", version = 2, upcast = PriceChanged::upcast)]
pub struct PriceChanged {
    sku: String,
    cents: u64,
}

impl PriceChanged {
    fn upcast(from: u32, payload: Payload) -> Result<Payload, String> {
        assert_eq!(from, 1);
        let euros = payload["euros"].as_u64().ok_or("no euros")?;
        Ok(json!({"sku": payload["sku"], "cents": euros * 100}))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct Pinged;

#[test]
fn struct_events_are_one_type() {
    let event = PriceChanged {
        sku: "A-1".into(),
        cents: 250,
    };
    assert_eq!(
        (event.event_type(), event.schema_version()),
        ("PriceChanged", 2)
    );
    assert_eq!(PriceChanged::event_types(), ["PriceChanged"]);
    assert_eq!(round_trip(&event), json!({"sku": "A-1", "cents": 250}));
    assert_eq!(
        PriceChanged::decode("PriceChanged", 1, json!({"sku": "A-1", "euros": 3})).unwrap(),
        Some(PriceChanged {
            sku: "A-1".into(),
            cents: 300
        })
    );
    assert!(matches!(
        PriceChanged::decode("PriceChanged", 1, json!({"sku": "A-1"})),
        Err(CodecError::Upcast { from: 1, .. })
    ));
    assert!(matches!(
        PriceChanged::decode("PriceChanged", 3, json!({})),
        Err(CodecError::FutureVersion {
            found: 3,
            known: 2,
            ..
        })
    ));
    assert!(
        PriceChanged::decode("Other", 1, json!({}))
            .unwrap()
            .is_none()
    );
    assert_eq!(Pinged.event_type(), "Pinged");
    round_trip(&Pinged);
}

// `aggregate = T` dispatches each variant to `T::apply_<variant>` with its fields by
// reference.

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Ledger)]
pub enum LedgerEvent {
    EntryPosted { account: String, amount: i64 },
    Reversed(u32, String),
    HTTPImported,
}

#[derive(Debug, Default)]
pub struct Ledger {
    calls: Vec<String>,
}

impl Ledger {
    fn apply_entry_posted(&mut self, account: &str, amount: &i64) {
        self.calls.push(format!("posted {account} {amount}"));
    }

    fn apply_reversed(&mut self, entry: &u32, reason: &str) {
        self.calls.push(format!("reversed {entry} {reason}"));
    }

    fn apply_http_imported(&mut self) {
        self.calls.push("imported".into());
    }
}

#[test]
fn dispatch_calls_the_variant_appliers_in_field_order() {
    use ddd_core::DispatchEvent as _;
    let mut ledger = Ledger::default();
    LedgerEvent::EntryPosted {
        account: "cash".into(),
        amount: -3,
    }
    .dispatch(&mut ledger);
    LedgerEvent::Reversed(7, "typo".into()).dispatch(&mut ledger);
    LedgerEvent::HTTPImported.dispatch(&mut ledger);
    assert_eq!(
        ledger.calls,
        ["posted cash -3", "reversed 7 typo", "imported"]
    );
}
