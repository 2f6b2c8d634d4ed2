//! One DEBUG line per AWS call attempt, from the provider itself: service, operation, HTTP
//! status and AWS's request ID. The SDK's own DEBUG and TRACE events carry request and
//! response payloads and are kept out of the log (`tfplugin6::logging`); this line carries
//! names and IDs only.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Debug)]
pub struct CallLog;

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map_or(("?", "?"), |m| (m.service(), m.name()));
        let response = context.response();
        let status = response.map_or(0, |r| r.status().as_u16());
        let request_id = response
            .and_then(|r| {
                ["x-amzn-requestid", "x-amz-request-id"]
                    .iter()
                    .find_map(|h| r.headers().get(*h))
            })
            .unwrap_or("-");
        tracing::debug!(service, operation, status, request_id, "aws call");
        Ok(())
    }
}
