#!/usr/bin/env bash
# The demo: a real terraform apply of examples/ssm-transit-gateway against the local testbed,
# then a plan that must show no changes, then destroy, which must leave exactly the objects
# that were there before (scripts/leftovers.py lists them). TF=<path to tofu> runs it with
# OpenTofu (make demo-tofu).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/testbed.sh up
trap 'bash "$root/scripts/testbed.sh" down' EXIT
source .testbed/env
tgw=$(python3 -c 'import json,sys,urllib.request as u; r=u.urlopen(u.Request(sys.argv[1] + "/_testbed/seed", data=b"{\"region\":\"us-west-2\"}", method="POST")); print(json.load(r)["transit_gateway_id"])' "$AWS_ENDPOINT_URL")
work=$(mktemp -d)
# `source = "local/eks"` is registry.terraform.io/local/eks to Terraform and
# registry.opentofu.org/local/eks to OpenTofu: the mirror holds both.
for host in registry.terraform.io registry.opentofu.org; do
  mirror="$work/mirror/$host/local/eks/0.1.0/linux_amd64"
  mkdir -p "$mirror"
  cp target/debug/terraform-provider-eks "$mirror/terraform-provider-eks_v0.1.0"
done
mkdir -p "$work/run"
cat >"$work/tf.rc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/local/*", "registry.opentofu.org/local/*"]
  }
  direct { exclude = ["registry.terraform.io/local/*", "registry.opentofu.org/local/*"] }
}
RC
cp examples/ssm-transit-gateway/main.tf "$work/run/"
export TF_CLI_CONFIG_FILE="$work/tf.rc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
tf="${TF:-$root/.tools/bin/terraform-1.15.5}"
$tf version
python3 "$root/scripts/leftovers.py" "$AWS_ENDPOINT_URL" >"$work/before"
cd "$work/run"
$tf init -input=false </dev/null
start=$(date +%s.%N)
$tf apply -auto-approve -input=false -var "vpc_gateway_id=$tgw" </dev/null
echo "apply took $(python3 -c "import time; print(round(time.time() - $start, 2))") s"
set +e
$tf plan -detailed-exitcode -input=false -var "vpc_gateway_id=$tgw" </dev/null
code=$?
set -e
[ "$code" -eq 0 ] || { echo "FAIL: plan after apply exited $code, expected 0 (no changes)"; exit 1; }
$tf destroy -auto-approve -input=false -var "vpc_gateway_id=$tgw" </dev/null
python3 "$root/scripts/leftovers.py" "$AWS_ENDPOINT_URL" >"$work/after"
if ! diff -u "$work/before" "$work/after"; then
  echo "FAIL: destroy left the objects above (+) behind"
  exit 1
fi
echo "demo OK: apply, no-change plan, destroy, and $(wc -l <"$work/after") objects before and after: nothing left behind"
