//! What a provider function implements (protocol 6.5+): `provider::<name>::<function>(…)`
//! in Terraform 1.8+ and OpenTofu 1.7+. Arguments arrive decoded, of the declared types.

use crate::schema::Type;
use crate::value::Value;

pub struct Parameter {
    pub name: String,
    pub ty: Type,
    pub description: String,
}

/// A function's signature and documentation.
pub struct Signature {
    pub summary: String,
    pub description: String,
    pub parameters: Vec<Parameter>,
    /// A last parameter that takes any number of arguments (none included).
    pub variadic: Option<Parameter>,
    pub returns: Type,
}

impl Signature {
    pub fn new(summary: &str, description: &str, returns: Type) -> Signature {
        Signature {
            summary: summary.into(),
            description: description.into(),
            parameters: Vec::new(),
            variadic: None,
            returns,
        }
    }

    /// Arguments past the fixed parameters, each of type `ty`, arrive after them.
    pub fn variadic(mut self, name: &str, ty: Type, description: &str) -> Self {
        self.variadic = Some(Parameter {
            name: name.into(),
            ty,
            description: description.into(),
        });
        self
    }

    pub fn parameter(mut self, name: &str, ty: Type, description: &str) -> Self {
        self.parameters.push(Parameter {
            name: name.into(),
            ty,
            description: description.into(),
        });
        self
    }
}

/// Why a call failed, and which argument (0-based) was at fault when one was.
#[derive(Debug, PartialEq)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<usize>,
}

impl FunctionError {
    pub fn at(argument: usize, text: impl Into<String>) -> FunctionError {
        FunctionError {
            text: text.into(),
            argument: Some(argument),
        }
    }
}

pub trait Function: Send + Sync {
    /// The name after `provider::<provider>::`.
    fn name(&self) -> &'static str;

    fn signature(&self) -> Signature;

    /// Called with known, non-null arguments (the CLI checks them against the signature).
    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError>;
}
