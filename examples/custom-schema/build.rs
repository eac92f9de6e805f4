fn main() -> Result<(), insights_events_codegen::Error> {
    insights_events_codegen::compile("schemas")
}
