//! Terraform values as they cross the wire: msgpack (with unknown and refined-unknown
//! extensions) for every RPC, JSON for stored state handed to UpgradeResourceState.
//!
//! The codec is untyped: objects and maps are both `Value::Map`, lists, sets and tuples are all
//! `Value::List`. Terraform decodes what we send against the schema, so this loses nothing.

use std::collections::BTreeMap;

/// cty encodes an unknown value as msgpack extension 0; Terraform 1.3+ may send a "refined"
/// unknown (extension 12) carrying facts about the future value. Both decode as unknown.
const UNKNOWN_EXT: i8 = 0;
const REFINED_UNKNOWN_EXT: i8 = 12;

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

/// A number kept exactly as received: integers stay integers, floats stay floats, and cty's
/// string form for numbers beyond i64/f64 precision stays a decimal string.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    UInt(u64),
    Float(f64),
    Decimal(String),
}

#[derive(Debug, PartialEq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot decode value: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn opt_string(s: Option<impl Into<String>>) -> Value {
        s.map_or(Value::Null, |s| Value::String(s.into()))
    }

    pub fn string_list<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
    }

    pub fn string_map<I, K, V>(items: I) -> Value
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Value::Map(
            items
                .into_iter()
                .map(|(k, v)| (k.into(), Value::String(v.into())))
                .collect(),
        )
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when neither this value nor anything nested in it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(entries) => entries.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// The same value with every unknown, at any depth, made null: what a state must be
    /// once apply is done.
    pub fn without_unknowns(self) -> Value {
        match self {
            Value::Unknown => Value::Null,
            Value::List(items) => {
                Value::List(items.into_iter().map(Value::without_unknowns).collect())
            }
            Value::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, v.without_unknowns()))
                    .collect(),
            ),
            other => other,
        }
    }

    /// Attribute of an object; null when absent or when `self` is not an object.
    pub fn get(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Map(entries) => entries.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match self {
            Value::Map(entries) => entries.get_mut(key),
            _ => None,
        }
    }

    pub fn set(&mut self, key: &str, value: Value) {
        if let Value::Map(entries) = self {
            entries.insert(key.to_string(), value);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(Number::Int(i)) => Some(*i),
            Value::Number(Number::UInt(u)) => i64::try_from(*u).ok(),
            Value::Number(Number::Float(f)) if f.fract() == 0.0 => Some(*f as i64),
            Value::Number(Number::Decimal(s)) | Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> &[Value] {
        match self {
            Value::List(items) => items,
            _ => &[],
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The only element of a single-item nested block encoded as a list, or null.
    pub fn first(&self) -> &Value {
        static NULL: Value = Value::Null;
        self.as_list().first().unwrap_or(&NULL)
    }

    /// Known strings of a list or set; unknown or null elements are skipped.
    pub fn strings(&self) -> Vec<String> {
        self.as_list()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    pub fn to_msgpack(&self) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &self.to_rmpv())
            .expect("writing msgpack to a Vec cannot fail");
        out
    }

    pub fn from_msgpack(bytes: &[u8]) -> Result<Value, DecodeError> {
        let mut reader = bytes;
        let raw = rmpv::decode::read_value(&mut reader).map_err(|e| DecodeError(e.to_string()))?;
        if !reader.is_empty() {
            return Err(DecodeError(format!("{} trailing bytes", reader.len())));
        }
        Value::from_rmpv(raw)
    }

    pub fn from_json(bytes: &[u8]) -> Result<Value, DecodeError> {
        let raw: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| DecodeError(e.to_string()))?;
        Ok(Value::from_serde_json(raw))
    }

    fn to_rmpv(&self) -> rmpv::Value {
        match self {
            Value::Null => rmpv::Value::Nil,
            Value::Unknown => rmpv::Value::Ext(UNKNOWN_EXT, Vec::new()),
            Value::Bool(b) => rmpv::Value::Boolean(*b),
            Value::Number(Number::Int(i)) => rmpv::Value::from(*i),
            Value::Number(Number::UInt(u)) => rmpv::Value::from(*u),
            Value::Number(Number::Float(f)) => rmpv::Value::F64(*f),
            Value::Number(Number::Decimal(s)) | Value::String(s) => rmpv::Value::from(s.as_str()),
            Value::List(items) => rmpv::Value::Array(items.iter().map(Value::to_rmpv).collect()),
            Value::Map(entries) => rmpv::Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (rmpv::Value::from(k.as_str()), v.to_rmpv()))
                    .collect(),
            ),
        }
    }

    fn from_rmpv(raw: rmpv::Value) -> Result<Value, DecodeError> {
        Ok(match raw {
            rmpv::Value::Nil => Value::Null,
            rmpv::Value::Boolean(b) => Value::Bool(b),
            rmpv::Value::Integer(i) => match (i.as_i64(), i.as_u64()) {
                (Some(i), _) => Value::Number(Number::Int(i)),
                (None, Some(u)) => Value::Number(Number::UInt(u)),
                _ => return Err(DecodeError("integer out of range".into())),
            },
            rmpv::Value::F32(f) => Value::Number(Number::Float(f64::from(f))),
            rmpv::Value::F64(f) => Value::Number(Number::Float(f)),
            rmpv::Value::String(s) => match s.into_str() {
                Some(s) => Value::String(s),
                None => return Err(DecodeError("string is not UTF-8".into())),
            },
            rmpv::Value::Binary(_) => return Err(DecodeError("unexpected binary".into())),
            rmpv::Value::Array(items) => Value::List(
                items
                    .into_iter()
                    .map(Value::from_rmpv)
                    .collect::<Result<_, _>>()?,
            ),
            rmpv::Value::Map(entries) => {
                let mut map = BTreeMap::new();
                for (k, v) in entries {
                    let key = match k {
                        rmpv::Value::String(s) => s
                            .into_str()
                            .ok_or_else(|| DecodeError("map key is not UTF-8".into()))?,
                        other => {
                            return Err(DecodeError(format!("map key {other} is not a string")))
                        }
                    };
                    map.insert(key, Value::from_rmpv(v)?);
                }
                Value::Map(map)
            }
            rmpv::Value::Ext(UNKNOWN_EXT | REFINED_UNKNOWN_EXT, _) => Value::Unknown,
            rmpv::Value::Ext(kind, _) => {
                return Err(DecodeError(format!("unsupported msgpack extension {kind}")))
            }
        })
    }

    fn from_serde_json(raw: serde_json::Value) -> Value {
        match raw {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(if let Some(i) = n.as_i64() {
                Number::Int(i)
            } else if let Some(u) = n.as_u64() {
                Number::UInt(u)
            } else {
                Number::Float(n.as_f64().unwrap_or(f64::NAN))
            }),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => {
                Value::List(items.into_iter().map(Value::from_serde_json).collect())
            }
            serde_json::Value::Object(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, Value::from_serde_json(v)))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: &Value) -> Value {
        Value::from_msgpack(&v.to_msgpack()).unwrap()
    }

    #[test]
    fn scalars_round_trip_exactly() {
        for v in [
            Value::Null,
            Value::Bool(true),
            Value::Number(Number::Int(-42)),
            Value::Number(Number::Int(i64::MIN)),
            Value::Number(Number::Int(i64::MAX)),
            Value::Number(Number::UInt(u64::MAX)),
            Value::Number(Number::Float(1.5)),
            Value::Number(Number::Float(0.1)),
            Value::string("héllo"),
        ] {
            assert_eq!(round_trip(&v), v);
        }
    }

    #[test]
    fn nested_structures_with_nulls_and_unknowns_round_trip() {
        let v = Value::Map(BTreeMap::from([
            (
                "a".to_string(),
                Value::List(vec![Value::Null, Value::Unknown]),
            ),
            (
                "b".to_string(),
                Value::Map(BTreeMap::from([("c".to_string(), Value::Null)])),
            ),
            ("d".to_string(), Value::List(vec![])),
        ]));
        assert_eq!(round_trip(&v), v);
        assert!(!v.is_wholly_known());
    }

    #[test]
    fn unknown_is_extension_zero() {
        assert_eq!(Value::Unknown.to_msgpack(), vec![0xc7, 0x00, 0x00]);
        // fixext1 type 0, as Go's msgpack writes it
        assert_eq!(
            Value::from_msgpack(&[0xd4, 0x00, 0x00]).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn refined_unknown_decodes_as_unknown() {
        // ext 12 carrying a msgpack map of refinements {1: true} (not null)
        let bytes = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3];
        assert_eq!(Value::from_msgpack(&bytes).unwrap(), Value::Unknown);
    }

    #[test]
    fn other_extensions_and_trailing_bytes_are_errors() {
        assert!(Value::from_msgpack(&[0xd4, 0x05, 0x00]).is_err());
        assert!(Value::from_msgpack(&[0xc0, 0xc0]).is_err());
        assert!(Value::from_msgpack(&[0x81]).is_err());
    }

    #[test]
    fn json_state_decodes_numbers_exactly() {
        let v = Value::from_json(br#"{"n": 9007199254740993, "f": 1.5, "l": ["x"], "z": null}"#)
            .unwrap();
        assert_eq!(v.get("n"), &Value::Number(Number::Int(9007199254740993)));
        assert_eq!(v.get("f"), &Value::Number(Number::Float(1.5)));
        assert_eq!(v.get("l").strings(), vec!["x"]);
        assert!(v.get("z").is_null());
        assert!(v.get("missing").is_null());
    }

    #[test]
    fn numbers_as_decimal_strings_convert() {
        assert_eq!(Value::string("25").as_i64(), Some(25));
        assert_eq!(Value::Number(Number::Float(3.0)).as_i64(), Some(3));
        assert_eq!(Value::Number(Number::Float(3.5)).as_i64(), None);
    }
}

#[cfg(test)]
mod fuzz {
    //! Seeded random inputs: the decoder must never panic, and every value we can build must
    //! survive an encode/decode round trip unchanged.
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random_value(rng: &mut rand::rngs::StdRng, depth: u32) -> Value {
        let leaf = depth == 0 || rng.random_bool(0.4);
        match rng.random_range(0..if leaf { 6 } else { 8 }) {
            0 => Value::Null,
            1 => Value::Unknown,
            2 => Value::Bool(rng.random()),
            3 => Value::Number(match rng.random_range(0..3) {
                0 => Number::Int(rng.random()),
                1 => Number::UInt(rng.random_range(i64::MAX as u64 + 1..=u64::MAX)),
                _ => Number::Float(rng.random_range(-1e12..1e12)),
            }),
            4 | 5 => Value::String(
                (0..rng.random_range(0..12))
                    .map(|_| rng.random_range('!'..='~'))
                    .collect(),
            ),
            6 => Value::List(
                (0..rng.random_range(0..5))
                    .map(|_| random_value(rng, depth - 1))
                    .collect(),
            ),
            _ => Value::Map(
                (0..rng.random_range(0..5))
                    .map(|i| (format!("k{i}"), random_value(rng, depth - 1)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn random_values_round_trip() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..5000 {
            let v = random_value(&mut rng, 4);
            assert_eq!(Value::from_msgpack(&v.to_msgpack()).unwrap(), v);
        }
    }

    #[test]
    fn random_and_mutated_bytes_never_panic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut decoded = 0;
        for _ in 0..20000 {
            let mut bytes = if rng.random_bool(0.5) {
                random_value(&mut rng, 3).to_msgpack()
            } else {
                (0..rng.random_range(0..64)).map(|_| rng.random()).collect()
            };
            if !bytes.is_empty() && rng.random_bool(0.7) {
                let i = rng.random_range(0..bytes.len());
                bytes[i] = rng.random();
                let cut = rng.random_range(0..=bytes.len());
                bytes.truncate(cut);
            }
            decoded += usize::from(Value::from_msgpack(&bytes).is_ok());
        }
        assert!(
            decoded > 1000,
            "the generator also produces valid input ({decoded})"
        );
    }
}
