//! Typed models over wire values. A resource declares its model once with [`object!`]: the
//! struct, its conversion to and from [`Value`], its schema block and its attribute names all
//! come from that one declaration, so an attribute's name is written once.
//!
//! Terraform sends three kinds of value for an attribute: null, unknown (known only at apply)
//! and known. A field is `Unknown<T>` when it may be unknown, `Option<T>` when it may be null,
//! and `Unknown<Option<T>>` when it may be either.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::diag::AttrPath;
use crate::value::{Number, Value};

/// A value that may be known only at apply.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Unknown<T> {
    Known(T),
    #[default]
    Unknown,
}

impl<T> Unknown<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Unknown::Known(v) => Some(v),
            Unknown::Unknown => None,
        }
    }

    pub fn known_mut(&mut self) -> Option<&mut T> {
        match self {
            Unknown::Known(v) => Some(v),
            Unknown::Unknown => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Unknown::Known(v) => Some(v),
            Unknown::Unknown => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Unknown::Unknown)
    }

    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    pub fn as_ref(&self) -> Unknown<&T> {
        match self {
            Unknown::Known(v) => Unknown::Known(v),
            Unknown::Unknown => Unknown::Unknown,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Unknown<U> {
        match self {
            Unknown::Known(v) => Unknown::Known(f(v)),
            Unknown::Unknown => Unknown::Unknown,
        }
    }
}

impl<T> Unknown<Option<T>> {
    /// Known and not null.
    pub fn value(&self) -> Option<&T> {
        self.known().and_then(Option::as_ref)
    }

    pub fn value_mut(&mut self) -> Option<&mut T> {
        self.known_mut().and_then(Option::as_mut)
    }

    /// Known to be null.
    pub fn is_null(&self) -> bool {
        matches!(self, Unknown::Known(None))
    }

    pub fn null() -> Self {
        Unknown::Known(None)
    }

    pub fn some(v: T) -> Self {
        Unknown::Known(Some(v))
    }

    /// Sets `v` when known to be null; unknown and known values stay.
    pub fn or_default_to(&mut self, v: T) {
        if self.is_null() {
            *self = Unknown::Known(Some(v));
        }
    }

    /// Unknown when null: for a computed attribute that apply will fill.
    pub fn or_unknown(&mut self) {
        if self.is_null() {
            *self = Unknown::Unknown;
        }
    }
}

impl<T> From<Option<T>> for Unknown<Option<T>> {
    fn from(v: Option<T>) -> Self {
        Unknown::Known(v)
    }
}

/// The known elements of a configurable list whose elements may each be unknown at plan
/// (unknown ones are skipped; null or unknown lists give none).
pub fn known_elements<T: Clone>(v: &Unknown<Option<Vec<Unknown<T>>>>) -> Vec<T> {
    v.value()
        .map(|items| items.iter().filter_map(|x| x.known().cloned()).collect())
        .unwrap_or_default()
}

/// The known entries of a configurable map whose values may each be unknown at plan.
pub fn known_entries<T: Clone>(
    v: &Unknown<Option<BTreeMap<String, Unknown<T>>>>,
) -> BTreeMap<String, T> {
    v.value()
        .map(|m| {
            m.iter()
                .filter_map(|(k, x)| Some((k.clone(), x.known()?.clone())))
                .collect()
        })
        .unwrap_or_default()
}

/// Why a wire value does not fit its model, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelError {
    pub path: AttrPath,
    pub expected: &'static str,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: expected {}", self.path, self.expected)
    }
}

impl std::error::Error for ModelError {}

pub type ModelResult<T> = Result<T, ModelError>;

fn mismatch<T>(path: &AttrPath, expected: &'static str) -> ModelResult<T> {
    Err(ModelError {
        path: path.clone(),
        expected,
    })
}

/// Reads a typed value from a wire value at `path` (the path names a failure).
pub trait FromValue: Sized {
    fn from_value(v: &Value, path: &AttrPath) -> ModelResult<Self>;
}

/// Writes a typed value as a wire value.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

