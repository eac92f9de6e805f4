//! The types generated from this crate's own schemas, used as a user would.

use insights_events::{TypedEvent, SCHEMAS as LIBRARY_SCHEMAS};
use insights_events_example_custom_schema::events::myapp::{SignupCompleted, SignupCompletedPlan};
use insights_events_example_custom_schema::events::orders::OrderPlaced;
use insights_events_example_custom_schema::events::{AnyEvent, SCHEMAS};

/// `schemas/myapp/signup.completed.schema.json` became a type with no other
/// change. (Moved from the library's tests/typed_events.rs with the schema;
/// `seats` is now a plain `i64` and the enum's message speaks JSON.)
#[test]
fn added_schema_file_gives_a_new_type() {
    let v = r#"{"event_type":"signup.completed","user_id":"u_1","plan":"pro","referrer":null,"seats":3}"#;
    let s = match AnyEvent::from_json_str(v).unwrap() {
        AnyEvent::SignupCompleted(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(s.plan, SignupCompletedPlan::Pro);
    assert_eq!(s.referrer, None);
    assert_eq!(s.seats, Some(3));
    let e =
        AnyEvent::from_json_str(r#"{"event_type":"signup.completed","user_id":"u","plan":"gold"}"#)
            .unwrap_err()
            .to_string();
    assert_eq!(
        e,
        r#"field "plan": expected one of "free", "pro", "enterprise", found "gold""#
    );
    let e = AnyEvent::from_json_str(
        r#"{"event_type":"signup.completed","user_id":"u","plan":"pro","seats":0}"#,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        r#"field "seats": expected a number of at least 1, found 0"#
    );
    let built = SignupCompleted::new("u_2", SignupCompletedPlan::Free)
        .referrer("https://example.com")
        .trial(true);
    assert!(matches!(
        AnyEvent::from(built.clone()),
        AnyEvent::SignupCompleted(_)
    ));
    assert!(SCHEMAS
        .iter()
        .any(|s| s.namespace == "myapp" && s.type_name == "SignupCompleted"));
    assert!(matches!(
        built.send(),
        Err(insights_events::SendError::NoGlobalClient)
    ));
    // A schema without a `request_id` field reads it from `extra`.
    let mut s2 = SignupCompleted::new("u", SignupCompletedPlan::Pro);
    s2.extra.insert(
        "request_id".into(),
        insights_events::__private::serde_json::json!("x"),
    );
    assert_eq!(s2.request_id_str(), Some("x"));
}

/// The demo schemas are this crate's, not the library's.
#[test]
fn the_library_does_not_carry_the_demo_schema() {
    assert!(LIBRARY_SCHEMAS.iter().all(|s| s.namespace != "myapp"));
    let names: Vec<&str> = SCHEMAS.iter().map(|s| s.name).collect();
    assert_eq!(names, ["myapp/signup.completed", "orders/order.placed"]);
}

/// `minimum: 1` is a plain integer: `.items(3)` compiles, and the bound is
/// checked where events are validated.
#[test]
fn bounded_integers_are_plain_and_checked() {
    let o = OrderPlaced::new("o_1", 3);
    assert_eq!(o.items, 3i64);
    let e = AnyEvent::from_json_str(r#"{"event_type":"order.placed","order_id":"o","items":0}"#)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        r#"field "items": expected a number of at least 1, found 0"#
    );
    let e = AnyEvent::from_json_str(r#"{"event_type":"order.placed","order_id":"o","items":"3"}"#)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        r#"field "items": invalid type: string "3", expected an integer"#
    );
}
