//! Resource identity (protocol 6.9+): the attributes that name one remote object for good.
//! Terraform 1.12+ and OpenTofu 1.12+ store it beside the state and accept it in
//! `import { identity = { … } }`; older CLIs never ask.

use crate::schema::Type;
use crate::value::Value;

pub struct IdentityAttribute {
    pub name: String,
    pub ty: Type,
    /// Must be given to import; otherwise the provider can supply it.
    pub required_for_import: bool,
    pub description: String,
}

#[derive(Default)]
pub struct IdentitySchema {
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    pub fn new() -> IdentitySchema {
        IdentitySchema::default()
    }

    /// A string the user must give to import.
    pub fn required(self, name: &str, description: &str) -> Self {
        self.string(name, description, true)
    }

    /// A string the provider fills when the user leaves it out.
    pub fn optional(self, name: &str, description: &str) -> Self {
        self.string(name, description, false)
    }

    fn string(mut self, name: &str, description: &str, required_for_import: bool) -> Self {
        self.attributes.push(IdentityAttribute {
            name: name.into(),
            ty: Type::String,
            required_for_import,
            description: description.into(),
        });
        self
    }

    /// `value` with every attribute present (null where missing), as the CLIs decode it.
    pub fn conform(&self, value: &Value) -> Value {
        Value::Map(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), value.get(&a.name).clone()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conform_fills_every_attribute_and_drops_others() {
        let s = IdentitySchema::new()
            .required("name", "n")
            .optional("region", "r");
        let mut v = Value::Map(Default::default());
        v.set("name", Value::string("a"));
        v.set("extra", Value::string("x"));
        let c = s.conform(&v);
        assert_eq!(c.get("name"), &Value::string("a"));
        assert_eq!(c.get("region"), &Value::Null);
        assert_eq!(c.get("extra"), &Value::Null);
        assert!(matches!(&c, Value::Map(m) if m.len() == 2));
    }
}