impl FromValue for String {
    fn from_value(v: &Value, path: &AttrPath) -> ModelResult<Self> {
        match v {
            Value::String(s) => Ok(s.clone()),
            _ => mismatch(path, "a known string"),
        }
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}

impl FromValue for bool {
    fn from_value(v: &Value, path: &AttrPath) -> ModelResult<Self> {
        v.as_bool()
            .map_or_else(|| mismatch(path, "a known bool"), Ok)
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl FromValue for i64 {
    fn from_value(v: &Value, path: &AttrPath) -> ModelResult<Self> {
        match v {
            Value::Number(_) => v
                .as_i64()
                .map_or_else(|| mismatch(path, "a whole number"), Ok),
            _ => mismatch(path, "a known number"),
        }
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Number(Number::Int(*self))
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value, path: &AttrPath) -> ModelResult<Self> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v, path).map(Some),
        }
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl<T: FromValue> FromValue for Unknown<T> {
    fn from_value(v: &Value, path: &AttrPath) -> ModelResult<Self> {
        match v {
            Value::Unknown => Ok(Unknown::Unknown),
            v => T::from_value(v, path).map(Unknown::Known),
        }
    }
}

impl<T: ToValue> ToValue for Unknown<T> {
    fn to_value(&self) -> Value {
        match self {
            Unknown::Known(v) => v.to_value(),
            Unknown::Unknown => Value::Unknown,
        }
    }
}

/// Lists and sets (and nested blocks of either nesting).
impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: &Value, path: &AttrPath) -> ModelResult<Self> {
        match v {
            Value::List(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| T::from_value(item, &path.index(i)))
                .collect(),
            _ => mismatch(path, "a list"),
        }
    }
}

impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(ToValue::to_value).collect())
    }
}

/// A map attribute whose keys parse as `K` (a plain `String`, or an enum of keys).
impl<K, V> FromValue for BTreeMap<K, V>
where
    K: FromStr + Ord,
    V: FromValue,
{
    fn from_value(v: &Value, path: &AttrPath) -> ModelResult<Self> {
        let Value::Map(entries) = v else {
            return mismatch(path, "a map");
        };
        entries
            .iter()
            .map(|(k, item)| {
                let at = path.key(k);
                let key = k.parse().or_else(|_| mismatch(&at, "a known map key"))?;
                Ok((key, V::from_value(item, &at)?))
            })
            .collect()
    }
}

impl<K: fmt::Display, V: ToValue> ToValue for BTreeMap<K, V> {
    fn to_value(&self) -> Value {
        Value::Map(
            self.iter()
                .map(|(k, v)| (k.to_string(), v.to_value()))
                .collect(),
        )
    }
}

/// A single nested block (`max_items = 1`), which the protocol sends as a list of at most one.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct One<T>(pub Option<T>);

impl<T: FromValue> FromValue for One<T> {
    fn from_value(v: &Value, path: &AttrPath) -> ModelResult<Self> {
        match v {
            Value::Null => Ok(One(None)),
            Value::List(items) if items.len() <= 1 => items
                .first()
                .map(|item| T::from_value(item, &path.index(0)))
                .transpose()
                .map(One),
            _ => mismatch(path, "at most one block"),
        }
    }
}

impl<T: ToValue> ToValue for One<T> {
    fn to_value(&self) -> Value {
        Value::List(self.0.iter().map(ToValue::to_value).collect())
    }
}

impl<T> One<T> {
    pub fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }

    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.0.as_mut()
    }
}

/// A model that is an object: the fields of a block and, for a resource, its whole state.
pub trait Object: FromValue + ToValue {
    /// The schema block the model's declaration describes.
    fn schema_block() -> crate::schema::Block;
}

/// The schema block of a nested-block field's element type (`One<T>`, `Vec<T>`, behind
/// `Unknown` when a `dynamic` block may leave the whole block unknown).
pub trait BlockField {
    fn element_block() -> crate::schema::Block;
}

impl<T: Object> BlockField for One<T> {
    fn element_block() -> crate::schema::Block {
        T::schema_block()
    }
}

impl<T: Object> BlockField for Vec<T> {
    fn element_block() -> crate::schema::Block {
        T::schema_block()
    }
}

