//! `make release` end to end: the registry-layout files are there and consistent, and a real
//! `terraform init` and `tofu init` each install the provider from the filesystem mirror it
//! writes, checking the zip's hash, then `validate` runs it. The suite packages the debug build it already has
//! (`RELEASE_BINARY`): the layout is what is tested, and `make release` alone builds the
//! optimised binary.

mod common;

use std::process::Command;

use common::{MIRROR_HOSTS, TF_NEW, TOFU};

fn sha256(path: &std::path::Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn make_release_packages_for_the_registry_and_a_filesystem_mirror() {
    let repo = common::repo();
    let out_dir = tempfile::tempdir().unwrap();
    let dist = out_dir.path().join("dist");
    let out = Command::new("bash")
        .arg(repo.join("scripts/release.sh"))
        .env("NAMESPACE", "example")
        .env(
            "RELEASE_BINARY",
            env!("CARGO_BIN_EXE_terraform-provider-eks"),
        )
        .env("DIST", &dist)
        .output()
        .expect("run release.sh");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let version = env!("CARGO_PKG_VERSION");
    let zip = dist.join(format!("terraform-provider-eks_{version}_linux_amd64.zip"));
    let manifest = dist.join(format!("terraform-provider-eks_{version}_manifest.json"));
    let sums =
        std::fs::read_to_string(dist.join(format!("terraform-provider-eks_{version}_SHA256SUMS")))
            .expect("SHA256SUMS");

    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(m["version"], 1);
    assert_eq!(
        m["metadata"]["protocol_versions"],
        serde_json::json!(["6.0"])
    );
    for file in [&zip, &manifest] {
        let line = format!(
            "{}  {}",
            sha256(file),
            file.file_name().unwrap().to_string_lossy()
        );
        assert!(
            sums.lines().any(|l| l == line),
            "{line} not in SHA256SUMS:\n{sums}"
        );
    }
    let listing = Command::new("unzip")
        .arg("-Z1")
        .arg(&zip)
        .output()
        .expect("unzip");
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout).trim(),
        format!("terraform-provider-eks_v{version}")
    );

    for tool in [TF_NEW, TOFU] {
        init_from_the_mirror(tool, &dist.join("mirror"), version);
    }
    let size = std::fs::metadata(&zip).unwrap().len() as f64 / 1e6;
    println!("zip of the packaged (debug) build {size:.1} MB, installed by terraform init and tofu init from the mirror");
}

/// A real init from the mirror by `tool`, with nothing else reachable, then validate.
fn init_from_the_mirror(tool: &str, mirror: &std::path::Path, version: &str) {
    let work = tempfile::tempdir().unwrap();
    let rc = work.path().join("tf.rc");
    let include = MIRROR_HOSTS
        .map(|h| format!("\"{h}/example/eks\""))
        .join(", ");
    std::fs::write(
        &rc,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n    include = [{include}]\n  }}\n  direct {{ exclude = [{include}] }}\n}}\n",
            mirror.display()
        ),
    )
    .unwrap();
    std::fs::write(
        work.path().join("main.tf"),
        format!("terraform {{\n  required_providers {{\n    eks = {{ source = \"example/eks\", version = \"{version}\" }}\n  }}\n}}\nprovider \"eks\" {{\n  region = \"us-west-2\"\n}}\n"),
    )
    .unwrap();
    let cli = common::repo().join(".tools/bin").join(tool);
    let run = |args: &[&str]| {
        let out = Command::new(&cli)
            .args(args)
            .current_dir(work.path())
            .env("TF_CLI_CONFIG_FILE", &rc)
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .expect("run the CLI");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{tool} {args:?}:\n{text}");
        text
    };
    let init = run(&["init", "-input=false", "-no-color"]);
    assert!(
        init.contains(&format!("Installed example/eks v{version}")),
        "{tool}: {init}"
    );
    let lock = std::fs::read_to_string(work.path().join(".terraform.lock.hcl")).unwrap();
    assert!(
        lock.contains("zh:") || lock.contains("h1:"),
        "{tool}: {lock}"
    );
    run(&["validate", "-no-color"]);
}
