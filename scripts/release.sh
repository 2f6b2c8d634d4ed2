#!/usr/bin/env bash
# Release packaging in the Terraform registry's layout, into dist/:
#   terraform-provider-eks_<version>_linux_amd64.zip   the binary as terraform-provider-eks_v<version>
#   terraform-provider-eks_<version>_manifest.json     protocol_versions ["6.0"]
#   terraform-provider-eks_<version>_SHA256SUMS        sha256 of the zip and the manifest
#   mirror/                                            a filesystem mirror (packed layout) for
#                                                      provider_installation { filesystem_mirror }
#                                                      under both hosts: `source = "<ns>/eks"` is
#                                                      registry.terraform.io/<ns>/eks to Terraform
#                                                      and registry.opentofu.org/<ns>/eks to OpenTofu
# NAMESPACE (default "local") sets the mirror's <host>/<namespace>/eks address.
# RELEASE_BINARY packages a binary already built instead of building the optimised one (the
# test suite packages its debug build: the layout is what it checks). DIST sets the output
# folder (default dist).
set -euo pipefail
cd "$(dirname "$0")/.."

name=terraform-provider-eks
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
namespace=${NAMESPACE:-local}
target=linux_amd64
dist=${DIST:-dist}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

binary=${RELEASE_BINARY:-}
if [ -z "$binary" ]; then
  cargo build --release --locked --bin "$name"
  binary="target/release/$name"
  # The tests' switches (Cargo feature test-hooks) never ship.
  if grep -q TF_EKS_TEST_PANIC "$binary"; then
    echo "$binary was built with the test-hooks feature; a release must not be" >&2
    exit 1
  fi
fi
rm -rf "$dist"
mkdir -p "$dist"
cp "$binary" "$stage/${name}_v${version}"
chmod 0755 "$stage/${name}_v${version}"

zip_name="${name}_${version}_${target}.zip"
# Python's zipfile keeps the build reproducible (fixed timestamp) and needs no zip package.
python3 - "$stage/${name}_v${version}" "$dist/$zip_name" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo(src.rsplit("/", 1)[1], date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(dst, "w") as z, open(src, "rb") as f:
    z.writestr(info, f.read())
PY

manifest="${name}_${version}_manifest.json"
printf '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["6.0"]\n  }\n}\n' > "$dist/$manifest"
(cd "$dist" && sha256sum "$zip_name" "$manifest" > "${name}_${version}_SHA256SUMS")

for host in registry.terraform.io registry.opentofu.org; do
  mkdir -p "$dist/mirror/$host/$namespace/eks"
  cp "$dist/$zip_name" "$dist/mirror/$host/$namespace/eks/"
done

echo "release $version in $dist/:"
(cd "$dist" && ls -l "$zip_name" "$manifest" "${name}_${version}_SHA256SUMS" && cat "${name}_${version}_SHA256SUMS")
echo "filesystem mirror: $dist/mirror (provider $namespace/eks $version for Terraform and OpenTofu)"