impl<T: BlockField> BlockField for Unknown<T> {
    fn element_block() -> crate::schema::Block {
        T::element_block()
    }
}

/// Declares a model: a struct whose fields are attributes (`#[attr(<Attribute builder>)]`),
/// nested blocks (`#[block(<NestedBlock builder>)]`) or another model's fields inlined
/// (`#[flatten]`). The field's name is the attribute's name; the builders carry its type
/// words, description, flags, default, replacement rule and validators.
///
/// It derives [`FromValue`], [`ToValue`] and [`Object`], and an associated `&str` constant
/// per field named like the field (`Cluster::name == "name"`) for attribute paths.
#[macro_export]
macro_rules! object {
    (
        $(#[doc = $doc:literal])*
        $(#[derive($($derive:ident),*)])?
        $vis:vis struct $name:ident {
            $(
                #[$kind:ident $(($($spec:tt)*))?]
                $fvis:vis $field:ident : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, PartialEq $($(, $derive)*)?)]
        $vis struct $name {
            $( $fvis $field: $ty, )*
        }

        // Not every name is needed as a path: unused ones are fine.
        #[allow(non_upper_case_globals, dead_code)]
        impl $name {
            $( $crate::object!(@name $kind $field); )*
        }

        impl $crate::model::FromValue for $name {
            fn from_value(
                v: &$crate::Value,
                path: &$crate::AttrPath,
            ) -> $crate::model::ModelResult<Self> {
                if !matches!(v, $crate::Value::Map(_)) {
                    return Err($crate::model::ModelError {
                        path: path.clone(),
                        expected: "an object",
                    });
                }
                Ok($name {
                    $( $field: $crate::object!(@read $kind $field, $ty, v, path), )*
                })
            }
        }

        impl $crate::model::ToValue for $name {
            fn to_value(&self) -> $crate::Value {
                let mut out = ::std::collections::BTreeMap::new();
                $( $crate::object!(@write $kind $field, self, out); )*
                $crate::Value::Map(out)
            }
        }

        impl $crate::model::Object for $name {
            fn schema_block() -> $crate::schema::Block {
                let b = $crate::schema::Block::new(&$crate::schema::doc_text(&[$($doc),*]));
                $( let b = $crate::object!(@schema $kind $field, $ty, b $(, $($spec)*)?); )*
                b
            }
        }
    };

    (@name attr $field:ident) => {
        pub const $field: &'static str = stringify!($field);
    };
    (@name block $field:ident) => {
        pub const $field: &'static str = stringify!($field);
    };
    (@name flatten $field:ident) => {};

    (@read flatten $field:ident, $ty:ty, $v:ident, $path:ident) => {
        <$ty as $crate::model::FromValue>::from_value($v, $path)?
    };
    (@read $kind:ident $field:ident, $ty:ty, $v:ident, $path:ident) => {
        <$ty as $crate::model::FromValue>::from_value(
            $v.get(stringify!($field)),
            &$path.attr(stringify!($field)),
        )?
    };

    (@write flatten $field:ident, $self:ident, $out:ident) => {
        if let $crate::Value::Map(inner) = $crate::model::ToValue::to_value(&$self.$field) {
            $out.extend(inner);
        }
    };
    (@write $kind:ident $field:ident, $self:ident, $out:ident) => {
        $out.insert(
            stringify!($field).to_string(),
            $crate::model::ToValue::to_value(&$self.$field),
        );
    };

    (@schema attr $field:ident, $ty:ty, $b:ident, $($spec:tt)*) => {
        $b.attribute(($($spec)*).named(stringify!($field)))
    };
    (@schema block $field:ident, $ty:ty, $b:ident, $($spec:tt)*) => {
        $b.block(
            ($($spec)*)
                .named(stringify!($field))
                .of(<$ty as $crate::model::BlockField>::element_block()),
        )
    };
    (@schema flatten $field:ident, $ty:ty, $b:ident) => {
        $b.inline(<$ty as $crate::model::Object>::schema_block())
    };
}

/// Reads a model from a whole object value (a request's config, plan or state).
pub fn read<T: FromValue>(v: &Value) -> ModelResult<T> {
    T::from_value(v, &AttrPath::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock, Type};

    crate::object! {
        /// Where it lives.
        pub struct Place {
            #[attr(Attribute::string("The CIDR.").optional().computed())]
            pub cidr: Unknown<Option<String>>,
            #[attr(Attribute::of(Type::list_of_strings(), "Zones.").optional())]
            pub zones: Unknown<Option<Vec<String>>>,
        }
    }

    crate::object! {
        /// What the user writes.
        pub struct Settings {
            #[attr(Attribute::string("Its name.").required().requires_replace())]
            pub name: Unknown<String>,
            #[attr(Attribute::of(Type::Bool, "Public?").optional().computed().default(Value::Bool(true)))]
            pub public: Unknown<Option<bool>>,
            #[block(NestedBlock::list().items(0, 1))]
            pub place: Unknown<One<Place>>,
        }
    }

    crate::object! {
        /// Settings and what only the service knows.
        pub struct State {
            #[flatten]
            pub settings: Settings,
            #[attr(Attribute::string("Its ID.").computed())]
            pub id: Unknown<Option<String>>,
            #[attr(Attribute::of(Type::map_of_strings(), "Parts.").computed())]
            pub parts: Unknown<Option<BTreeMap<String, String>>>,
        }
    }

    fn wire() -> Value {
        let mut place = Value::Map(BTreeMap::new());
        place.set("cidr", Value::Unknown);
        place.set("zones", Value::string_list(["a", "b"]));
        let mut v = Value::Map(BTreeMap::new());
        v.set("name", Value::string("demo"));
        v.set("public", Value::Null);
        v.set("place", Value::List(vec![place]));
        v.set("id", Value::Unknown);
        v.set("parts", Value::string_map([("vpc/1", "ok")]));
        v
    }

    #[test]
    fn a_declared_model_reads_and_writes_the_wire_value_unchanged() {
        let s: State = read(&wire()).unwrap();
        assert_eq!(s.settings.name, Unknown::Known("demo".to_string()));
        assert!(s.settings.public.is_null());
        let place = s.settings.place.known().unwrap().get().unwrap();
        assert!(place.cidr.is_unknown());
        assert_eq!(
            place.zones.value().unwrap(),
            &vec!["a".to_string(), "b".into()]
        );
        assert!(s.id.is_unknown());
        assert_eq!(s.to_value(), wire());
    }

    #[test]
    fn names_and_schema_come_from_the_declaration() {
        assert_eq!(Settings::name, "name");
        assert_eq!(Place::zones, "zones");
        let b = State::schema_block();
        let names: Vec<&str> = b.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["name", "public", "id", "parts"]);
        assert!(b.find_attribute("name").unwrap().requires_replace);
        assert_eq!(
            b.find_attribute("public").unwrap().default,
            Some(Value::Bool(true))
        );
        let place = b.find_block("place").unwrap();
        assert_eq!((place.min_items, place.max_items), (0, 1));
        assert_eq!(place.block.description, "Where it lives.");
        assert!(place.block.find_attribute("cidr").unwrap().computed);
    }

    #[test]
    fn a_mismatch_names_its_path() {
        let mut v = wire();
        v.set("name", Value::Bool(true));
        let e = read::<State>(&v).unwrap_err();
        assert_eq!(e.to_string(), "name: expected a known string");
        let mut v = wire();
        v.set(
            "place",
            Value::List(vec![Value::Map(BTreeMap::new()), Value::Null]),
        );
        assert_eq!(
            read::<State>(&v).unwrap_err().to_string(),
            "place: expected at most one block"
        );
    }

    #[test]
    fn a_wholly_unknown_block_and_unknown_or_null_helpers() {
        let mut v = wire();
        v.set("place", Value::Unknown);
        let s: State = read(&v).unwrap();
        assert!(s.settings.place.is_unknown());
        let mut cidr: Unknown<Option<String>> = Unknown::null();
        cidr.or_default_to("10.0.0.0/16".into());
        assert_eq!(cidr.value().map(String::as_str), Some("10.0.0.0/16"));
        let mut id: Unknown<Option<String>> = None.into();
        id.or_unknown();
        assert!(id.is_unknown());
    }
}
