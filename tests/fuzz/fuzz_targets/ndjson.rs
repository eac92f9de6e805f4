//! The NDJSON line checker of the `insights-events` command (`validate`,
//! `send`, `receive`): any input, split into lines, gives each line a verdict
//! (valid event or a clear reason) without panicking; every valid line
//! serializes and parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;

use insights_events::check;

fuzz_target!(|data: &[u8]| {
    for line in data.split(|b| *b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        for allow_unknown in [false, true] {
            let opts = check::Options { allow_unknown };
            match check::check_line(line, opts) {
                Ok(ev) => {
                    let text = serde_json::to_string(&ev).expect("a valid event serializes");
                    let again = check::check_line(text.as_bytes(), opts).expect("a serialized event is valid");
                    assert_eq!(serde_json::to_value(&ev).unwrap(), serde_json::to_value(&again).unwrap());
                }
                Err(invalid) => {
                    let msg = invalid.to_string();
                    assert!(!msg.is_empty());
                }
            }
        }
    }
});
