//! Parse any bytes as an event; whatever parses must serialize and parse
//! back to the same value.
#![no_main]

use insights_events::AnyEvent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(ev) = serde_json::from_slice::<AnyEvent>(data) else { return };
    let text = serde_json::to_string(&ev).expect("a parsed event serializes");
    let again: AnyEvent = serde_json::from_str(&text).expect("a serialized event parses");
    // `null` in an optional field and an absent field are the same value.
    let a = serde_json::to_value(&ev).unwrap();
    let b = serde_json::to_value(&again).unwrap();
    assert_eq!(a, b, "round trip changed the event: {text}");
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = AnyEvent::from_json_str(s);
    }
});
