//! aws-testbed: a local AWS for tests. The server (`server`), its models of each service, and
//! the harness that starts it and talks to its control API from tests (`harness`).

#![forbid(unsafe_code)]

mod authz;
mod ec2;
mod eks;
pub mod harness;
mod http;
mod iam;
mod model;
mod moto;
mod policy;
mod ra;
pub mod server;
mod ssm;
pub mod state;
mod xml;
mod zones;
