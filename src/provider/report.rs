//! The domain's errors and advice as Terraform diagnostics, in one place for every kind.

use tfplugin6::Diagnostics;

use crate::aws::AwsError;
use crate::cluster::Advice;

/// Each error as "AWS error while <step>", with AWS's message and request ID.
pub fn report(errors: Vec<AwsError>, d: &mut Diagnostics) {
    for e in errors {
        d.error(format!("AWS error while {}", e.step()), e.detail());
    }
}

/// Advice as warnings.
pub fn advise(advice: impl IntoIterator<Item = Advice>, d: &mut Diagnostics) {
    for a in advice {
        d.warning(a.summary, a.detail);
    }
}
