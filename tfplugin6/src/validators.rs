//! Single-attribute checks declared on the schema. Each runs on the attribute's known,
//! non-null value at `terraform validate` and again at plan, and describes itself for the
//! docs. Rules that relate several attributes belong to the resource's `validate`.

use crate::diag::{AttrPath, Diagnostics};
use crate::value::Value;

pub trait Validator: Send + Sync {
    /// How the docs state the rule ("One of `API`, `API_AND_CONFIG_MAP`.").
    fn description(&self) -> String;
    fn validate(&self, value: &Value, path: &AttrPath, d: &mut Diagnostics);
}

/// One of the given strings.
pub struct OneOf {
    allowed: &'static [&'static str],
    summary: &'static str,
}

/// The value must be one of `allowed`; `summary` heads the error ("Invalid NAT gateway mode").
pub fn one_of(summary: &'static str, allowed: &'static [&'static str]) -> OneOf {
    OneOf { allowed, summary }
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Validator for OneOf {
    fn description(&self) -> String {
        let items: Vec<String> = self.allowed.iter().map(|s| format!("`{s}`")).collect();
        format!("One of {}.", items.join(", "))
    }

    fn validate(&self, value: &Value, path: &AttrPath, d: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if !self.allowed.contains(&s) {
            d.error_at(
                path.clone(),
                self.summary,
                format!("{s:?} is not one of {}.", quoted_list(self.allowed)),
            );
        }
    }
}

/// A whole number within `min..=max`.
pub struct IntBetween {
    min: i64,
    max: i64,
    summary: &'static str,
    /// The error's wording for the value given (None: not a whole number).
    saying: Option<fn(Option<i64>) -> String>,
}

pub fn int_between(summary: &'static str, min: i64, max: i64) -> IntBetween {
    IntBetween {
        min,
        max,
        summary,
        saying: None,
    }
}

impl IntBetween {
    /// Words the error in the service's or the provider's terms.
    pub fn saying(mut self, detail: fn(Option<i64>) -> String) -> IntBetween {
        self.saying = Some(detail);
        self
    }
}

impl Validator for IntBetween {
    fn description(&self) -> String {
        format!("From {} to {}.", self.min, self.max)
    }

    fn validate(&self, value: &Value, path: &AttrPath, d: &mut Diagnostics) {
        let n = value.as_i64();
        if n.is_some_and(|n| (self.min..=self.max).contains(&n)) {
            return;
        }
        let detail = match self.saying {
            Some(say) => say(n),
            None => format!("Must be a whole number from {} to {}.", self.min, self.max),
        };
        d.error_at(path.clone(), self.summary, detail);
    }
}

/// A rule written as a function of a string value, with its description for the docs.
pub struct StringRule {
    description: &'static str,
    check: fn(&str, &AttrPath, &mut Diagnostics),
}

pub fn string_rule(
    description: &'static str,
    check: fn(&str, &AttrPath, &mut Diagnostics),
) -> StringRule {
    StringRule { description, check }
}

impl Validator for StringRule {
    fn description(&self) -> String {
        self.description.to_string()
    }

    fn validate(&self, value: &Value, path: &AttrPath, d: &mut Diagnostics) {
        if let Some(s) = value.as_str() {
            (self.check)(s, path, d);
        }
    }
}

/// A rule written as a function of a wholly known list or set, with its description.
pub struct ListRule {
    description: &'static str,
    check: fn(&[Value], &AttrPath, &mut Diagnostics),
}

pub fn list_rule(
    description: &'static str,
    check: fn(&[Value], &AttrPath, &mut Diagnostics),
) -> ListRule {
    ListRule { description, check }
}

impl Validator for ListRule {
    fn description(&self) -> String {
        self.description.to_string()
    }

    fn validate(&self, value: &Value, path: &AttrPath, d: &mut Diagnostics) {
        if value.is_wholly_known() {
            (self.check)(value.as_list(), path, d);
        }
    }
}

/// A validator applied to each known element of a list or set, at the element's path.
pub struct Each<V>(pub V);

pub fn each<V: Validator>(v: V) -> Each<V> {
    Each(v)
}

impl<V: Validator> Validator for Each<V> {
    fn description(&self) -> String {
        format!("Each element: {}", self.0.description())
    }

    fn validate(&self, value: &Value, path: &AttrPath, d: &mut Diagnostics) {
        for (i, item) in value.as_list().iter().enumerate() {
            if item.is_wholly_known() && !item.is_null() {
                self.0.validate(item, &path.index(i), d);
            }
        }
    }
}

/// Runs the validators of `block`'s attributes and nested blocks over `value`, an object of
/// that block's shape. Unknown and null values are left for plan or are the resource's to
/// judge.
pub fn validate_block(
    block: &crate::schema::Block,
    value: &Value,
    path: &AttrPath,
    d: &mut Diagnostics,
) {
    for a in &block.attributes {
        let v = value.get(&a.name);
        if v.is_null() || v.is_unknown() {
            continue;
        }
        let at = path.attr(&a.name);
        for validator in &a.validators {
            validator.validate(v, &at, d);
        }
    }
    for b in &block.blocks {
        for (i, item) in value.get(&b.name).as_list().iter().enumerate() {
            validate_block(&b.block, item, &path.attr(&b.name).index(i), d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, Block, NestedBlock, Type};

    fn run(v: &impl Validator, value: Value) -> Diagnostics {
        let mut d = Diagnostics::default();
        v.validate(&value, &AttrPath::root("x"), &mut d);
        d
    }

    #[test]
    fn one_of_names_the_choices() {
        let v = one_of("Invalid mode", &["API", "API_AND_CONFIG_MAP"]);
        assert!(!run(&v, Value::string("API")).has_errors());
        let d = run(&v, Value::string("api"));
        assert_eq!(
            d.0[0].detail,
            r#""api" is not one of "API", "API_AND_CONFIG_MAP"."#
        );
        assert_eq!(v.description(), "One of `API`, `API_AND_CONFIG_MAP`.");
    }

    #[test]
    fn ranges_in_general_or_in_a_service_s_words() {
        let v = int_between("Invalid limit", 1, 1000);
        let d = run(&v, Value::Number(crate::value::Number::Int(0)));
        assert_eq!(d.0[0].detail, "Must be a whole number from 1 to 1000.");
        assert!(!run(&v, Value::Number(crate::value::Number::Int(1000))).has_errors());
        let v = v.saying(|n| format!("{n:?} nodes is outside 1 to 1000."));
        let d = run(&v, Value::Number(crate::value::Number::Int(1001)));
        assert_eq!(d.0[0].detail, "Some(1001) nodes is outside 1 to 1000.");
        assert_eq!(v.description(), "From 1 to 1000.");
    }

    #[test]
    fn a_block_is_validated_attribute_by_attribute_with_paths() {
        let inner = Block::new("i").attribute(
            Attribute::of(Type::list_of_strings(), "ids")
                .named("ids")
                .validator(each(string_rule("Starts with sg-.", |s, p, d| {
                    if !s.starts_with("sg-") {
                        d.error_at(p.clone(), "Bad ID", s.to_string());
                    }
                }))),
        );
        let block = Block::new("root")
            .attribute(
                Attribute::string("m")
                    .named("mode")
                    .validator(one_of("Bad", &["A"])),
            )
            .block(NestedBlock::list().named("vpc").of(inner));
        let mut v = block.null_object();
        v.set("mode", Value::Unknown);
        let mut vpc = Value::Map(Default::default());
        vpc.set(
            "ids",
            Value::List(vec![
                Value::string("sg-1"),
                Value::string("x"),
                Value::Unknown,
            ]),
        );
        v.set("vpc", Value::List(vec![vpc]));
        let mut d = Diagnostics::default();
        validate_block(&block, &v, &AttrPath::default(), &mut d);
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].path.as_ref().unwrap().to_string(), "vpc[0].ids[1]");
    }
}
