//! moto makes NAT gateways and transit gateway attachments available, and deletes them, at
//! once; AWS takes a minute or two each way. With `ec2_settle_ms` set, the testbed shows them
//! `pending` after creation and `deleting` after deletion for that long, by rewriting moto's
//! Describe answers, so waiters and the critical-path benchmark see realistic transitions.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::moto::xml_values;

/// (ID tag, state while settling after create, state moto reports when done)
fn kinds(operation: &str) -> Option<(&'static str, &'static str, &'static str)> {
    match operation {
        "CreateNatGateway" | "DeleteNatGateway" | "DescribeNatGateways" => {
            Some(("natGatewayId", "pending", "available"))
        }
        "CreateTransitGatewayVpcAttachment"
        | "DeleteTransitGatewayVpcAttachment"
        | "DescribeTransitGatewayVpcAttachments" => {
            Some(("transitGatewayAttachmentId", "pending", "available"))
        }
        _ => None,
    }
}

#[derive(Default)]
pub struct Settling {
    /// ID -> (since, shown state, state moto reports that it stands in for)
    objects: HashMap<String, (Instant, &'static str, &'static str)>,
}

impl Settling {
    /// Notes a create or delete from moto's answer (create) or the request (delete).
    pub fn observe(&mut self, operation: &str, request: &[(String, String)], response: &str) {
        let Some((id_tag, pending, available)) = kinds(operation) else {
            return;
        };
        if operation.starts_with("Create") {
            if let Some(id) = xml_values(response, id_tag).into_iter().next() {
                self.objects
                    .insert(id, (Instant::now(), pending, available));
            }
        } else if operation.starts_with("Delete") {
            let param = if id_tag == "natGatewayId" {
                "NatGatewayId"
            } else {
                "TransitGatewayAttachmentId"
            };
            if let Some((_, id)) = request.iter().find(|(k, _)| k == param) {
                self.objects
                    .insert(id.clone(), (Instant::now(), "deleting", "deleted"));
            }
        }
    }

    /// Rewrites the state of each object still settling in a Describe answer.
    pub fn rewrite(&mut self, operation: &str, settle: Duration, xml: String) -> String {
        let Some((id_tag, ..)) = kinds(operation) else {
            return xml;
        };
        if !operation.starts_with("Describe") {
            return xml;
        }
        self.objects
            .retain(|_, (since, ..)| since.elapsed() < settle);
        let mut xml = xml;
        for (id, (_, shown, real)) in &self.objects {
            let marker = format!("<{id_tag}>{id}</{id_tag}>");
            let Some(at) = xml.find(&marker) else {
                continue;
            };
            let from = format!("<state>{real}</state>");
            if let Some(offset) = xml[at..].find("<state>") {
                let start = at + offset;
                if xml[start..].starts_with(&from) {
                    xml.replace_range(
                        start..start + from.len(),
                        &format!("<state>{shown}</state>"),
                    );
                }
            }
        }
        xml
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_nat_gateway_is_pending_until_it_settles() {
        let mut s = Settling::default();
        s.observe(
            "CreateNatGateway",
            &[],
            "<natGateway><natGatewayId>nat-1</natGatewayId><state>available</state></natGateway>",
        );
        let answer = "<item><natGatewayId>nat-1</natGatewayId><state>available</state></item><item><natGatewayId>nat-2</natGatewayId><state>available</state></item>";
        let seen = s.rewrite(
            "DescribeNatGateways",
            Duration::from_secs(60),
            answer.into(),
        );
        assert_eq!(seen, answer.replacen("available", "pending", 1));
        let later = s.rewrite("DescribeNatGateways", Duration::ZERO, answer.into());
        assert_eq!(later, answer);
    }

    #[test]
    fn a_deleted_attachment_is_deleting_until_it_settles() {
        let mut s = Settling::default();
        s.observe(
            "DeleteTransitGatewayVpcAttachment",
            &[("TransitGatewayAttachmentId".into(), "tgw-attach-1".into())],
            "",
        );
        let answer = "<item><transitGatewayAttachmentId>tgw-attach-1</transitGatewayAttachmentId><state>deleted</state></item>";
        let seen = s.rewrite(
            "DescribeTransitGatewayVpcAttachments",
            Duration::from_secs(60),
            answer.into(),
        );
        assert!(seen.contains("<state>deleting</state>"), "{seen}");
    }
}
