//! A realistic `db.query` workload, shared by the benches and the
//! throughput and twins harnesses (`#[path]`-included, not a bench target of its own).
//!
//! Queries are drawn from 40 shapes (ORM-style, 60–230 bytes), each with
//! its own number of parameters; every event has a UUID-like request id
//! from a fast RNG (a new one every few events, as queries of one request
//! share it), a duration between 0.05 ms and ~40 ms, and params of mixed
//! types.

#![allow(dead_code)]

use serde_json::{json, Value};

/// splitmix64: fast, good enough for test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() >> 32) * n) >> 32
    }
    #[inline]
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `8-4-4-4-12` lowercase hex, version-4 style.
    pub fn uuid(&mut self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let a = self.next_u64();
        let b = self.next_u64();
        let mut out = [0u8; 36];
        let mut bits = [0u8; 32];
        for i in 0..16 {
            bits[i] = ((a >> (i * 4)) & 15) as u8;
            bits[16 + i] = ((b >> (i * 4)) & 15) as u8;
        }
        bits[12] = 4;
        bits[16] = 8 | (bits[16] & 3);
        let mut j = 0;
        for (i, o) in out.iter_mut().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                *o = b'-';
            } else {
                *o = HEX[bits[j] as usize];
                j += 1;
            }
        }
        String::from_utf8(out.to_vec()).expect("ascii")
    }
}

/// (query, number of `%s` parameters)
pub const SHAPES: [(&str, usize); 40] = [
    ("SELECT \"users\".* FROM \"users\" WHERE \"users\".\"id\" = %s LIMIT 1", 1),
    ("SELECT \"users\".* FROM \"users\" WHERE \"users\".\"email\" = %s LIMIT 1", 1),
    ("SELECT \"accounts\".* FROM \"accounts\" WHERE \"accounts\".\"id\" = %s LIMIT 1", 1),
    ("SELECT \"projects\".* FROM \"projects\" WHERE \"projects\".\"account_id\" = %s ORDER BY \"projects\".\"name\" ASC", 1),
    ("SELECT COUNT(*) FROM \"orders\" WHERE \"orders\".\"account_id\" = %s AND \"orders\".\"state\" = %s", 2),
    ("SELECT \"orders\".* FROM \"orders\" WHERE \"orders\".\"account_id\" = %s ORDER BY \"orders\".\"created_at\" DESC LIMIT %s OFFSET %s", 3),
    ("SELECT \"line_items\".* FROM \"line_items\" WHERE \"line_items\".\"order_id\" IN (%s, %s, %s, %s)", 4),
    ("SELECT \"products\".\"id\", \"products\".\"sku\", \"products\".\"price_cents\" FROM \"products\" WHERE \"products\".\"id\" = ANY(%s)", 1),
    ("SELECT 1 AS one FROM \"memberships\" WHERE \"memberships\".\"user_id\" = %s AND \"memberships\".\"project_id\" = %s LIMIT 1", 2),
    ("SELECT \"sessions\".* FROM \"sessions\" WHERE \"sessions\".\"token\" = %s AND \"sessions\".\"expires_at\" > %s LIMIT 1", 2),
    ("UPDATE \"sessions\" SET \"last_seen_at\" = %s WHERE \"sessions\".\"id\" = %s", 2),
    ("UPDATE \"users\" SET \"sign_in_count\" = %s, \"current_sign_in_at\" = %s, \"updated_at\" = %s WHERE \"users\".\"id\" = %s", 4),
    ("UPDATE \"orders\" SET \"state\" = %s, \"updated_at\" = %s WHERE \"orders\".\"id\" = %s", 3),
    ("INSERT INTO \"events\" (\"kind\", \"payload\", \"created_at\") VALUES (%s, %s, %s) RETURNING \"id\"", 3),
    ("INSERT INTO \"audit_logs\" (\"actor_id\", \"action\", \"target_type\", \"target_id\", \"created_at\") VALUES (%s, %s, %s, %s, %s)", 5),
    ("INSERT INTO \"line_items\" (\"order_id\", \"product_id\", \"quantity\", \"price_cents\") VALUES (%s, %s, %s, %s) RETURNING \"id\"", 4),
    ("DELETE FROM \"carts\" WHERE \"carts\".\"user_id\" = %s AND \"carts\".\"updated_at\" < %s", 2),
    ("DELETE FROM \"sessions\" WHERE \"sessions\".\"expires_at\" < %s", 1),
    ("SELECT \"notices\".* FROM \"notices\" WHERE \"notices\".\"fault_id\" = %s ORDER BY \"notices\".\"created_at\" DESC LIMIT %s", 2),
    ("SELECT \"faults\".* FROM \"faults\" WHERE \"faults\".\"project_id\" = %s AND \"faults\".\"resolved\" = %s ORDER BY \"faults\".\"last_notice_at\" DESC LIMIT %s", 3),
    ("SELECT \"deploys\".* FROM \"deploys\" WHERE \"deploys\".\"project_id\" = %s AND \"deploys\".\"environment\" = %s ORDER BY \"deploys\".\"created_at\" DESC LIMIT 1", 2),
    ("SELECT \"users\".\"id\", \"users\".\"name\" FROM \"users\" INNER JOIN \"memberships\" ON \"memberships\".\"user_id\" = \"users\".\"id\" WHERE \"memberships\".\"project_id\" = %s", 1),
    ("SELECT SUM(\"payments\".\"amount_cents\") FROM \"payments\" WHERE \"payments\".\"account_id\" = %s AND \"payments\".\"created_at\" BETWEEN %s AND %s", 3),
    ("SELECT \"invoices\".* FROM \"invoices\" WHERE \"invoices\".\"account_id\" = %s AND \"invoices\".\"status\" IN (%s, %s)", 3),
    ("SELECT \"settings\".\"value\" FROM \"settings\" WHERE \"settings\".\"key\" = %s LIMIT 1", 1),
    ("SELECT \"feature_flags\".* FROM \"feature_flags\" WHERE \"feature_flags\".\"name\" = %s", 1),
    ("SELECT \"tags\".\"name\" FROM \"tags\" INNER JOIN \"taggings\" ON \"tags\".\"id\" = \"taggings\".\"tag_id\" WHERE \"taggings\".\"taggable_id\" = %s AND \"taggings\".\"taggable_type\" = %s", 2),
    ("SELECT \"comments\".* FROM \"comments\" WHERE \"comments\".\"post_id\" = %s ORDER BY \"comments\".\"id\" ASC LIMIT %s", 2),
    ("SELECT \"posts\".* FROM \"posts\" WHERE \"posts\".\"published\" = %s ORDER BY \"posts\".\"published_at\" DESC LIMIT %s OFFSET %s", 3),
    ("SELECT pg_advisory_lock(%s)", 1),
    ("SELECT pg_advisory_unlock(%s)", 1),
    ("BEGIN", 0),
    ("COMMIT", 0),
    ("SAVEPOINT active_record_1", 0),
    ("RELEASE SAVEPOINT active_record_1", 0),
    ("SELECT \"schema_migrations\".\"version\" FROM \"schema_migrations\" ORDER BY \"schema_migrations\".\"version\" ASC", 0),
    ("SELECT \"jobs\".* FROM \"jobs\" WHERE \"jobs\".\"queue\" = %s AND \"jobs\".\"run_at\" <= %s AND \"jobs\".\"locked_at\" IS NULL ORDER BY \"jobs\".\"priority\" ASC LIMIT 1 FOR UPDATE SKIP LOCKED", 2),
    ("UPDATE \"jobs\" SET \"locked_at\" = %s, \"locked_by\" = %s WHERE \"jobs\".\"id\" = %s", 3),
    ("SELECT \"api_keys\".* FROM \"api_keys\" WHERE \"api_keys\".\"digest\" = %s AND \"api_keys\".\"revoked_at\" IS NULL LIMIT 1", 1),
    ("SELECT \"webhooks\".* FROM \"webhooks\" WHERE \"webhooks\".\"project_id\" = %s AND \"webhooks\".\"enabled\" = %s", 2),
];

