"""Prints every object the testbed holds that the provider can create (EC2, IAM, EKS, Roles
Anywhere, SSM), one ID per line, sorted: the demo compares this before apply and after destroy."""
import json
import re
import sys
import urllib.request

endpoint = sys.argv[1]


def query(service, region, action, version):
    auth = f"AWS4-HMAC-SHA256 Credential=test/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
    req = urllib.request.Request(
        endpoint + "/",
        data=f"Action={action}&Version={version}".encode(),
        headers={"authorization": auth, "content-type": "application/x-www-form-urlencoded"},
    )
    return urllib.request.urlopen(req).read().decode()


def items(xml, id_tag, state_tag=None):
    ids = re.findall(f"<{id_tag}>([^<]+)</{id_tag}>", xml)
    if state_tag is None:
        return set(ids)
    states = re.findall(f"<{state_tag}>([^<]+)</{state_tag}>", xml)
    return {i for i, s in zip(ids, states) if s not in ("deleted", "deleting")}


ec2 = lambda action: query("ec2", "us-west-2", action, "2016-11-15")
found = set()
found |= items(ec2("DescribeVpcs"), "vpcId")
found |= items(ec2("DescribeSubnets"), "subnetId")
found |= items(ec2("DescribeInternetGateways"), "internetGatewayId")
found |= items(ec2("DescribeRouteTables"), "routeTableId")
found |= items(ec2("DescribeSecurityGroups"), "groupId")
found |= items(ec2("DescribeAddresses"), "allocationId")
found |= items(ec2("DescribeNatGateways"), "natGatewayId", "state")
found |= items(ec2("DescribeTransitGatewayVpcAttachments"), "transitGatewayAttachmentId", "state")
found |= items(query("iam", "us-east-1", "ListRoles", "2010-05-08"), "RoleName")
objects = json.load(urllib.request.urlopen(endpoint + "/_testbed/objects"))
for kind in ("clusters", "trust_anchors", "profiles", "activations"):
    found |= {f"{kind}:{v}" for v in objects[kind]}
found.add(f"access_entries:{objects['access_entries']}")
print("\n".join(sorted(found)))
