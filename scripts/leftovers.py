"""Prints every object the testbed holds that the provider can create (EC2, IAM, EKS, Roles
Anywhere, SSM), one per line, sorted, from the testbed's inventory (the same list the Rust leak
checks compare): the demo compares it before apply and after destroy."""
import json
import sys
import urllib.request

endpoint = sys.argv[1]
region = sys.argv[2] if len(sys.argv) > 2 else "us-west-2"
inventory = json.load(urllib.request.urlopen(f"{endpoint}/_testbed/inventory?region={region}"))
print("\n".join(inventory["objects"]))
