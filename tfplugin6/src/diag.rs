//! Diagnostics with attribute paths, as Terraform shows them next to the configuration line.

#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Attr(String),
    Index(i64),
    Key(String),
}

/// A path to an attribute, such as `remote_network_config[0].iam[0].provider`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttrPath(pub Vec<Step>);

impl AttrPath {
    pub fn root(name: &str) -> AttrPath {
        AttrPath(vec![Step::Attr(name.to_string())])
    }

    pub fn attr(&self, name: &str) -> AttrPath {
        let mut steps = self.0.clone();
        steps.push(Step::Attr(name.to_string()));
        AttrPath(steps)
    }

    pub fn index(&self, i: usize) -> AttrPath {
        let mut steps = self.0.clone();
        steps.push(Step::Index(i as i64));
        AttrPath(steps)
    }

    pub fn key(&self, k: &str) -> AttrPath {
        let mut steps = self.0.clone();
        steps.push(Step::Key(k.to_string()));
        AttrPath(steps)
    }
}

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Step::Attr(a) if i == 0 => write!(f, "{a}")?,
                Step::Attr(a) => write!(f, ".{a}")?,
                Step::Index(n) => write!(f, "[{n}]")?,
                Step::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttrPath>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary.into(), detail.into(), None);
    }

    pub fn error_at(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Error, summary.into(), detail.into(), Some(path));
    }

    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary.into(), detail.into(), None);
    }

    pub fn warning_at(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Warning, summary.into(), detail.into(), Some(path));
    }

    fn push(
        &mut self,
        severity: Severity,
        summary: String,
        detail: String,
        path: Option<AttrPath>,
    ) {
        self.0.push(Diagnostic {
            severity,
            summary,
            detail,
            path,
        });
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_and_convert_with_index_and_key() {
        let p = AttrPath::root("remote_network_config")
            .index(0)
            .attr("remote_node_networks")
            .index(0)
            .attr("cidrs")
            .index(2);
        assert_eq!(
            p.to_string(),
            "remote_network_config[0].remote_node_networks[0].cidrs[2]"
        );
        assert_eq!(
            AttrPath::root("tags").key("team").to_string(),
            r#"tags["team"]"#
        );
    }

    #[test]
    fn errors_and_warnings_are_told_apart() {
        let mut d = Diagnostics::default();
        d.warning("w", "");
        assert!(!d.has_errors());
        d.error_at(AttrPath::root("name"), "bad", "detail");
        assert!(d.has_errors());
        assert_eq!(d.0[0].severity, Severity::Warning);
        assert_eq!(d.0[1].severity, Severity::Error);
        assert!(d.0[1].path.is_some());
    }
}
