//! The fixed events of the caller cost instruments (`benches/caller.rs`,
//! `src/bin/send_cost.rs`): four query shapes and four request ids.

/// ORM-style queries, quoted identifiers included (the worker escapes them).
pub const QUERIES: [&str; 4] = [
    "SELECT \"users\".* FROM \"users\" WHERE \"users\".\"id\" = %s LIMIT 1",
    "SELECT COUNT(*) FROM \"orders\" WHERE \"orders\".\"account_id\" = %s AND \"orders\".\"state\" = %s",
    "UPDATE \"sessions\" SET \"last_seen_at\" = %s WHERE \"sessions\".\"id\" = %s",
    "INSERT INTO \"events\" (\"kind\", \"payload\", \"created_at\") VALUES (%s, %s, %s)",
];

/// UUID request ids.
pub const REQUEST_IDS: [&str; 4] = [
    "1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a",
    "7c1e0a52-9d43-4b8e-a1f0-3e5d2c6b9a71",
    "b2d4f6a8-1c3e-4a5b-8c7d-9e0f1a2b3c4d",
    "e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9",
];