const WORDS: [&str; 8] = [
    "active",
    "pending",
    "paid",
    "refunded",
    "alice@example.com",
    "production",
    "default",
    "Order",
];

/// The fields of one realistic `db.query` event.
#[derive(Clone, Debug)]
pub struct QueryData {
    pub query: &'static str,
    pub duration: f64,
    pub params: Value,
    pub request_id: String,
}

/// Generates the fields of successive events.
pub struct Workload {
    rng: Rng,
    request_id: String,
    left_in_request: u32,
}

impl Workload {
    pub fn new(seed: u64) -> Self {
        Workload {
            rng: Rng::new(seed),
            request_id: String::new(),
            left_in_request: 0,
        }
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// A fresh request id every 1–8 events.
    pub fn request_id(&mut self) -> &str {
        if self.left_in_request == 0 {
            self.request_id = self.rng.uuid();
            self.left_in_request = 1 + self.rng.below(8) as u32;
        }
        self.left_in_request -= 1;
        &self.request_id
    }

    pub fn params(&mut self, n: usize) -> Value {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(match self.rng.below(4) {
                0 | 1 => json!(self.rng.below(10_000_000)),
                2 => json!(WORDS[self.rng.below(WORDS.len() as u64) as usize]),
                _ => json!(self.rng.below(2) == 1),
            });
        }
        Value::Array(v)
    }

    /// (query, duration in ms, number of params)
    pub fn shape(&mut self) -> (&'static str, f64, usize) {
        let (q, n) = SHAPES[self.rng.below(SHAPES.len() as u64) as usize];
        // Mostly fast queries, a long tail.
        let u = self.rng.f64();
        let d = 0.05 + u * u * u * 40.0;
        (q, (d * 1e4).round() / 1e4, n)
    }

    pub fn next(&mut self) -> QueryData {
        let (query, duration, n) = self.shape();
        let params = self.params(n);
        let request_id = self.request_id().to_owned();
        QueryData {
            query,
            duration,
            params,
            request_id,
        }
    }
}
